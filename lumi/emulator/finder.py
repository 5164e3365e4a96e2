"""How the entity store answers ``find``: SQLite pages and counts where it can, Python decides
the rest, and the results are exactly the Python matcher's.

1. The filter and sort become SQL (:mod:`lumi.emulator.sqlplan`). Probes of the field indexes
   tell which kinds of values each field holds: arrays need element-wise SQL, objects or
   arrays in a sort field are sorted in Python, and the bracket tests the others make
   redundant are left out of the *lean* form of each condition. This plan is made once per
   query and entity generation (:class:`_Plan`).
2. Rows SQL cannot judge, the *side* rows (documents that are not plain, rows whose sort field
   holds an object or an array), are decoded and decided in Python; there are usually none.
3. When the filter is exact, SQLite counts the matches (an unfiltered total is read from the
   ``scopes`` table; keyset totals are carried between pages, :mod:`keyset_counts`) and reads
   only the page: ``ORDER BY ... LIMIT``, merged with the side rows in Python when there are
   some. Each statement names its index (``INDEXED BY``), chosen by the rows each way would
   read (:class:`_Access`): SQLite has no statistics to judge that itself. The condition that
   index seeks is written in its seekable form, every other one in its lean form.
4. When the filter is not exact, the SQL only narrows: every candidate is decoded and matched
   (the total needs them all), streamed in page order and holding only the page.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lumi.emulator.keyset_counts import KeysetCounts, race
from lumi.emulator.matcher import Document, Matcher, SortSpec, sort_order
from lumi.emulator.prepared import PreparedQuery
from lumi.emulator.recent import Recent, memo_key
from lumi.emulator.sqlplan import (
    VALUE_BRACKETS,
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


_RAW_DECODE: Final = json.JSONDecoder().raw_decode


def decode_document(body: str) -> Document:
    """A stored document's JSON text as a fresh dict (exactly ``json.loads``)."""
    # The store writes compact JSON: raw_decode skips loads' two whitespace scans (a sixth of
    # decoding a small document). Anything else, such as a body another writer padded with
    # whitespace, goes through loads, which also raises as it would.
    try:
        doc, end = _RAW_DECODE(body)
    except ValueError:
        doc, end = None, -1
    if end != len(body):
        return json.loads(body)  # type: ignore[no-any-return]
    return doc  # type: ignore[no-any-return]


@dataclass
class ScopeInfo:
    """What a find learns of an entity, valid while its generation and the schema stand."""

    generation: int
    schema_version: int
    documents: int
    odd: bool  # whether some documents are not plain (see store_schema)
    indexes: dict[str, str]  # field -> index name
    held: dict[str, frozenset[int]] = field(default_factory=dict)  # brackets, probed so far
    #: Query key -> its plan: a plan depends on the filter, the sort and what the probes
    #: found, so it stands exactly as long as this ScopeInfo.
    plans: Recent[_Plan] = field(default_factory=lambda: Recent(_TRANSLATIONS))


class FinderMemory:
    """What finds remember between calls: keyset totals, what each entity holds, plan choices."""

    def __init__(self) -> None:
        self.counts = KeysetCounts()
        self.scopes: Recent[ScopeInfo] = Recent(_SCOPES)  # by (project, entity)
        self.plans: Recent[str] = Recent(_PLANS)  # index choices, by filter shape


class _Shapes:
    """What the entity's field indexes say about the values of its fields (one snapshot)."""

    def __init__(self, conn: sqlite3.Connection, scope: str, info: ScopeInfo) -> None:
        self._conn = conn
        self._scope = scope
        self._indexes = info.indexes
        self._known = info.held

    def brackets(self, name: str) -> frozenset[int]:
        if name not in self._indexes:
            return VALUE_BRACKETS  # unknown without an index: assume every one
        if name not in self._known:
            brackets = sorted(VALUE_BRACKETS)
            probes = ", ".join(
                f"EXISTS (SELECT 1 FROM documents WHERE {self._scope} "
                f"AND {bracket_sql(name)} = {bracket})"
                for bracket in brackets
            )
            found = self._conn.execute(f"SELECT {probes}").fetchone()
            self._known[name] = frozenset(b for b, hit in zip(brackets, found, strict=True) if hit)
        return self._known[name]


