"""The Entities view's logic: a filter and a sort as typed into the page, one page of documents by
keyset cursor (the client's own :class:`lumi.keyset.Pager` over the store), a document edited as
JSON turned into one update, and exports in the formats of ``lumi entities export``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from lumi.data.formats import FORMATS, write_records
from lumi.emulator.matcher import Document
from lumi.emulator.store import EntityStore, QueryError
from lumi.errors import LumiError
from lumi.keyset import Pager, Position
from lumi.sorting import SortPairs, sort_pairs

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
#: Top-level fields shown as columns (the rest are counted in the last column).
MAX_COLUMNS = 8
EXPORT_PAGE_SIZE = 500
#: Fields the store fills in; an edit may not change ``_id`` or ``creator``.
FIXED_FIELDS = ("_id", "creator")


class ConsoleInputError(Exception):
    """What the user typed cannot be used; the message says what and why (shown on the page)."""


def parse_json(text: str, what: str) -> Any:
    """``text`` as JSON, or ConsoleInputError naming ``what`` and the place of the mistake."""

    def refuse(name: str) -> Any:  # Python's json reads NaN and Infinity; JSON has neither
        raise ConsoleInputError(f"{what} is not valid JSON: {name} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise ConsoleInputError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ConsoleInputError(f"{what} is nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit bound
        raise ConsoleInputError(f"{what} is not usable JSON: {exc}") from None


def parse_filter(text: str) -> dict[str, Any]:
    """The filter box: empty for every document, else a JSON object (a MongoDB filter)."""
    if not text.strip():
        return {}
    value = parse_json(text, "the filter")
    if not isinstance(value, dict):
        raise ConsoleInputError('the filter must be a JSON object, like {"status": "open"}')
    return value


def parse_sort(text: str) -> SortPairs:
    """The sort box: ``-createdAt,title`` or ``{"createdAt": -1}``; empty for insertion order."""
    if not text.strip():
        return []
    value: Any = parse_json(text, "the sort") if text.lstrip().startswith("{") else text
    try:
        return sort_pairs(value)
    except LumiError as exc:
        raise ConsoleInputError(exc.message) from None


def page_size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or int(text) not in PAGE_SIZES:
        raise ConsoleInputError(f"the page size must be one of {', '.join(map(str, PAGE_SIZES))}")
    return int(text)


def encode_cursor(position: Position) -> str:
    raw = json.dumps(position.to_json(), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass
class DocumentPage:
    documents: list[Document]
    total: int
    """Matches of the filter, all pages."""
    first: int
    """The 1-based number of the first document of this page among the matches."""
    next_cursor: str | None
    columns: list[str]


def _fetcher(store: EntityStore, project: str, entity: str) -> Any:
    def fetch(
        filter: dict[str, Any], sort: dict[str, int], limit: int, skip: int
    ) -> tuple[list[dict[str, Any]], int]:
        try:
            return store.find(project, entity, filter, sort, limit, skip)
        except QueryError as exc:
            raise ConsoleInputError(str(exc)) from None

    return fetch


def document_page(
    store: EntityStore,
    project: str,
    entity: str,
    filter: dict[str, Any],
    sort: SortPairs,
    size: int,
    cursor: str | None,
) -> DocumentPage:
    """One page after ``cursor`` (None: the first page)."""
    fetch = _fetcher(store, project, entity)
    _, total = fetch(filter, {}, 1, 0)
    pager = Pager(fetch, filter, sort, page_size=size)
    if cursor:
        pager.position = _decode_cursor(cursor, pager)
    first = pager.position.yielded + 1
    documents = next(iter(pager.pages()), [])
    position = pager.position
    return DocumentPage(
        documents=documents,
        total=total,
        first=first,
        next_cursor=None if position.done else encode_cursor(position),
        columns=columns(documents),
    )


def _decode_cursor(cursor: str, pager: Pager) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        return Position.from_json(data, pager.plan)
    except (binascii.Error, ValueError, RecursionError, LumiError):
        raise ConsoleInputError(
            "the page link is damaged or was made for another sort; start from the first page"
        ) from None


def columns(documents: list[Document]) -> list[str]:
    """``_id`` and the most common top-level fields of the page, in order of first appearance."""
    seen: dict[str, int] = {}
    for document in documents:
        for key in document:
            if key != "_id":
                seen[key] = seen.get(key, 0) + 1
    order = list(seen)
    common = sorted(order, key=lambda key: (-seen[key], order.index(key)))[:MAX_COLUMNS]
    return ["_id", *[key for key in order if key in common]]


def compact(value: Any, limit: int = 80) -> str:
    """A value as one line of JSON, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else pretty(value, indent=None)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty(value: Any, indent: int | None = 2) -> str:
    separators = None if indent else (", ", ": ")
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, separators=separators)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def fingerprint(document: Mapping[str, Any]) -> str:
    """What an edit form was based on: a change since then makes its save a conflict."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _same(a: Any, b: Any) -> bool:
    # JSON text, not ==: 1 and 1.0 and true are different values to the page's user.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def edit_update(current: Document, edited: Any) -> dict[str, Any] | None:
    """The update that turns ``current`` into ``edited`` (None: nothing changed), or
    ConsoleInputError for an edit no update can make."""
    if not isinstance(edited, dict):
        raise ConsoleInputError("the document must be a JSON object")
    for field in FIXED_FIELDS:
        if field in edited and not _same(edited[field], current.get(field)):
            raise ConsoleInputError(f"{field} cannot be changed (the emulator sets it)")
    changed = {
        key: value
        for key, value in edited.items()
        if key not in FIXED_FIELDS and (key not in current or not _same(value, current[key]))
    }
    removed = [key for key in current if key not in edited and key not in FIXED_FIELDS]
    for key in [*changed, *removed]:
        if "." in key or key.startswith("$") or not key:
            raise ConsoleInputError(
                f"field {key!r} cannot be edited here: an update reads a dot as a path and"
                " '$' as an operator (change it with the client instead)"
            )
    if not changed and not removed:
        return None
    update: dict[str, Any] = {}
    if changed:
        update["$set"] = changed
    if removed:
        update["$unset"] = dict.fromkeys(removed, "")
    return update


def export(
    store: EntityStore,
    project: str,
    entity: str,
    filter: dict[str, Any],
    sort: SortPairs,
    fmt: str,
) -> IO[bytes]:
    """Every matching document in ``fmt`` (json, jsonl, csv), spooled to a temporary file (the
    writer is the one of ``lumi entities export``; memory stays one page)."""
    if fmt not in FORMATS:
        raise ConsoleInputError(f"the export format must be one of {', '.join(FORMATS)}")
    pager = Pager(_fetcher(store, project, entity), filter, sort, page_size=EXPORT_PAGE_SIZE)
    spool = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        write_records(pager.records(), text, fmt)
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool
