"""``client.entities``: untyped access to any entity (``client.entities.Posts``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._generated.models import Page, Record
from ._js import a_json_type
from .documents import DocumentClient, options, wire_filter
from .envelope import read_reply
from .errors import ValidationError
from .sorting import sort_document

if TYPE_CHECKING:
    from .client import LumiClient


class EntityClient(DocumentClient[Record]):
    """One entity's documents: the JavaScript ``EntityClient`` in snake_case, plus ``iterate``,
    ``count`` and ``first``.

    Records come back as :class:`Record`: ``rec.id``, ``rec.creator``, ``rec.created_at``, and any
    field by attribute or key (``rec.title``, ``rec["title"]``, ``rec["_id"]``).
    """

    def __init__(self, client: LumiClient, entity_name: str) -> None:
        what = f"{entity_name}"
        super().__init__(client, entity_name, lambda data: read_reply(data, Record, what))

    def __repr__(self) -> str:
        return f"EntityClient({self.entity_name!r})"

    def list(
        self,
        options_: Mapping[str, Any] | None = None,
        /,
        *,
        filter: Mapping[str, Any] | None = None,
        sort: Any = None,
        limit: int | None = None,
        skip: int | None = None,
    ) -> Page:
        """Documents matching ``filter`` (a MongoDB-style query), sorted by ``sort``
        (``{"views": -1}``, ``"-views"``, ``["-views", "title"]``...).

        Without ``limit`` every match comes back in one request (``/list``); with it, one page
        (``/listByPage``), and ``total`` counts every match. The JavaScript form
        ``list({"filter": ..., "sort": ..., "limit": 10, "skip": 0})`` works too. To go through
        many records, :meth:`iterate` pages for you.
        """
        given = options(
            "list", options_, {"filter": filter, "sort": sort, "limit": limit, "skip": skip}
        )
        reply = self._list(
            wire_filter(given["filter"]),
            sort_document(given["sort"]),
            given["limit"],
            given["skip"],
        )
        return Page(list=reply.records, total=reply.total, extra=reply.extra)


class Entities:
    """``client.entities.Posts`` or ``client.entities["Posts"]``: an :class:`EntityClient`."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client
        self._cache: dict[str, EntityClient] = {}

    def __getitem__(self, entity_name: str) -> EntityClient:
        if not isinstance(entity_name, str):
            raise ValidationError(
                f"client.entities[...] takes an entity name (a str), got {a_json_type(entity_name)}"
            )
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
