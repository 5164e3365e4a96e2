"""Keyset ("seek") pagination on the wire protocol as it is: the cursor is a filter.

Every auto-paging iteration sorts by the user's fields and then by ``_id`` (unique, so the order
is total) and asks for the records *after* the last one it has seen, instead of skipping what it
has read. Sorted by ``_id`` alone the next page's filter is
``{"$and": [F, {"_id": {"$gt": last_id}}]}``; after a record with ``views: 7`` in a sort
``{"views": -1}`` it is compound::

    {"$and": [F, {"$or": [{"views": {"$lt": 7}},                 # smaller numbers,
                          {"views": None},                        # null or missing,
                          {"views": 7, "_id": {"$gt": last_id}}]}]}   # or 7 and a later _id

The server orders mixed types in BSON order (missing = null < numbers < strings < objects < arrays
< booleans) and ``$gt``/``$lt`` compare only within one type, so "after 7, descending" is "a
number below 7, or null/missing", each bracket written as a condition only that bracket meets
(``{f: null}``; ``{f: {$lt: 0}}`` or ``{f: {$gte: 0}}``; ``{f: {$gte: ""}}``; ``{f: {$gte: {}}}``;
``{f: {$in: [false, true]}}``). For a record whose sort fields hold no array, that cursor is exact.

**Arrays.** An array sorts by its smallest element (ascending) or largest (descending), but a
filter on an array matches when *any* element does, so no filter selects "after" an array record
exactly. Before its second page an iteration sorted on a user field asks the server once whether
any matching record has an array along a sort path (``{"a.0": {$exists: true}}`` or
``{"a": {$size: 0}}`` for each prefix ``a`` of the path; an object with a key ``"0"`` also counts,
which only costs speed); if one does, the whole iteration pages with ``skip`` instead.

**What is guaranteed.** The client computes every record's sort key as the server does
(:func:`lumi._bson.bson_key`, the order the emulator's matcher uses too)
and yields a record only when its key is above the last one yielded, so nothing is ever yielded
twice. A record that matches the filter for the whole iteration (and whose sort fields do not
change) is yielded exactly once, in the server's order, also while other records are inserted and
deleted: on the keyset path because its cursor is exact; on the skip path because every page
re-reads one record of overlap and, when that record is missing (records before it were
deleted), steps further back until it finds one it has seen. The skip path costs the server
``O(depth)`` per page (``O(n²)`` for a full pass); the keyset path does not. A cursor value that
cannot be written as a filter (an object with ``$`` keys, a non-finite number, an integer beyond
64 bits), or a page that made no progress (arrays inserted after the check), is paged past with
an offset from the last cursor, under the same overlap check.

**A server that does not compare ``_id``.** Keyset cursors rely on the server comparing 24-hex
``_id`` strings with ``$gt``/``$lt`` as it orders them (the emulator does; MongoDB drivers cast
such strings to ObjectIds for an ``_id`` path; for the Lumi cloud it is not documented). If a
cursor page finds nothing at all right after a page that said more records remained, the
iteration goes on by ``skip`` from where it stands instead of ending there.

:class:`Position` is the iteration state, JSON-serialisable, so that an export can resume.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from ._bson import MISSING, bson_key, resolve
from .errors import InvalidResponseError, ValidationError
from .sorting import SortPairs

Fetch = Callable[[dict[str, Any], dict[str, int], int, int], tuple[list[dict[str, Any]], int]]
"""(filter, sort, limit, skip) -> (raw records of one page, total matches): one request."""


class _Empty:
    """An empty array's place in a sort: before null."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<empty array>"


EMPTY = _Empty()
_EMPTY_KEY = (-1,)
_INT64 = 2**63


def _key(value: Any) -> tuple[Any, ...]:
    return _EMPTY_KEY if value is EMPTY else bson_key(value)


class _Descending:
    """A sort key that compares in reverse (a descending field)."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    def __gt__(self, other: _Descending) -> bool:
        return other.key > self.key

    __hash__ = None  # type: ignore[assignment]


@attrs.frozen
class _Field:
    path: str
    parts: tuple[str, ...]
    descending: bool


# The type brackets a value that is not an array can be in, in BSON order, each with filters
# that only values of that bracket meet.
_NULL, _NUMBER, _STRING, _OBJECT, _BOOL = range(5)


def _members(bracket: int, path: str) -> list[dict[str, Any]]:
    if bracket == _NULL:
        return [{path: None}]
    if bracket == _NUMBER:
        return [{path: {"$lt": 0}}, {path: {"$gte": 0}}]
    if bracket == _STRING:
        return [{path: {"$gte": ""}}]
    if bracket == _OBJECT:
        return [{path: {"$gte": {}}}]
    return [{path: {"$in": [False, True]}}]


def _bracket(value: Any) -> int | None:
    """The bracket of a cursor value, or None when a filter cannot name the value exactly."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _NUMBER if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return _NUMBER if math.isfinite(value) else None
    if isinstance(value, str):
        return _STRING
    if isinstance(value, dict):
        if any(key.startswith("$") for key in value) or not _plain(value):
            return None  # {"$x": ...} would be read as an operator
        return _OBJECT
    return None  # arrays, EMPTY


