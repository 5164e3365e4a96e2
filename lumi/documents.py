"""One entity's documents on the wire: every entity operation, written once.

:class:`DocumentClient` sends the requests, checks the arguments and the replies, and reads
records with a function it is given: ``client.entities.Posts`` (:class:`lumi.EntityClient`) is a
``DocumentClient[Record]``, and a typed :class:`lumi.data.Repository` keeps a
``DocumentClient[Post]`` under its validation and chunking. An operation added here is there for
both.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._options import as_list, options_object
from .errors import APIError, InvalidResponseError, ValidationError
from .serde import unstructure
from .sorting import sort_document, sort_pairs

if TYPE_CHECKING:
    from .client import LumiClient
    from .keyset import Pager, Position

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
"""Records per request while iterating."""

#: The keys of the JavaScript client's list options object, accepted as one positional mapping.
JS_LIST_OPTIONS = ("filter", "sort", "limit", "skip")

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
_ABSENT = object()


@attrs.frozen
class Reply(Generic[T]):
    """One list call's records, ``total`` (all matches) and any keys the page had besides."""

    records: builtins.list[T]
    total: int
    extra: dict[str, Any] = attrs.field(factory=dict)


def check_positive(name: str, value: Any) -> int:
    """``value`` when it is a positive int; a ValidationError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r:.40}")
    return value


def check_skip(value: Any) -> int:
    """``value`` when it is a non-negative int (None: 0)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"skip must be a non-negative integer, got {value!r:.40}")
    return value


def document_id(value: Any) -> str:
    """A document id as sent: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"a document id must be a non-empty string, got {value!r:.60}")
    return value


def options(
    method: str,
    positional: Any,
    keywords: dict[str, Any],
    allowed: tuple[str, ...] = JS_LIST_OPTIONS,
) -> dict[str, Any]:
    """The keyword arguments of a call that may also take the JavaScript options object.

    ``posts.list({"filter": {...}, "sort": {...}, "limit": 10})`` is taken exactly as the keyword
    form when every key is an option name; anything else given positionally (a filter, say) is
    refused, so that an options object is never read as something else (see :mod:`lumi._options`).
    """
    if positional is None:
        return keywords
    given = [name for name, value in keywords.items() if value is not None]
    return {**keywords, **options_object(method, positional, allowed, keywords=given)}


def document(data: Any) -> dict[str, Any]:
    """The wire JSON of a document given as a mapping or a typed record."""
    body = unstructure(data)
    if not isinstance(body, dict):
        raise ValidationError(f"a document must be a mapping or a typed record, got {data!r:.60}")
    return body


def wire_filter(filter: Any) -> dict[str, Any]:
    """A filter mapping as the wire's JSON (None: match everything)."""
    if filter is None:
        return {}
    if not isinstance(filter, Mapping):
        raise ValidationError(f"a filter must be a mapping (a MongoDB query), got {filter!r:.60}")
    return dict(unstructure(filter))


def _with_id(body: dict[str, Any], id: Any) -> dict[str, Any]:
    """``body`` with the client-made ``_id`` of ``create(..., id=...)``."""
    if not isinstance(id, str) or not _OBJECT_ID.fullmatch(id):
        raise ValidationError(
            f"id must be 24 hexadecimal digits (make one with lumi.new_id()), got {id!r:.40}"
        )
    if body.get("_id") not in (None, id):
        raise ValidationError("create(): the document has an _id of its own that differs from id=")
    return {"_id": id, **{key: value for key, value in body.items() if key != "_id"}}


