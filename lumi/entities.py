"""``client.entities``: untyped access to any entity (``client.entities.Posts``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._generated.models import Page, Record
from .envelope import read_reply
from .errors import InvalidResponseError, ValidationError
from .serde import unstructure

if TYPE_CHECKING:
    from .client import LumiClient

Filter = Mapping[str, Any]
Sort = Mapping[str, int]


def _reply_list(data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise InvalidResponseError(200, f"{what}: expected a list of records, got {data!r:.60}")
    return data


class EntityClient:
    """One entity's documents: the JavaScript ``EntityClient`` in snake_case.

    Records come back as :class:`Record`: ``rec.id``, ``rec.creator``, ``rec.created_at``, and any
    field by attribute or key (``rec.title``, ``rec["title"]``, ``rec["_id"]``).
    """

    def __init__(self, client: LumiClient, entity_name: str) -> None:
        if not entity_name or "/" in entity_name:
            raise ValidationError(f"invalid entity name {entity_name!r}")
        self._client = client
        self.entity_name = entity_name

    def __repr__(self) -> str:
        return f"EntityClient({self.entity_name!r})"

    def _call(self, operation_id: str, doc_id: str | None = None, **kwargs: Any) -> Any:
        params = {"entityName": self.entity_name}
        if doc_id is not None:
            params["id"] = _document_id(doc_id)
        return self._client._call(operation_id, params, **kwargs)

    def list(
        self,
        filter: Filter | None = None,
        sort: Sort | None = None,
        limit: int | None = None,
        skip: int | None = None,
    ) -> Page:
        """Documents matching ``filter`` (a MongoDB-style query), sorted by ``sort`` ({field: 1|-1}).

        Without ``limit`` every match comes back (``/list``); with it, one page (``/listByPage``),
        and ``total`` counts every match.
        """
        body: dict[str, Any] = {}
        if filter is not None:
            body["filter"] = unstructure(filter)
        if sort is not None:
            body["sort"] = _check_sort(sort)
        if limit is None:
            if skip:
                raise ValidationError(
                    f"skip={skip} needs a limit: the Lumi /list endpoint ignores skip"
                )
            data = _reply_list(self._call("listDocuments", json=body), "list")
            return read_reply({"list": data, "total": len(data)}, Page, "list")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"limit must be a positive integer, got {limit!r}")
        body["limit"] = limit
        if skip is not None:
            if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
                raise ValidationError(f"skip must be a non-negative integer, got {skip!r}")
            body["skip"] = skip
        return read_reply(self._call("listDocumentsByPage", json=body), Page, "list")

    def get(self, id: str) -> Record | None:
        """The document with this ``_id``, or None."""
        data = self._call("getDocument", id)
        return None if data is None else read_reply(data, Record, "get")

    def create(self, data: Mapping[str, Any] | Any) -> Record:
        """Create a document from a mapping (or a typed object); returns it with its ``_id``."""
        return read_reply(self._call("createDocument", json=_document(data)), Record, "create")

    def create_many(self, items: Iterable[Mapping[str, Any] | Any]) -> builtins.list[Record]:
        """Create several documents in one request; returns them in order."""
        body = [_document(item) for item in items]
        data = _reply_list(self._call("createDocuments", json=body), "create_many")
        return [read_reply(item, Record, "create_many") for item in data]

    def update(self, id: str, data: Mapping[str, Any] | Any) -> Record:
        """Merge ``data`` into the document (dotted keys set nested fields); returns it whole."""
        body = {"filter": {"_id": _document_id(id)}, "update": _document(data)}
        return read_reply(self._call("updateDocument", json=body), Record, "update")

    def delete(self, id: str) -> None:
        """Delete one document."""
        self._call("deleteDocument", id)

    def delete_many(self, ids: Iterable[str]) -> None:
        """Delete documents by id (no request at all for an empty list)."""
        id_list = [_document_id(i) for i in ids]
        if id_list:
            self._call("deleteDocuments", query={"ids": id_list})


def _document_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"a document id must be a non-empty string, got {value!r:.60}")
    return value


def _document(data: Any) -> dict[str, Any]:
    body = unstructure(data)
    if not isinstance(body, dict):
        raise ValidationError(f"a document must be a mapping or a typed record, got {data!r:.60}")
    return body


def _check_sort(sort: Sort) -> dict[str, int]:
    for key, direction in sort.items():
        if direction not in (1, -1) or isinstance(direction, bool):
            raise ValidationError(f"sort[{key!r}] must be 1 or -1, got {direction!r}")
    return dict(sort)


class Entities:
    """``client.entities.Posts`` or ``client.entities["Posts"]``: an :class:`EntityClient`."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client
        self._cache: dict[str, EntityClient] = {}

    def __getitem__(self, entity_name: str) -> EntityClient:
        found = self._cache.get(entity_name)
        if found is None:
            found = self._cache.setdefault(entity_name, EntityClient(self._client, entity_name))
        return found

    def __getattr__(self, entity_name: str) -> EntityClient:
        if entity_name.startswith("__"):
            raise AttributeError(entity_name)
        return self[entity_name]

    def __repr__(self) -> str:
        return f"Entities(project_id={self._client.project_id!r})"
