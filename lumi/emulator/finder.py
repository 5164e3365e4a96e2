"""How the entity store answers ``find``: SQLite pages and counts where it can, Python decides
the rest, and the results are exactly the Python matcher's.

1. The filter and sort become SQL (:mod:`lumi.emulator.sqlplan`). Probes of the field indexes
   tell which fields hold arrays (only those need element-wise SQL) and objects or arrays in a
   sort field (those rows are sorted in Python).
2. Rows SQL cannot judge, the *side* rows (documents that are not plain, rows whose sort field
   holds an object or an array), are decoded and decided in Python; there are usually none.
3. When the filter is exact, SQLite counts the matches (an unfiltered total is read from the
   ``scopes`` table; keyset totals are carried between pages, :mod:`keyset_counts`) and reads
   only the page: ``ORDER BY ... LIMIT``, merged with the side rows in Python when there are
   some. Knowing the count first, the page query is steered (``INDEXED BY`` the index of the
   order, or a ``+`` that keeps SQLite from scanning in order) by the rows each way would read:
   SQLite has no statistics to judge that itself.
4. When the filter is not exact, the SQL only narrows: every candidate is decoded and matched
   (the total needs them all), streamed in page order and holding only the page.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from lumi.emulator.keyset_counts import KeysetCounts
from lumi.emulator.matcher import Document, Matcher, SortSpec, sort_order
from lumi.emulator.sqlplan import (
    STRUCTURED_BRACKETS,
    FilterSql,
    SortSql,
    Sql,
    bracket_sql,
    translate_filter,
    translate_sort,
)
from lumi.emulator.store_schema import field_indexes, scope_sql

__all__ = ["decode_document", "find_page"]

_ID_INDEX: Final = "sqlite_autoindex_documents_1"  # UNIQUE (project, entity, id)
_SEQ_INDEX: Final = "documents_by_scope"  # (project, entity, seq)

Row = tuple[int, Document]  # (seq, document)


def decode_document(body: str) -> Document:
    """A stored document's JSON text as a fresh dict."""
    return json.loads(body)  # type: ignore[no-any-return]


class _Shapes:
    """What the entity's field indexes say about the values of its fields (one snapshot)."""

    def __init__(self, conn: sqlite3.Connection, scope: str, indexes: Mapping[str, str]) -> None:
        self._conn = conn
        self._scope = scope
        self._indexes = indexes
        self._known: dict[str, frozenset[int]] = {}

    def structured(self, name: str) -> frozenset[int]:
        if name not in self._indexes:
            return STRUCTURED_BRACKETS  # unknown without an index: assume both
        if name not in self._known:
            brackets = sorted(STRUCTURED_BRACKETS)
            probes = ", ".join(
                f"EXISTS (SELECT 1 FROM documents WHERE {self._scope} "
                f"AND {bracket_sql(name)} = {bracket})"
                for bracket in brackets
            )
            found = self._conn.execute(f"SELECT {probes}").fetchone()
            self._known[name] = frozenset(b for b, hit in zip(brackets, found, strict=True) if hit)
        return self._known[name]


def find_page(
    conn: sqlite3.Connection,
    project_id: str,
    entity: str,
    query: tuple[Mapping[str, Any] | None, Matcher, SortSpec],
    start: int,
    count: int | None,
    counts: KeysetCounts,
) -> tuple[list[Document], int]:
    """One page of ``query`` (filter, its compiled matcher, sort) and the number of matches.

    Runs in the caller's read transaction, so that every statement sees one snapshot.
    """
    filter, matches, spec = query
    scope = scope_sql(project_id, entity)
    stats = conn.execute(
        "SELECT documents, generation, EXISTS (SELECT 1 FROM documents WHERE "
        f"{scope} AND plain = 0) FROM scopes WHERE project = ? AND entity = ?",
        (project_id, entity),
    ).fetchone()
    if stats is None or stats[0] == 0:
        return [], 0
    documents, generation, odd = stats
    indexes = field_indexes(conn, project_id, entity)
    shapes = _Shapes(conn, scope, indexes)
    where = translate_filter(filter, shapes)
    order = translate_sort(spec, shapes, where.pinned)
    main = list(where.conjuncts)
    side: list[Sql] = []
    if odd:
        main.append(Sql("plain = 1"))
        side.append(Sql("plain = 0"))
    if order is not None and order.exceptions is not None:
        main.append(Sql(f"NOT ({order.exceptions})"))
        side.append(_and([Sql(order.exceptions), *where.conjuncts]))
    page = _Page(conn, scope, matches)
    side_rows = page.side(side)
    access = _Access(order, where, indexes)
    if not where.exact:
        keep = None if order is None or count is None else start + count
        main_rows, matched = page.stream(main, access, keep)
        rows = _merge(main_rows, side_rows, spec)
        return rows[start : None if count is None else start + count], matched + len(side_rows)
    rest = [sql for i, sql in enumerate(main) if where.id_range is None or i != where.id_range[0]]
    rest_sql = _and(rest)
    id_range = None if where.id_range is None else where.id_range[1:]
    total = counts.count(
        (project_id, entity, rest_sql.text, rest_sql.params),
        generation,
        id_range,
        lambda extra: page.count(rest if extra is None else [*rest, extra]),
        documents if not rest else None,
    )
    if order is None or side_rows:
        keep = None if order is None or count is None else min(start + count, total)
        main_rows = page.read(main, access.plan(total, keep, documents), keep, 0)
        rows = _merge(main_rows, side_rows, spec)
        return rows[start : None if count is None else start + count], total + len(side_rows)
    if start >= total:
        return [], total
    limit = total - start if count is None else min(count, total - start)
    main_rows = page.read(main, access.plan(total, start + limit, documents), limit, start)
    return [doc for _, doc in main_rows], total


