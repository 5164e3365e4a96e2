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
   some. Each statement names its index (``INDEXED BY``), chosen by the rows each way would
   read (:class:`_Access`): SQLite has no statistics to judge that itself.
4. When the filter is not exact, the SQL only narrows: every candidate is decoded and matched
   (the total needs them all), streamed in page order and holding only the page.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lumi.emulator.keyset_counts import KeysetCounts, race
from lumi.emulator.matcher import Document, Matcher, SortSpec, sort_order
from lumi.emulator.recent import Recent, memo_key
from lumi.emulator.sqlplan import (
    STRUCTURED_BRACKETS,
    FilterSql,
    SortSql,
    Sql,
    bracket_sql,
    sql_and,
    sql_or,
    translate_filter,
    translate_sort,
)
from lumi.emulator.store_schema import field_indexes, scope_sql

__all__ = ["FinderMemory", "ScopeInfo", "decode_document", "find_page"]

_ID_INDEX: Final = "sqlite_autoindex_documents_1"  # UNIQUE (project, entity, id)
_SEQ_INDEX: Final = "documents_by_scope"  # (project, entity, seq)
_SCOPES: Final = 1024  # entities remembered (the least recently used go first)
_PLANS: Final = 1024  # filter shapes remembered
_TRANSLATIONS: Final = 256  # per entity (and generation)
_MAX_SQL_INT: Final = 2**63 - 1

Row = tuple[int, Document]  # (seq, document)


def decode_document(body: str) -> Document:
    """A stored document's JSON text as a fresh dict."""
    return json.loads(body)  # type: ignore[no-any-return]


@dataclass
class ScopeInfo:
    """What a find learns of an entity, valid while its generation and the schema stand."""

    generation: int
    schema_version: int
    documents: int
    indexes: dict[str, str]  # field -> index name
    structured: dict[str, frozenset[int]] = field(default_factory=dict)  # probed so far
    #: (filter as JSON text, sort) -> its SQL: a translation depends on the filter, the sort
    #: and what the probes found, so it stands exactly as long as this ScopeInfo.
    translations: Recent[tuple[FilterSql, SortSql | None]] = field(
        default_factory=lambda: Recent(_TRANSLATIONS)
    )


class FinderMemory:
    """What finds remember between calls: keyset totals, what each entity holds, plan choices."""

    def __init__(self) -> None:
        self.counts = KeysetCounts()
        self.scopes: Recent[ScopeInfo] = Recent(_SCOPES)  # by (project, entity)
        self.plans: Recent[str] = Recent(_PLANS)  # by filter shape


class _Shapes:
    """What the entity's field indexes say about the values of its fields (one snapshot)."""

    def __init__(self, conn: sqlite3.Connection, scope: str, info: ScopeInfo) -> None:
        self._conn = conn
        self._scope = scope
        self._indexes = info.indexes
        self._known = info.structured

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
    memory: FinderMemory,
) -> tuple[list[Document], int]:
    """One page of ``query`` (filter, its compiled matcher, sort) and the number of matches.

    Runs in the caller's read transaction, so that every statement sees one snapshot.
    """
    filter, matches, spec = query
    scope = scope_sql(project_id, entity)
    stats = conn.execute(
        "SELECT documents, generation, EXISTS (SELECT 1 FROM documents WHERE "
        f"{scope} AND plain = 0), (SELECT schema_version FROM pragma_schema_version()) "
        "FROM scopes WHERE project = ? AND entity = ?",
        (project_id, entity),
    ).fetchone()
    if stats is None or stats[0] == 0:
        return [], 0
    documents, generation, odd, schema_version = stats
    info = memory.scopes.get((project_id, entity))
    if info is None or (info.generation, info.schema_version) != (generation, schema_version):
        indexes = field_indexes(conn, project_id, entity)
        info = ScopeInfo(generation, schema_version, documents, indexes)
        memory.scopes.put((project_id, entity), info)
    counts = memory.counts
    where, order = _translated(conn, scope, info, filter, spec)
    main = list(where.conjuncts)
    side: list[Sql] = []
    if odd:
        main.append(Sql("plain = 1"))
        side.append(Sql("plain = 0"))
    if order is not None and order.exceptions is not None:
        main.append(Sql(f"NOT ({order.exceptions})"))
        side.append(sql_and([Sql(order.exceptions), *where.conjuncts]))
    page = _Page(conn, scope, matches)
    side_rows = page.side(side)
    access = _Access(page, order, where, info, memory.plans)
    if not where.exact:
        keep = None if order is None or count is None else start + count
        main_rows, matched = page.stream(main, access, keep)
        rows = _merge(main_rows, side_rows, spec)
        return rows[start : None if count is None else start + count], matched + len(side_rows)
    rest = [sql for i, sql in enumerate(main) if where.id_range is None or i != where.id_range[0]]
    rest_sql = sql_and(rest)

    def counter(extra: Sql | None, limit: int | None) -> int:
        if extra is None:  # the whole filter: through the index that reads the fewest rows
            return page.count(rest, limit, access.lookup_index())
        return page.count([*rest, extra], limit, "")  # a range of _id: SQLite's choice

    key = memo_key(project_id, entity, rest_sql.text, rest_sql.params)
    if where.id_range is None and rest and order is not None and not side_rows and count:
        narrow = access.sorting_matches_index(start + count)
        if narrow:  # few matches: read and sort them all, counting them on the way
            main_rows, total = page.read_counted(main, narrow, access.terms, count, start)
            if main_rows:
                counts.count(key, generation, None, counter, total)  # remembered for later
                return [doc for _, doc in main_rows], total
    total = counts.count(
        key,
        generation,
        None if where.id_range is None else where.id_range[1:],
        counter,
        documents if not rest else None,
    )
    if order is None or side_rows:
        keep = None if order is None or count is None else min(start + count, total)
        main_rows = page.read(main, access.page_index(total, keep), keep, 0)
        rows = _merge(main_rows, side_rows, spec)
        return rows[start : None if count is None else start + count], total + len(side_rows)
    if start >= total:
        return [], total
    limit = total - start if count is None else min(count, total - start)
    main_rows = page.read(main, access.page_index(total, start + limit), limit, start)
    return [doc for _, doc in main_rows], total


