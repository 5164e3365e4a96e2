"""A find's filter and sort, validated and compiled once for the queries that repeat them.

An iteration asks the same filter and sort page after page, a console polls the same query: the
validation, the compiled matcher and the fields an index would serve are the same every time.
They are remembered by the filter's and sort's JSON text, which tells ``1``, ``1.0`` and
``true`` apart and keeps key order (an embedded document's equality depends on it); a recalled
query must also equal the one asked (``==``), which tells apart what JSON writes alike (a key
``1`` and a key ``"1"``, a tuple and a list, from callers of the Python API).

Not remembered: a filter that searches regular expressions (its matcher draws on one query's
regex time budget, so each query compiles its own), a long filter (its text would be held as
long as the entry), and what JSON cannot write (a caller of the Python API passing NaN, say).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lumi.emulator.matcher import Matcher, SortSpec, compile_filter, compile_sort
from lumi.emulator.recent import Recent, memo_key
from lumi.emulator.sqlplan import index_candidates

__all__ = ["PreparedQuery", "QueryMemory"]

_QUERIES: Final = 256  # filter and sort pairs remembered


@dataclass(frozen=True)
class PreparedQuery:
    """A validated find: the filter, its compiled matcher, the sort, and its memo key."""

    filter: Mapping[str, Any] | None
    sort: Mapping[str, Any] | None
    matches: Matcher
    spec: SortSpec
    #: Top-level fields an index would serve (:func:`~lumi.emulator.sqlplan.index_candidates`).
    index_fields: tuple[str, ...]
    #: Names the filter and sort in memos (the SQL of an entity generation); None: not kept.
    key: Hashable | None


class QueryMemory:
    """The prepared queries of one store, the least recently used forgotten first."""

    def __init__(self) -> None:
        self._recent: Recent[PreparedQuery] = Recent(_QUERIES)

    def prepare(
        self, filter: Mapping[str, Any] | None, sort: Mapping[str, Any] | None
    ) -> PreparedQuery:
        """Validate and compile (QueryError naming what is wrong), or recall, a filter and sort."""
        key = _key(filter, sort)
        if key is not None:
            known = self._recent.get(key)
            if known is not None and known.filter == filter and known.sort == sort:
                return known
        compiled = compile_filter(filter)
        spec = compile_sort(sort)
        prepared = PreparedQuery(
            filter, sort, compiled.matches, spec, tuple(index_candidates(filter, spec)), key
        )
        if key is not None and compiled.reusable:
            self._recent.put(key, prepared)
        return prepared


def _key(filter: Mapping[str, Any] | None, sort: Mapping[str, Any] | None) -> Hashable | None:
    try:
        key = memo_key(json.dumps([filter, sort], allow_nan=False))
    except (TypeError, ValueError, RecursionError):  # not JSON, or nested past any bound:
        return None  # validation says what is wrong (a caller of the Python API may pass NaN)
    return key if isinstance(key, tuple) else None  # a long filter (a digest): not worth holding