class _Access:
    """How the page query reaches its rows: through the index of its order or of its filter."""

    def __init__(self, order: SortSql | None, where: FilterSql, indexes: Mapping[str, str]):
        self.terms = ("seq",) if order is None else order.terms
        self._order_index: str | None
        if order is None:
            self._order_index = _SEQ_INDEX  # the matcher sorts rows read in insertion order
        elif order.fields:
            self._order_index = indexes.get(order.fields[0])
        else:
            self._order_index = _ID_INDEX if order.by_id else _SEQ_INDEX
        usable = {indexes[name] for name in where.ranged if name in indexes}
        if "_id" in where.ranged:
            usable.add(_ID_INDEX)
        usable.discard(self._order_index or "")
        self._filter_indexed = bool(usable)

    def plan(self, matches: int | None, wanted: int | None, documents: int) -> tuple[str, str]:
        """(INDEXED BY clause, ORDER BY terms) to read ``wanted`` (None: all) of ``matches``.

        In order, the index of the order reads about ``wanted * documents / matches`` rows
        before it has them; through the filter's index, SQLite reads the matches and sorts.
        """
        order_by = ", ".join(self.terms)
        if self._filter_indexed and self._order_index is not None and matches is not None:
            wanted = matches if wanted is None else wanted
            if wanted * documents <= matches * matches:
                return f'INDEXED BY "{self._order_index}"', order_by
            return "", "+" + order_by  # no index gives this order: SQLite picks the filter's
        if self._filter_indexed:
            return "", "+" + order_by
        if self._order_index is not None:
            return f'INDEXED BY "{self._order_index}"', order_by
        return "", order_by


class _Page:
    """The statements of one find, over one entity's rows."""

    def __init__(self, conn: sqlite3.Connection, scope: str, matches: Matcher) -> None:
        self._conn = conn
        self._scope = scope
        self._matches = matches

    def _where(self, conjuncts: Sequence[Sql]) -> Sql:
        condition = _and(conjuncts)
        return Sql(f"{self._scope} AND {condition.text}", condition.params)

    def count(self, conjuncts: Sequence[Sql]) -> int:
        where = self._where(conjuncts)
        result = self._conn.execute(
            f"SELECT count(*) FROM documents WHERE {where.text}", where.params
        )
        return int(result.fetchone()[0])

    def _select(
        self, head: str, indexed_by: str, tail: str, params: tuple[Any, ...]
    ) -> sqlite3.Cursor:
        """Run ``head indexed_by tail``; without ``indexed_by`` if SQLite cannot use it."""
        try:
            return self._conn.execute(f"{head} {indexed_by} {tail}", params)
        except sqlite3.OperationalError as exc:
            # SQLite folds some conditions first (a constant false one, say) and may then find
            # no plan that uses a partial index: the hint was only about speed.
            if not indexed_by or "no query solution" not in str(exc):
                raise
            return self._conn.execute(f"{head} {tail}", params)

    def side(self, conditions: list[Sql]) -> list[Row]:
        """The side rows that match, in insertion order."""
        if not conditions:
            return []
        where = self._where([_or(conditions)])
        rows = self._conn.execute(
            f"SELECT seq, body FROM documents WHERE {where.text} ORDER BY seq", where.params
        )
        return [(seq, doc) for seq, doc in _decoded(rows) if self._matches(doc)]

    def read(
        self, conjuncts: Sequence[Sql], access: tuple[str, str], limit: int | None, offset: int
    ) -> list[Row]:
        """Rows of an exact condition, in order, ``limit`` of them after ``offset``."""
        where = self._where(conjuncts)
        indexed_by, order_by = access
        rows = self._select(
            "SELECT seq, body FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {order_by} LIMIT ? OFFSET ?",
            (*where.params, -1 if limit is None else limit, offset),
        )
        return list(_decoded(rows))

    def stream(
        self, conjuncts: Sequence[Sql], access: _Access, keep: int | None
    ) -> tuple[list[Row], int]:
        """Every candidate decided in Python: the first ``keep`` matches (None: all) in order,
        and how many match."""
        where = self._where(conjuncts)
        indexed_by, order_by = access.plan(None, None, 0)
        rows = self._select(
            "SELECT seq, body FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {order_by}",
            where.params,
        )
        kept: list[Row] = []
        matched = 0
        for seq, doc in _decoded(rows):
            if self._matches(doc):
                matched += 1
                if keep is None or len(kept) < keep:
                    kept.append((seq, doc))
        return kept, matched


def _decoded(rows: Iterable[tuple[int, str]]) -> Iterable[Row]:
    for seq, body in rows:
        yield seq, decode_document(body)


def _and(parts: Sequence[Sql]) -> Sql:
    if not parts:
        return Sql("1")
    return Sql(" AND ".join(f"({p.text})" for p in parts), sum((p.params for p in parts), ()))


def _or(parts: Sequence[Sql]) -> Sql:
    return Sql(" OR ".join(f"({p.text})" for p in parts), sum((p.params for p in parts), ()))


def _merge(main: list[Row], side: list[Row], spec: SortSpec) -> list[Document]:
    """Main and side rows in the exact order: the matcher's sort over insertion order."""
    rows = sorted(main + side, key=lambda row: row[0]) if side else main
    docs = [doc for _, doc in rows]
    if not spec:
        return docs
    return [docs[i] for i in sort_order(docs, spec)]