class _Conditions:
    """The conditions of a statement, each in its seekable and its lean form (see
    :mod:`lumi.emulator.sqlplan`): an index seeks one of them, the others are tested row by
    row, lean."""

    def __init__(self, scope: str, pairs: Sequence[tuple[Sql, Sql]]) -> None:
        self._scope = scope
        self.pairs = tuple(pairs)
        self.seekable = [seekable for seekable, _ in self.pairs]
        self._wheres: dict[int, Sql] = {}  # id(seek) -> WHERE (seek lives in the plan)

    def where(self, seek: Sql | None) -> Sql:
        """The WHERE of the entity's rows meeting every condition: ``seek`` (one of the
        seekable conditions) in the form an index seeks, the others lean; None: all lean;
        :data:`_ALL_SEEKABLE`: all seekable (SQLite chooses the index)."""
        if seek is _ALL_SEEKABLE:
            return _scoped(self._scope, self.seekable)
        known = self._wheres.get(id(seek))
        if known is None:
            chosen = [full if full is seek else lean for full, lean in self.pairs]
            known = self._wheres[id(seek)] = _scoped(self._scope, chosen)
        return known


_ALL_SEEKABLE: Final = Sql("all seekable")  # compared by identity only


def _scoped(scope: str, conjuncts: Sequence[Sql]) -> Sql:
    """The rows of one entity meeting ``conjuncts`` (parenthesised: one of them may be an OR,
    and AND binds tighter)."""
    condition = sql_and(conjuncts)
    return Sql(f"{scope} AND ({condition.text})", condition.params)


class _Plan:
    """How a query reads one entity generation: its conditions, its order and its indexes."""

    def __init__(
        self, scope: str, info: ScopeInfo, where: FilterSql, order: SortSql | None
    ) -> None:
        self.where = where
        self.order = order
        pairs = list(zip(where.conjuncts, where.lean, strict=True))
        side: list[Sql] = []
        if info.odd:
            pairs.append((Sql("plain = 1"), Sql("plain = 1")))
            side.append(Sql("plain = 0"))
        if order is not None and order.exceptions is not None:
            usual = Sql(f"NOT ({order.exceptions})")
            pairs.append((usual, usual))
            side.append(sql_and([Sql(order.exceptions), *where.conjuncts]))
        self.side = side
        self.main = _Conditions(scope, pairs)
        id_position = None if where.id_range is None else where.id_range[0]
        self.rest = _Conditions(scope, [p for i, p in enumerate(pairs) if i != id_position])
        rest_sql = sql_and(self.rest.seekable)
        #: Names ``rest`` for the remembered keyset totals.
        self.rest_key = memo_key(scope, rest_sql.text, rest_sql.params)
        self.access = _Access(order, where, info)


def find_page(
    conn: sqlite3.Connection,
    project_id: str,
    entity: str,
    query: PreparedQuery,
    start: int,
    count: int | None,
    memory: FinderMemory,
) -> tuple[list[Document], int]:
    """One page of ``query`` and the number of matches.

    Runs in the caller's read transaction, so that every statement sees one snapshot.
    """
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
        info = ScopeInfo(generation, schema_version, documents, bool(odd), indexes)
        memory.scopes.put((project_id, entity), info)
    plan = _planned(conn, scope, info, query)
    where, order, access = plan.where, plan.order, plan.access
    page = _Page(conn, scope, query.matches, memory.plans)
    side_rows = page.side(plan.side)
    if not where.exact:
        keep = None if order is None or count is None else start + count
        main_rows, matched = page.stream(plan.main, access, keep)
        rows = _merge(main_rows, side_rows, query.spec)
        return rows[start : None if count is None else start + count], matched + len(side_rows)
    rest = plan.rest

    def counter(extra: Sql | None, limit: int | None) -> int:
        if extra is None:  # the whole filter: through the index that reads the fewest rows
            indexed_by, seek = access.lookup(page)
            return page.count(rest.where(seek), limit, indexed_by)
        return page.count(_and_where(rest.where(_ALL_SEEKABLE), extra), limit, "")

    if where.id_range is None and rest.pairs and order is not None and not side_rows and count:
        narrow = access.sorting_matches_index(page, start + count)
        if narrow is not None:  # few matches: read and sort them all, counting them on the way
            indexed_by, seek = narrow
            docs, total = page.read_counted(
                plan.main.where(seek), indexed_by, order.lean_order_by, count, start
            )
            if docs:
                memory.counts.count(plan.rest_key, generation, None, counter, total)
                return docs, total
    total = memory.counts.count(
        plan.rest_key,
        generation,
        None if where.id_range is None else where.id_range[1:],
        counter,
        documents if not rest.pairs else None,
    )
    if order is None or side_rows:
        keep = None if order is None or count is None else min(start + count, total)
        main_rows = page.read(plan.main, access.page_index(page, total, keep), keep, 0)
        rows = _merge(main_rows, side_rows, query.spec)
        return rows[start : None if count is None else start + count], total + len(side_rows)
    if start >= total:
        return [], total
    limit = total - start if count is None else min(count, total - start)
    main_rows = page.read(plan.main, access.page_index(page, total, start + limit), limit, start)
    return [doc for _, doc in main_rows], total