def _translated(
    conn: sqlite3.Connection,
    scope: str,
    info: ScopeInfo,
    filter: Mapping[str, Any] | None,
    spec: SortSpec,
) -> tuple[FilterSql, SortSql | None]:
    """The filter and sort as SQL, translated once per entity generation: the same query
    page after page (an iteration, a console poll) skips a translation that costs about a
    fifth of a small page. JSON text is the key because it tells ``1``, ``1.0`` and ``true``
    apart and keeps key order (which an embedded document's equality depends on)."""
    try:
        key = memo_key(json.dumps(filter, allow_nan=False), tuple(spec))
    except (TypeError, ValueError):  # not JSON (a caller of the Python API): no memo
        key = None
    if not isinstance(key, tuple):  # a long filter: its SQL is as long, not worth holding
        key = None
    known = None if key is None else info.translations.get(key)
    if known is None:
        shapes = _Shapes(conn, scope, info)
        where = translate_filter(filter, shapes)
        known = (where, translate_sort(spec, shapes, where.pinned))
        if key is not None:
            info.translations.put(key, known)
    return known


class _Access:
    """Which index each statement of a find reads through.

    SQLite keeps no statistics on expression indexes, and without them it misjudges: it reads a
    whole entity in insertion order rather than sort 40 matches, or looks a filter up through
    its widest condition. So the store decides. Counting goes through the index of the
    condition that reads the fewest rows (found by bounded counts racing, :func:`race`, once per
    filter shape and entity size). The page goes through the index of the order, read in order
    until it has the page (about ``wanted * documents / matches`` rows), or through the filter's
    index and a sort of the matches, whichever reads fewer.
    """

    def __init__(
        self,
        page: _Page,
        order: SortSql | None,
        where: FilterSql,
        info: ScopeInfo,
        plans: Recent[str],
    ) -> None:
        self._page = page
        self._documents = info.documents
        self._plans = plans
        self.terms = ("seq",) if order is None else order.terms
        self._order_index: str
        if order is not None and order.fields:
            self._order_index = info.indexes.get(order.fields[0], "")
        else:
            self._order_index = _ID_INDEX if order is not None and order.by_id else _SEQ_INDEX
        self._lookups: dict[str, Sql] = {}  # index -> the narrowest conjunct it looks up
        for lookup in where.lookups:
            index = _ID_INDEX if lookup.field == "_id" else info.indexes.get(lookup.field, "")
            if index and index not in self._lookups:
                self._lookups[index] = where.conjuncts[lookup.position]
        self._narrowest: str | None = None

    def lookup_index(self) -> str:
        """INDEXED BY the index that reads the fewest rows for the filter ("" if none)."""
        if self._narrowest is None:
            self._narrowest = self._measure()
        return f'INDEXED BY "{self._narrowest}"' if self._narrowest else ""

    def _measure(self) -> str:
        names = list(self._lookups)
        if len(names) <= 1:
            return names[0] if names else ""
        shape = memo_key(
            self._page.scope,
            tuple(f"{name}\0{self._lookups[name].text}" for name in names),
            self._documents.bit_length(),
        )
        known = self._plans.get(shape)
        if known is None:
            counters = [
                lambda limit, name=name: self._page.count(
                    [self._lookups[name]], limit, f'INDEXED BY "{name}"'
                )
                for name in names
            ]
            winner, _ = race(counters)
            known = names[winner or 0]
            self._plans.put(shape, known)
        return known

    def sorting_matches_index(self, wanted: int) -> str:
        """INDEXED BY the filter's narrowest index when reading its rows and sorting them beats
        reading the order's index until ``wanted`` rows match ("" when it does not)."""
        lookup = self.lookup_index()
        if not lookup or self._narrowest == self._order_index:
            return ""
        if not self._order_index:
            return lookup  # nothing reads in order: the matches are sorted anyway
        # Sorting k rows beats reading wanted * documents / matches >= wanted * documents / k
        # rows in order when k * k <= wanted * documents: count the lookup's rows up to there.
        threshold = math.isqrt(wanted * self._documents)
        shape = memo_key(
            "narrow",
            self._page.scope,
            self._lookups[self._narrowest or ""].text,
            threshold.bit_length(),
        )
        known = self._plans.get(shape)
        if known is None:
            rows = self._page.count([self._lookups[self._narrowest or ""]], threshold, lookup)
            known = lookup if rows < threshold else ""
            self._plans.put(shape, known)
        return known

    def page_index(self, matches: int, wanted: int | None) -> tuple[str, str]:
        """(INDEXED BY clause, ORDER BY terms) to read ``wanted`` (None: all) of ``matches``."""
        order_by = ", ".join(self.terms)
        wanted = matches if wanted is None else wanted
        lookup = self.lookup_index()
        if self._order_index and (
            not lookup
            or self._narrowest == self._order_index
            or wanted * self._documents <= matches * matches  # in order reads no more
        ):
            return f'INDEXED BY "{self._order_index}"', order_by
        return lookup, order_by