def _plain(value: Any) -> bool:
    """JSON the transport can send as is (finite numbers, 64-bit integers)."""
    try:
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return -_INT64 <= value < _INT64
        if isinstance(value, dict):
            return all(_plain(item) for item in value.values())
        if isinstance(value, list):
            return all(_plain(item) for item in value)
        return True
    except RecursionError:
        return False


class SortPlan:
    """The order of an iteration: the user's sort fields, then ``_id``."""

    def __init__(self, pairs: SortPairs) -> None:
        fields: list[_Field] = []
        for path, direction in pairs:
            fields.append(_Field(path, tuple(path.split(".")), direction == -1))
            if path == "_id":
                break  # _id is unique: later keys never decide anything
        else:
            fields.append(_Field("_id", ("_id",), False))
        self.fields: tuple[_Field, ...] = tuple(fields)
        sort = dict(pairs)
        sort.setdefault("_id", 1)
        self.sort: dict[str, int] = sort
        """What is sent: the user's sort with ``_id`` last when it is not there."""

    def values(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The value each sort field sorts ``record`` by (the server's choice for arrays)."""
        out: list[Any] = []
        for field in self.fields:
            if field.path == "_id":
                value = record.get("_id")
                if not isinstance(value, str):
                    raise InvalidResponseError(
                        200, f"list: a record's _id is not a string: {value!r:.60}"
                    )
                out.append(value)
            else:
                out.append(self._sort_value(record, field))
        return tuple(out)

    @staticmethod
    def _sort_value(record: Mapping[str, Any], field: _Field) -> Any:
        candidates: list[Any] = []
        for value in resolve(record, field.parts):
            if isinstance(value, list):
                candidates.extend(value) if value else candidates.append(EMPTY)
            else:
                candidates.append(None if value is MISSING else value)
        if len(candidates) == 1:
            return candidates[0]
        try:
            return (max if field.descending else min)(candidates, key=_key)
        except RecursionError:
            raise InvalidResponseError(
                200, "list: a record is nested too deeply to order"
            ) from None

    def key(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        """A key that orders records as this iteration does (ascending)."""
        try:
            return tuple(
                _Descending(_key(value)) if field.descending else _key(value)
                for field, value in zip(self.fields, values, strict=True)
            )
        except RecursionError:
            raise InvalidResponseError(
                200, "list: a record is nested too deeply to order"
            ) from None

    def after(self, values: tuple[Any, ...]) -> dict[str, Any] | None:
        """The filter of the records after one with these sort values; None if none can say it."""
        tail: dict[str, Any] = {}
        for field, value in reversed(tuple(zip(self.fields, values, strict=True))):
            if field.path == "_id":  # a string on the wire, and the last key
                tail = {"_id": {"$lt" if field.descending else "$gt": value}}
                continue
            bracket = _bracket(value)
            if bracket is None:
                return None
            terms: list[dict[str, Any]] = []
            if bracket != _NULL:
                terms.append({field.path: {"$lt" if field.descending else "$gt": value}})
            later = range(bracket) if field.descending else range(bracket + 1, _BOOL + 1)
            for other in later:
                terms.extend(_members(other, field.path))
            terms.append({field.path: value, **tail})  # equal here, after on the next keys
            tail = {"$or": terms}
        return tail

    def array_probe(self) -> dict[str, Any] | None:
        """A filter matching records with an array along a user sort path (None: _id only)."""
        prefixes: dict[str, None] = {}
        for field in self.fields:
            if field.path != "_id":
                for end in range(1, len(field.parts) + 1):
                    prefixes[".".join(field.parts[:end])] = None
        terms: list[dict[str, Any]] = []
        for prefix in prefixes:
            terms += [{f"{prefix}.0": {"$exists": True}}, {prefix: {"$size": 0}}]
        return {"$or": terms} if terms else None


def _encode(values: tuple[Any, ...]) -> list[list[Any]]:
    return [[] if value is EMPTY else [value] for value in values]


def _decode(encoded: Any, width: int) -> tuple[Any, ...]:
    if not isinstance(encoded, list) or len(encoded) != width:
        raise ValueError("sort values of the wrong shape")
    out = []
    for item in encoded:
        if not isinstance(item, list) or len(item) > 1:
            raise ValueError("a sort value of the wrong shape")
        out.append(item[0] if item else EMPTY)
    return tuple(out)


@attrs.define
class Position:
    """Where an iteration stands (JSON-serialisable with :meth:`to_json`, for resuming)."""

    mode: str | None = None
    """``"keyset"``, ``"skip"``, or None before the first page decided it."""
    anchor: list[list[Any]] | None = None
    """Sort values of the record the cursor filter starts after (None: the start)."""
    offset: int = 0
    """Records of the cursor's results already passed (skip mode, or stuck keyset pages)."""
    last: list[list[Any]] | None = None
    """Sort values of the last record yielded: only records above it are yielded."""
    yielded: int = 0
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        """The state as JSON."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Any, plan: SortPlan) -> Position:
        """A state saved by :meth:`to_json` for the same sort; ValidationError if it is not one."""
        try:
            if not isinstance(data, dict) or set(data) != {f.name for f in attrs.fields(cls)}:
                raise ValueError("unexpected keys")
            position = cls(**data)
            if position.mode not in (None, "keyset", "skip"):
                raise ValueError("unknown mode")
            for count in (position.offset, position.yielded):
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError("a negative or non-integer count")
            for values in (position.anchor, position.last):
                if values is not None:
                    plan.key(_decode(values, len(plan.fields)))
            if not isinstance(position.done, bool):
                raise ValueError("done is not a boolean")
        except (TypeError, ValueError, LookupError) as exc:
            raise ValidationError(f"not a saved iteration position ({exc})") from None
        return position


class Pager:
    """Pages of raw wire records in a total order, by keyset cursors (see the module docstring).

    ``fetch`` sends one ``listByPage``; ``skip``/``limit`` select a slice of the whole order (the
    skip applies to the first request only). :attr:`position` is updated before each page is
    yielded, so a consumer that saves it after writing the page resumes after that page.
    """

    def __init__(
        self,
        fetch: Fetch,
        filter: dict[str, Any],
        sort: SortPairs,
        *,
        page_size: int,
        skip: int = 0,
        limit: int | None = None,
        position: Position | None = None,
    ) -> None:
        self.plan = SortPlan(sort)
        self._fetch = fetch
        self._filter = filter
        self._page_size = page_size
        self._limit = limit
        self._skip = skip
        self._probe = self.plan.array_probe()
        self.position = position or Position(mode=None if self._probe else "keyset", offset=skip)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record, page after page."""
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The pages (a page that brought only records already yielded is left out)."""
        at = self.position
        plan = self.plan
        width = len(plan.fields)
        back = 1
        while not at.done:
            want = self._page_size
            if self._limit is not None:
                want = min(want, self._limit - at.yielded)
                if want <= 0:
                    at.done = True
                    return
            overlap = min(back, at.offset) if at.last is not None else 0
            skip = at.offset - overlap
            anchor = None if at.anchor is None else plan.after(_decode(at.anchor, width))
            query = self._filter if anchor is None else {"$and": [self._filter, anchor]}
            records, total = self._fetch(query, plan.sort, want + overlap, skip)
            if anchor is not None and not records and not total and not skip:
                # The last page promised more and the cursor finds nothing at all: a server
                # that does not compare _id strings (see README) would end here silently.
                # Check by skip from where we are; the overlap check corrects the place.
                at.mode, at.anchor, at.offset = "skip", None, self._skip + at.yielded
                continue
            last_key = None if at.last is None else plan.key(_decode(at.last, width))
            keyed = []
            for record in records:
                values = plan.values(record)
                keyed.append((record, values, plan.key(values)))
            if overlap and skip > 0 and (not keyed or last_key is None or keyed[0][2] > last_key):
                back = overlap * 2  # records before our place were deleted: look further back
                continue
            back = 1
            fresh: list[dict[str, Any]] = []
            for record, values, key in keyed:
                if last_key is None or key > last_key:
                    if self._limit is not None and at.yielded + len(fresh) >= self._limit:
                        break
                    fresh.append(record)
                    last_key = key
                    at.last = _encode(values)
            at.yielded += len(fresh)
            # ``total`` (all matches of this request), not a short page, says whether more
            # remain: a server may cap the page size below what was asked.
            at.done = (
                not records
                or total <= skip + len(records)
                or (self._limit is not None and at.yielded >= self._limit)
            )
            if not at.done:
                self._advance(at, skip + len(records))
            if fresh:
                yield fresh

    def _advance(self, at: Position, passed: int) -> None:
        if at.mode is None:
            at.mode = "skip" if self._has_arrays() else "keyset"
        plan, width = self.plan, len(self.plan.fields)
        if at.mode == "keyset" and at.last is not None and at.last != at.anchor:
            last = _decode(at.last, width)
            if plan.after(last) is not None and (
                at.anchor is None or plan.key(last) > plan.key(_decode(at.anchor, width))
            ):
                at.anchor, at.offset = at.last, 0
                return
        at.offset = passed

    def _has_arrays(self) -> bool:
        assert self._probe is not None
        records, total = self._fetch({"$and": [self._filter, self._probe]}, {}, 1, 0)
        return bool(records) or total > 0