def _and_where(where: Sql, extra: Sql) -> Sql:
    return Sql(f"{where.text} AND ({extra.text})", (*where.params, *extra.params))


def _planned(conn: sqlite3.Connection, scope: str, info: ScopeInfo, query: PreparedQuery) -> _Plan:
    """The query's plan for this entity generation, made once: the same query page after
    page (an iteration, a console poll) skips a translation that costs about a fifth of a
    small page."""
    known = None if query.key is None else info.plans.get(query.key)
    if known is None:
        shapes = _Shapes(conn, scope, info)
        where = translate_filter(query.filter, shapes)
        known = _Plan(scope, info, where, translate_sort(query.spec, shapes, where.pinned))
        if query.key is not None:
            info.plans.put(query.key, known)
    return known


_Lookup = tuple[str, Sql | None]  # (INDEXED BY clause, the seekable condition it seeks)
_NO_LOOKUP: Final[_Lookup] = ("", _ALL_SEEKABLE)  # SQLite's choice


class _Access:
    """Which index each statement of a find reads through.

    SQLite keeps no statistics on expression indexes, and without them it misjudges: it reads a
    whole entity in insertion order rather than sort 40 matches, or looks a filter up through
    its widest condition. So the store decides. Counting goes through the index of the
    condition that reads the fewest rows (found by bounded counts racing, :func:`race`, once per
    filter shape and entity size). The page goes through the index of the order, read in order
    until it has the page (about ``wanted * documents / matches`` rows), or through the filter's
    index and a sort of the matches, whichever reads fewer. Its choices stand for the plan's
    entity generation.
    """

    def __init__(self, order: SortSql | None, where: FilterSql, info: ScopeInfo) -> None:
        self._order = order
        self._documents = info.documents
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
        self._narrowest: tuple[str, _Lookup] | None = None  # (index name, its lookup)
        #: sorting_matches_index's answers, by the bit length of its threshold
        self._sorting: dict[int, _Lookup | None] = {}

    def lookup(self, page: _Page) -> _Lookup:
        """The index that reads the fewest rows for the filter: (INDEXED BY clause, the
        condition it seeks); :data:`_NO_LOOKUP` if none."""
        return self._narrowest_lookup(page)[1]

    def _narrowest_lookup(self, page: _Page) -> tuple[str, _Lookup]:
        if self._narrowest is None:
            name = self._measure(page)
            found = (f'INDEXED BY "{name}"', self._lookups[name]) if name else _NO_LOOKUP
            self._narrowest = (name, found)
        return self._narrowest

    def _measure(self, page: _Page) -> str:
        names = list(self._lookups)
        if len(names) <= 1:
            return names[0] if names else ""
        shape = memo_key(
            page.scope,
            tuple(f"{name}\0{self._lookups[name].text}" for name in names),
            self._documents.bit_length(),
        )
        known = page.plans.get(shape)
        if known is None:
            counters = [
                lambda limit, name=name: page.count(
                    _scoped(page.scope, [self._lookups[name]]), limit, f'INDEXED BY "{name}"'
                )
                for name in names
            ]
            winner, _ = race(counters)
            known = names[winner or 0]
            page.plans.put(shape, known)
        return known

    def sorting_matches_index(self, page: _Page, wanted: int) -> _Lookup | None:
        """The filter's narrowest index when reading its rows and sorting them beats reading
        the order's index until ``wanted`` rows match (None when it does not)."""
        # Sorting k rows beats reading wanted * documents / matches >= wanted * documents / k
        # rows in order when k * k <= wanted * documents: count the lookup's rows up to there.
        threshold = math.isqrt(wanted * self._documents)
        size = threshold.bit_length()
        if size not in self._sorting:
            self._sorting[size] = self._sorting_matches_index(page, threshold)
        return self._sorting[size]

    def _sorting_matches_index(self, page: _Page, threshold: int) -> _Lookup | None:
        narrowest, lookup = self._narrowest_lookup(page)
        if not narrowest or narrowest == self._order_index:
            return None
        if not self._order_index:
            return lookup  # nothing reads in order: the matches are sorted anyway
        seek = self._lookups[narrowest]
        shape = memo_key("narrow", page.scope, seek.text, threshold.bit_length())
        known = page.plans.get(shape)
        if known is None:
            rows = page.count(_scoped(page.scope, [seek]), threshold, lookup[0])
            known = lookup[0] if rows < threshold else ""
            page.plans.put(shape, known)
        return lookup if known else None

    def page_index(self, page: _Page, matches: int, wanted: int | None) -> tuple[_Lookup, str]:
        """The index to read ``wanted`` (None: all) of ``matches`` through, and the ORDER BY
        terms: read in the order's index, or sort what the filter's index finds."""
        wanted = matches if wanted is None else wanted
        narrowest, lookup = self._narrowest_lookup(page)
        if self._order_index and (
            not narrowest
            or narrowest == self._order_index
            or wanted * self._documents <= matches * matches  # in order reads no more
        ):
            # the order's own field may be sought (a range on it) while reading in order
            seek = self._lookups.get(self._order_index)
            return (f'INDEXED BY "{self._order_index}"', seek), ", ".join(self.terms)
        if not narrowest:
            return _NO_LOOKUP, ", ".join(self.terms)
        lean = self.terms if self._order is None else self._order.lean_terms
        return lookup, ", ".join(lean)