class _Page:
    """The statements of one find, over one entity's rows."""

    def __init__(self, conn: sqlite3.Connection, scope: str, matches: Matcher) -> None:
        self._conn = conn
        self.scope = scope
        self._matches = matches

    def _where(self, conjuncts: Sequence[Sql]) -> Sql:
        condition = sql_and(conjuncts)
        return Sql(f"{self.scope} AND {condition.text}", condition.params)

    def count(self, conjuncts: Sequence[Sql], limit: int | None, indexed_by: str) -> int:
        """The rows meeting ``conjuncts``, counting at most ``limit`` of them."""
        where = self._where(conjuncts)
        tail = f"WHERE {where.text}"
        if limit is None:
            return int(
                self._select(
                    "SELECT count(*) FROM documents", indexed_by, tail, where.params
                ).fetchone()[0]
            )
        rows = self._select(
            "SELECT count(*) FROM (SELECT 1 FROM documents",
            indexed_by,
            f"{tail} LIMIT ?)",
            (*where.params, _sql_int(limit)),
        )
        return int(rows.fetchone()[0])

    def _select(
        self, head: str, indexed_by: str, tail: str, params: tuple[Any, ...]
    ) -> sqlite3.Cursor:
        """Run ``head indexed_by tail``; without ``indexed_by`` if SQLite cannot use it."""
        try:
            return self._conn.execute(f"{head} {indexed_by} {tail}", params)
        except sqlite3.OperationalError as exc:
            # The hint is only about speed. SQLite folds some conditions first (a constant false
            # one, say) and may then find no plan that uses a partial index; and an index named
            # from this process's memory may have been dropped meanwhile (reset() by another
            # connection of the pool, another process on the same file).
            message = str(exc)
            if not indexed_by or not ("no query solution" in message or "no such index" in message):
                raise
            return self._conn.execute(f"{head} {tail}", params)

    def side(self, conditions: list[Sql]) -> list[Row]:
        """The side rows that match, in insertion order."""
        if not conditions:
            return []
        where = self._where([sql_or(conditions)])
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
            (*where.params, -1 if limit is None else _sql_int(limit), _sql_int(offset)),
        )
        return [(seq, decode_document(body)) for seq, body in rows]

    def read_counted(
        self,
        conjuncts: Sequence[Sql],
        indexed_by: str,
        terms: tuple[str, ...],
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        """Like :meth:`read`, and the number of all rows meeting ``conjuncts`` (any page)."""
        where = self._where(conjuncts)
        rows = self._select(
            "SELECT seq, body, count(*) OVER () FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?",
            (*where.params, _sql_int(limit), _sql_int(offset)),
        ).fetchall()
        total = rows[0][2] if rows else 0
        return [(seq, decode_document(body)) for seq, body, _ in rows], total

    def stream(
        self, conjuncts: Sequence[Sql], access: _Access, keep: int | None
    ) -> tuple[list[Row], int]:
        """Every candidate decided in Python: the first ``keep`` matches (None: all) in order,
        and how many match."""
        where = self._where(conjuncts)
        indexed_by, order_by = access.lookup_index(), ", ".join(access.terms)
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


def _sql_int(value: int) -> int:
    """A row count as SQLite takes it (64 bits); no table holds more rows."""
    return min(value, _MAX_SQL_INT)


def _decoded(rows: Iterable[tuple[int, str]]) -> Iterable[Row]:
    for seq, body in rows:
        yield seq, decode_document(body)


def _merge(main: list[Row], side: list[Row], spec: SortSpec) -> list[Document]:
    """Main and side rows in the exact order: the matcher's sort over insertion order."""
    rows = sorted(main + side, key=lambda row: row[0]) if side else main
    docs = [doc for _, doc in rows]
    if not spec:
        return docs
    return [docs[i] for i in sort_order(docs, spec)]