def _holds(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether a stored document has every field of the document that was sent."""
    return all(key == "_id" or stored.get(key, _ABSENT) == value for key, value in sent.items())


def _records(data: Any, what: str) -> builtins.list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidResponseError(200, f"{what}: expected a list of records, got {data!r:.60}")
    return data


class DocumentClient(Generic[T]):
    """One entity's documents, read as ``T`` by ``read`` (see the module docstring)."""

    def __init__(self, client: LumiClient, entity_name: str, read: Callable[[Any], T]) -> None:
        if not isinstance(entity_name, str) or not entity_name or "/" in entity_name:
            raise ValidationError(f"invalid entity name {entity_name!r}")
        self._client = client
        self.entity_name = entity_name
        self._read = read

    def _call(self, operation_id: str, doc_id: str | None = None, **kwargs: Any) -> Any:
        params = {"entityName": self.entity_name}
        if doc_id is not None:
            params["id"] = document_id(doc_id)
        return self._client._call(operation_id, params, **kwargs)

    # -- lists ----------------------------------------------------------------------------------
    def _list(
        self, filter: dict[str, Any], sort: dict[str, int] | None, limit: Any, skip: Any
    ) -> Reply[T]:
        """One list request: ``/list`` without a limit (every match), else ``/listByPage``."""
        body: dict[str, Any] = {"filter": filter} if filter else {}
        if sort is not None:
            body["sort"] = sort
        if limit is None:
            if skip:
                raise ValidationError(
                    f"skip={skip!r} needs a limit: the Lumi /list endpoint ignores skip"
                )
            data = _records(self._call("listDocuments", json=body), "list")
            return Reply([self._read(item) for item in data], len(data))
        body["limit"] = check_positive("limit", limit)
        if skip is not None:
            body["skip"] = check_skip(skip)
        records, total, extra = self._page(body)
        return Reply([self._read(item) for item in records], total, extra)

    def _page(
        self, body: dict[str, Any]
    ) -> tuple[builtins.list[dict[str, Any]], int, dict[str, Any]]:
        data = self._call("listDocumentsByPage", json=body)
        if not isinstance(data, Mapping):
            raise InvalidResponseError(200, f"list: expected {{list, total}}, got {data!r:.60}")
        total = data.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise InvalidResponseError(200, f"list: total is not a count: {total!r:.40}")
        records = _records(data.get("list"), "list")
        return records, total, {k: v for k, v in data.items() if k not in ("list", "total")}

    def _fetch(
        self, filter: dict[str, Any], sort: dict[str, int], limit: int, skip: int
    ) -> tuple[builtins.list[dict[str, Any]], int]:
        records, total, _ = self._page(
            {"filter": filter, "sort": sort, "limit": limit, "skip": skip}
        )
        return records, total

    def pager(
        self,
        options_: Mapping[str, Any] | None = None,
        /,
        *,
        filter: Any = None,
        sort: Any = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        skip: int | None = None,
        limit: int | None = None,
        position: Position | None = None,
    ) -> Pager:
        """The keyset pager under :meth:`iterate`: pages of raw wire records and a resumable
        :class:`~lumi.keyset.Position` (what ``lumi entities export --resume`` keeps)."""
        from .keyset import Pager

        given = options(
            "pager", options_, {"filter": filter, "sort": sort, "limit": limit, "skip": skip}
        )
        check_positive("page_size", page_size)
        if given["limit"] is not None:
            check_positive("limit", given["limit"])
        return Pager(
            self._fetch,
            wire_filter(given["filter"]),
            sort_pairs(given["sort"]),
            page_size=page_size,
            skip=check_skip(given["skip"]),
            limit=given["limit"],
            position=position,
        )

    def iterate(
        self,
        options_: Mapping[str, Any] | None = None,
        /,
        *,
        filter: Any = None,
        sort: Any = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        limit: int | None = None,
        skip: int | None = None,
    ) -> Iterator[T]:
        """Every matching record, ``page_size`` a request, in the order of ``sort`` then ``_id``.

        Pages by keyset cursors (see :mod:`lumi.keyset`): a record that matches for the whole
        iteration comes exactly once, also while others are inserted or deleted. ``limit`` stops
        after that many records; ``skip`` starts after that many.
        """
        given = options(
            "iterate", options_, {"filter": filter, "sort": sort, "limit": limit, "skip": skip}
        )
        pager = self.pager(
            filter=given["filter"],
            sort=given["sort"],
            page_size=page_size,
            skip=given["skip"],
            limit=given["limit"],
        )
        return self._read_all(pager)

    def _read_all(self, pager: Pager) -> Iterator[T]:
        read = self._read
        for page in pager.pages():
            for record in page:
                yield read(record)

    def count(self, options_: Mapping[str, Any] | None = None, /, *, filter: Any = None) -> int:
        """How many records match ``filter`` (one request)."""
        given = options("count", options_, {"filter": filter}, ("filter",))
        return self._list(wire_filter(given["filter"]), None, 1, None).total

    def first(
        self, options_: Mapping[str, Any] | None = None, /, *, filter: Any = None, sort: Any = None
    ) -> T | None:
        """The first matching record in the order of ``sort`` then ``_id``, or None."""
        given = options("first", options_, {"filter": filter, "sort": sort}, ("filter", "sort"))
        order = sort_document(given["sort"]) or {}
        order.setdefault("_id", 1)
        records = self._list(wire_filter(given["filter"]), order, 1, None).records
        return records[0] if records else None

    # -- one document ---------------------------------------------------------------------------
    def get(self, id: str) -> T | None:
        """The document with this ``_id``, or None."""
        data = self._call("getDocument", id)
        return None if data is None else self._read(data)

    def create(self, data: Mapping[str, Any] | Any, *, id: str | None = None) -> T:
        """Create a document from a mapping (or a typed object); returns it with its ``_id``.

        A document that carries its own ``_id`` (``id=lumi.new_id()``, or ``"_id"`` in the
        data) is created exactly once: the call is retried after any transport failure, and a
        retry refused because the first attempt had in fact stored it returns the stored
        document (see :meth:`_created`).
        """
        body = document(data)
        if id is not None:
            body = _with_id(body, id)
        try:
            reply = self._call("createDocument", json=body)
        except APIError as error:
            refused = error
        else:
            return self._read(reply)
        return self._created([body], refused)[0]  # outside the except: no chained context

    def create_many(self, items: Iterable[Mapping[str, Any] | Any]) -> builtins.list[T]:
        """Create several documents in one request; returns them in order. When every item
        carries its own ``_id``, the batch is created exactly once, as :meth:`create`."""
        body = [
            document(item)
            for item in as_list("create_many()", items, "documents", "[{...}, {...}]")
        ]
        try:
            reply = self._call("createDocuments", json=body)
        except APIError as error:
            refused = error
        else:
            return [self._read(item) for item in _records(reply, "create_many")]
        return self._created(body, refused)

    def _created(self, sent: builtins.list[dict[str, Any]], error: APIError) -> builtins.list[T]:
        """The documents an exactly-once create stored, when ``error`` is the server refusing
        a retry because an earlier attempt of the same call already stored them; else
        ``error`` is raised again.

        Only a repeated attempt (``attempts > 1``) of a call whose every document carries an
        ``_id`` can be that; it is, when every id is now stored with every field that was sent
        (the server adds its system fields). Anything else (a document of someone else's under
        the same id, a field that differs) is the original error.
        """
        ids = [doc.get("_id") for doc in sent]
        if error.attempts < 2 or not sent or not all(isinstance(i, str) and i for i in ids):
            raise error
        records, _, _ = self._page(
            {"filter": {"_id": {"$in": ids}}, "sort": {"_id": 1}, "limit": len(ids)}
        )
        found = {str(stored.get("_id")).lower(): stored for stored in records}
        stored_docs = [found.get(str(doc_id).lower()) for doc_id in ids]
        if not all(
            stored is not None and _holds(stored, doc)
            for stored, doc in zip(stored_docs, sent, strict=True)
        ):
            raise error
        return [self._read(stored) for stored in stored_docs]

    def update(self, id: str, data: Mapping[str, Any] | Any) -> T:
        """Merge ``data`` into the document (dotted keys set nested fields); returns it whole."""
        body = {"filter": {"_id": document_id(id)}, "update": document(data)}
        return self._read(self._call("updateDocument", json=body))

    def delete(self, id: str) -> None:
        """Delete one document."""
        self._call("deleteDocument", id)

    def delete_many(self, ids: Iterable[str]) -> None:
        """Delete documents by id in one request (no request at all for an empty list)."""
        id_list = [document_id(i) for i in as_list("delete_many()", ids, "ids", "['id1', 'id2']")]
        if id_list:
            self._call("deleteDocuments", query={"ids": id_list})