class _Page:
    """The statements of one find, over one entity's rows."""

    def __init__(
        self, conn: sqlite3.Connection, scope: str, matches: Matcher, plans: Recent[str]
    ) -> None:
        self._conn = conn
        self.scope = scope
        self._matches = matches
        self.plans = plans  # index choices remembered by filter shape

    def count(self, where: Sql, limit: int | None, indexed_by: str) -> int:
        """The rows meeting ``where``, counting at most ``limit`` of them."""
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
        where = _scoped(self.scope, [sql_or(conditions)])
        rows = self._conn.execute(
            f"SELECT seq, body FROM documents WHERE {where.text} ORDER BY seq", where.params
        )
        return [(seq, doc) for seq, doc in _decoded(rows) if self._matches(doc)]

    def read(
        self,
        conditions: _Conditions,
        access: tuple[_Lookup, str],
        limit: int | None,
        offset: int,
    ) -> list[Row]:
        """Rows of an exact condition, in order, ``limit`` of them after ``offset``."""
        (indexed_by, seek), order_by = access
        where = conditions.where(seek)
        rows = self._select(
            "SELECT seq, body FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {order_by} LIMIT ? OFFSET ?",
            (*where.params, -1 if limit is None else _sql_int(limit), _sql_int(offset)),
        )
        return [(seq, decode_document(body)) for seq, body in rows]

    def read_counted(
        self, where: Sql, indexed_by: str, order_by: str, limit: int, offset: int
    ) -> tuple[list[Document], int]:
        """Documents meeting ``where`` in order, ``limit`` of them after ``offset``, and the
        number of all of them."""
        rows = self._select(
            "SELECT body, count(*) OVER () FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {order_by} LIMIT ? OFFSET ?",
            (*where.params, _sql_int(limit), _sql_int(offset)),
        ).fetchall()
        total = rows[0][1] if rows else 0
        return [decode_document(body) for body, _ in rows], total

    def stream(
        self, conditions: _Conditions, access: _Access, keep: int | None
    ) -> tuple[list[Row], int]:
        """Every candidate decided in Python: the first ``keep`` matches (None: all) in order,
        and how many match."""
        indexed_by, seek = access.lookup(self)
        where = conditions.where(seek)
        rows = self._select(
            "SELECT seq, body FROM documents",
            indexed_by,
            f"WHERE {where.text} ORDER BY {', '.join(access.terms)}",
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
