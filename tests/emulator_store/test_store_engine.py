"""The SQL engine never changes a result: differential property tests against the Python path.

``EntityStore.sql_assist = False`` decodes every document and lets the matcher decide and sort:
the reference. Every page, order and total the SQL-assisted store returns must be exactly that,
over random documents (missing fields, nulls, mixed types, arrays, objects, NUL strings that
SQLite reads differently, integers at the 64-bit edges, floats beyond them), random filters
(every operator the matcher knows, those SQL translates and those it leaves to Python, mixed
under $and/$or/$nor/$not), sorts, limits and skips, and the keyset cursor shapes the client pages
with; with and without field indexes. Integers beyond 64 bits, which SQLite reads as reals, can
only come from a data folder written before the store refused them: see
test_legacy_integers_beyond_64_bits_are_decided_in_python.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumi.emulator.store import EntityStore

P, E = "p1", "things"
FIELDS = ["a", "b", "c"]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 2, 7, -7, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)]),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -1.5, -7.9, 1e300, 2.0**53, 0.1, 2.0**63, -1e19]),
    st.sampled_from(["", "a", "ab", "abc", "B", "b", "é", "😀", "1", "a\x00b", "ab\n"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.lists(st.lists(SCALARS, max_size=2), min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(["x", "y"]), SCALARS, max_size=2),
)
DOCS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "a": VALUES,
            "b": VALUES,
            "c": SCALARS,
            "n": st.fixed_dictionaries({}, optional={"x": SCALARS}),
        },
    ),
    min_size=1,
    max_size=14,
)
PATHS = st.sampled_from(["a", "b", "c", "n.x", "_id"])
BOUNDS = st.one_of(SCALARS, st.sampled_from([[1], {"x": 1}]))
CONDITIONS = st.one_of(
    SCALARS,
    st.builds(lambda v: {"$eq": v}, BOUNDS),
    st.builds(lambda v: {"$ne": v}, BOUNDS),
    st.builds(lambda o, v: {o: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), BOUNDS),
    st.builds(lambda lo, hi: {"$gte": lo, "$lt": hi}, SCALARS, SCALARS),
    st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=4)),
    st.builds(lambda v: {"$nin": v}, st.lists(SCALARS, max_size=3)),
    st.builds(lambda v: {"$exists": v}, st.booleans()),
    st.builds(lambda v: {"$size": v}, st.integers(0, 3)),
    st.builds(lambda v: {"$all": v}, st.lists(SCALARS, max_size=2)),
    st.builds(
        lambda p, o: {"$regex": p, "$options": o} if o else {"$regex": p},
        st.sampled_from(["^a", "^ab", "^é", "^A", "b", "^$", "^a\\.", "^😀"]),
        st.sampled_from(["", "i", "s"]),
    ),
    st.builds(lambda v: {"$not": {"$gt": v}}, SCALARS),
    st.builds(lambda v: {"$elemMatch": {"$gte": v}}, SCALARS),
    # Left to Python by the SQL translation: exact under $and/$or/$nor/$not all the same.
    st.builds(
        lambda t: {"$type": t},
        st.sampled_from(["string", "number", "int", "long", "double", "array", "null", "bool"])
        | st.lists(st.sampled_from([1, 2, 3, 4, 8, 10, 16, 18]), min_size=1, max_size=2),
    ),
    st.builds(
        lambda d, r: {"$mod": [d, r]}, st.sampled_from([2, -3, 7, 2.5]), st.sampled_from([0, 1, -1])
    ),
    st.builds(
        lambda o, m: {o: m},
        st.sampled_from(["$bitsAllSet", "$bitsAnySet", "$bitsAllClear", "$bitsAnyClear"]),
        st.sampled_from([0, 1, 6, [0, 63], [64]]),
    ),
    st.builds(lambda v: {"$all": [{"$elemMatch": {"$gte": v}}]}, SCALARS),
    st.builds(lambda p: {"$not": {"$regex": p}}, st.sampled_from(["^a", "b", "^$"])),
    st.builds(lambda v: {"$exists": v}, st.sampled_from([0, 1, "", None, [], {}])),
    st.builds(lambda v: {"$not": {"$in": v}}, st.lists(SCALARS, max_size=3)),
)
LEAVES = st.dictionaries(PATHS, CONDITIONS, min_size=1, max_size=2)
FILTERS = st.one_of(
    st.just({}),
    st.recursive(
        LEAVES,
        lambda inner: st.builds(
            lambda op, branches: {op: branches},
            st.sampled_from(["$and", "$or", "$nor"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        max_leaves=5,
    ),
)
SORTS = st.one_of(
    st.none(),
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "n.x", "_id"]), st.sampled_from([1, -1])),
        min_size=1,
        max_size=3,
        unique_by=lambda item: item[0],
    ).map(dict),
)
PAGES = st.tuples(st.sampled_from([None, 0, 1, 2, 5]), st.sampled_from([None, 0, 1, 3]))
INDEXING = st.sampled_from(["none", "all", "auto"])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EntityStore]:
    store = EntityStore(tmp_path / "engine.db")
    yield store
    store.close()


def python_find(store: EntityStore, *args: Any) -> tuple[list[Any], int]:
    store.sql_assist = False
    try:
        return store.find(P, E, *args)
    finally:
        del store.sql_assist


def load(store: EntityStore, docs: list[dict[str, Any]], indexing: str) -> list[str]:
    store.reset()
    # The same documents in another entity and another project: a find that read a row
    # outside its entity would answer one twice.
    store.create_many(P, "decoy", docs, None)
    store.create_many("p2", E, docs, None)
    created = store.create_many(P, E, docs, None)
    store.auto_index_min_documents = 0 if indexing == "auto" else 10**9
    if indexing == "all":
        for name in FIELDS:
            store.ensure_index(P, E, name)
    return sorted(doc["_id"] for doc in created)


def assert_same(store: EntityStore, *args: Any) -> tuple[list[Any], int]:
    assisted = store.find(P, E, *args)
    reference = python_find(store, *args)
    assert assisted == reference, args
    return assisted


SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    docs=DOCS,
    indexing=INDEXING,
    queries=st.lists(st.tuples(FILTERS, SORTS, PAGES), min_size=1, max_size=4),
)
def test_sql_paths_return_exactly_the_python_results(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    indexing: str,
    queries: list[tuple[dict[str, Any], dict[str, int] | None, tuple[Any, Any]]],
) -> None:
    load(engine, docs, indexing)
    for filter, sort, (limit, skip) in queries:
        assert_same(engine, filter, sort, limit, skip)


@SETTINGS
@given(
    docs=DOCS,
    indexing=INDEXING,
    query=st.tuples(FILTERS, SORTS, PAGES),
    writes=st.lists(st.fixed_dictionaries({"a": VALUES, "b": VALUES}), min_size=1, max_size=3),
)
def test_a_query_asked_again_after_writes_sees_them(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    indexing: str,
    query: tuple[dict[str, Any], dict[str, int] | None, tuple[Any, Any]],
    writes: list[dict[str, Any]],
) -> None:
    """The SQL of a filter and sort is remembered per entity generation: a write that changes
    what the fields hold (an array or an object where there were only scalars) is seen by the
    same query asked again, and the same query twice in a row answers the same."""
    load(engine, docs, indexing)
    filter, sort, (limit, skip) = query
    first = assert_same(engine, filter, sort, limit, skip)
    assert engine.find(P, E, filter, sort, limit, skip) == first
    for doc in writes:
        engine.create(P, E, doc, "u1")
        assert_same(engine, filter, sort, limit, skip)


def test_large_filters_leave_no_memory_behind(engine: EntityStore) -> None:
    """What finds remember (the SQL of a filter, counts, plan choices) is keyed by the filter:
    a long `$in` (the body may carry 16 MiB of it) is remembered by its digest, so ten
    distinct ones of about 350 KB each retain kilobytes, not the 3.5 MB of their text."""
    import gc
    import tracemalloc

    engine.create_many(P, E, [{"a": i, "b": i % 7} for i in range(300)], "u1")
    engine.ensure_index(P, E, "a")
    engine.ensure_index(P, E, "b")

    def query(n: int) -> tuple[list[Any], int]:
        values = [f"v{n}-{i:06d}" for i in range(30_000)] + [n % 7]
        return engine.find(P, E, {"b": {"$in": values}, "a": {"$gte": 0}}, {"a": 1}, 10, 0)

    query(-1)  # the first find also creates what every later one reuses
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(10):
            page, total = query(n)
            assert total == len([i for i in range(300) if i % 7 == n % 7]) and len(page) == 10
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    retained = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert retained < 500_000, retained


def test_filters_that_python_thinks_equal_are_told_apart(engine: EntityStore) -> None:
    """``1``, ``1.0`` and ``True`` are one dict key in Python but three filters in MongoDB."""
    for value in (1, True, 1.5):
        engine.create(P, E, {"a": value}, "u1")
    engine.ensure_index(P, E, "a")
    assert [d["a"] for d in engine.find(P, E, {"a": 1})[0]] == [1]
    assert [d["a"] for d in engine.find(P, E, {"a": True})[0]] == [True]
    assert [d["a"] for d in engine.find(P, E, {"a": 1.0})[0]] == [1]
    assert [d["a"] for d in engine.find(P, E, {"a": {"$gt": 1}})[0]] == [1.5]


@SETTINGS
@given(docs=DOCS, indexing=INDEXING, filter=FILTERS, data=st.data())
def test_keyset_cursor_shapes_agree(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    indexing: str,
    filter: dict[str, Any],
    data: st.DataObject,
) -> None:
    ids = load(engine, docs, indexing)
    last = data.draw(st.sampled_from(ids), label="last id")
    op = data.draw(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), label="id operator")
    direction = 1 if op in ("$gt", "$gte") else -1
    page = data.draw(st.sampled_from([1, 2, 5]), label="page size")
    keyset = {"$and": [filter, {"_id": {op: last}}]}
    assert_same(engine, keyset, {"_id": direction}, page, None)
    # A compound cursor on a user sort: after (value, id) in the field's order.
    name = data.draw(st.sampled_from(FIELDS), label="sort field")
    value = data.draw(SCALARS, label="cursor value")
    after = "$gt" if direction == 1 else "$lt"
    compound = {
        "$and": [filter, {"$or": [{name: {after: value}}, {name: value, "_id": {"$gt": last}}]}]
    }
    assert_same(engine, compound, {name: direction, "_id": 1}, page, None)
    assert_same(engine, compound, {name: direction, "_id": direction}, page, None)


@SETTINGS
@given(
    docs=DOCS,
    indexing=INDEXING,
    filter=FILTERS,
    page=st.sampled_from([1, 2, 3]),
    direction=st.sampled_from([1, -1]),
    writes=st.lists(
        st.tuples(st.sampled_from(["create", "delete", "update", "none"]), SCALARS), max_size=6
    ),
)
def test_keyset_walk_totals_stay_exact_under_writes(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    indexing: str,
    filter: dict[str, Any],
    page: int,
    direction: int,
    writes: list[tuple[str, Any]],
) -> None:
    # Totals are carried from page to page (keyset_counts); writes between pages must be seen.
    load(engine, docs, indexing)
    op = "$gt" if direction == 1 else "$lt"
    cursor: str | None = None
    pending = list(writes)
    for _ in range(len(docs) + len(writes) + 2):
        query = filter if cursor is None else {"$and": [filter, {"_id": {op: cursor}}]}
        found, _ = assert_same(engine, query, {"_id": direction}, page, None)
        if not found:
            break
        cursor = found[-1]["_id"]
        if pending:
            action, value = pending.pop(0)
            everything = python_find(engine, None, {"_id": 1}, None, None)[0]
            if action == "create":
                engine.create(P, E, {"a": value, "c": value}, None)
            elif action == "delete" and everything:
                engine.delete(P, E, everything[len(everything) // 2]["_id"])
            elif action == "update" and everything:
                engine.update(P, E, everything[0]["_id"], {"a": value})


def test_totals_seen_by_another_store_on_the_same_file(tmp_path: Path) -> None:
    first = EntityStore(tmp_path / "shared.db")
    second = EntityStore(tmp_path / "shared.db")
    try:
        created = first.create_many(P, E, [{"i": i} for i in range(30)], None)
        ids = sorted(doc["_id"] for doc in created)
        keyset = {"$and": [{}, {"_id": {"$gt": ids[9]}}]}
        assert first.find(P, E, keyset, {"_id": 1}, 5)[1] == 20
        second.delete_many(P, E, ids[20:25])  # the other store's writes raise the generation
        assert first.find(P, E, {"$and": [{}, {"_id": {"$gt": ids[14]}}]}, {"_id": 1}, 5)[1] == 10
        second.create(P, E, {"i": 99}, None)
        assert first.find(P, E, keyset, {"_id": 1}, 5)[1] == 16
    finally:
        first.close()
        second.close()


KINDS: dict[str, st.SearchStrategy[Any]] = {
    "number": st.sampled_from([0, 1, -1, 2, 7, 2**53 + 1, 0.0, -0.0, 1.0, 2.5, -7.9, 1e300]),
    "string": st.sampled_from(["", "a", "ab", "B", "b", "é", "😀", "1", "[1]", "{}", "ab\n"]),
    "bool": st.booleans(),
    "object": st.dictionaries(st.sampled_from(["x", "y"]), SCALARS, max_size=2),
    "array": st.lists(SCALARS, max_size=3),
}


@st.composite
def few_kind_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Documents whose fields each hold a few kinds of values (and null, or nothing)."""
    kinds = {
        name: draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=2, unique=True))
        for name in FIELDS
    }
    values = {
        name: st.one_of(st.none(), *(KINDS[kind] for kind in chosen))
        for name, chosen in kinds.items()
    }
    return draw(st.lists(st.fixed_dictionaries({}, optional=values), min_size=1, max_size=14))


@SETTINGS
@given(
    docs=few_kind_documents(),
    indexing=st.sampled_from(["all", "auto"]),
    queries=st.lists(st.tuples(FILTERS, SORTS, PAGES), min_size=1, max_size=4),
)
def test_lean_conditions_over_fields_of_few_kinds(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    indexing: str,
    queries: list[tuple[dict[str, Any], dict[str, int] | None, tuple[Any, Any]]],
) -> None:
    """Where the index probes show a field holds only some kinds of values, conditions and
    sorts leave out the bracket tests those kinds make redundant: exact all the same (a
    number range with strings beside, equality with objects beside, booleans that SQLite
    reads as 0 and 1 beside numbers, negations of a missing field...)."""
    load(engine, docs, indexing)
    for filter, sort, (limit, skip) in queries:
        assert_same(engine, filter, sort, limit, skip)


@SETTINGS
@given(
    kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3, unique=True),
    data=st.data(),
    sort=st.sampled_from([{"a": 1}, {"a": -1}, {"a": 1, "_id": -1}, {"a": -1, "b": 1}]),
    limit=st.sampled_from([1, 2, 3]),
)
def test_lean_sorts_of_few_matches(
    engine: EntityStore, kinds: list[str], data: st.DataObject, sort: dict[str, int], limit: int
) -> None:
    """A filter that matches a few rows of many is read through its own index and its matches
    sorted (not read in the order's index): that sort leaves out the bracket terms what the
    sort fields hold makes redundant, and must still order as MongoDB does."""
    values = st.one_of(st.none(), *(KINDS[kind] for kind in kinds))
    docs = data.draw(
        st.lists(
            st.fixed_dictionaries({"c": st.integers(0, 9)}, optional={"a": values, "b": values}),
            min_size=20,
            max_size=40,
        )
    )
    load(engine, docs, "all")
    for c in range(3):
        assert_same(engine, {"c": c}, sort, limit, None)
        assert_same(engine, {"c": {"$in": [c, c + 5]}}, sort, limit, 1)


def test_lean_conditions_leave_redundant_bracket_tests_out() -> None:
    """The issue's filter over fields that hold one kind each: the seekable forms test every
    bracket, the lean forms none (only the index lookup pays for one)."""
    from lumi.emulator.sqlplan import translate_filter, translate_sort

    class OneKindEach:
        def brackets(self, name: str) -> frozenset[int]:
            return frozenset({2}) if name == "price" else frozenset({3})

    filter = {"student_id": "s7", "status": {"$in": ["a", "b"]}, "price": {"$gte": 100}}
    where = translate_filter(filter, OneKindEach())
    assert all("json_type" in sql.text for sql in where.conjuncts)
    assert not any("json_type" in sql.text for sql in where.lean)
    order = translate_sort([(("day",), False), (("price",), True)], OneKindEach(), where.pinned)
    assert order is not None
    assert sum("json_type" in term for term in order.terms) == 1  # price is pinned
    assert not any("json_type" in term for term in order.lean_terms)

    class NumbersAndBooleans:
        def brackets(self, name: str) -> frozenset[int]:
            return frozenset({2, 8})

    mixed = translate_filter({"n": {"$lt": 5}, "m": {"$gt": 5}}, NumbersAndBooleans())
    assert all("json_type" in sql.text for sql in mixed.lean)  # true reads as 1 < 5
    mixed_order = translate_sort([(("n",), False)], NumbersAndBooleans(), {})
    assert mixed_order is not None and "json_type" in mixed_order.lean_terms[0]


SCALAR_DOCS = st.lists(
    st.fixed_dictionaries({}, optional={"a": SCALARS, "b": SCALARS, "c": SCALARS}),
    min_size=1,
    max_size=14,
)
RANGE_CONDITIONS = st.one_of(
    SCALARS,
    st.builds(lambda o, v: {o: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), SCALARS),
    st.builds(lambda lo, hi: {"$gt": lo, "$lte": hi}, SCALARS, SCALARS),
    st.builds(lambda v: {"$in": v}, st.lists(SCALARS, min_size=1, max_size=3)),
)
OR_OF_RANGES = st.builds(
    lambda name, branches, extra: {"$or": [{name: branch} for branch in branches], **extra},
    st.sampled_from(FIELDS),
    st.lists(RANGE_CONDITIONS, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(FIELDS), RANGE_CONDITIONS, max_size=1),
)


@SETTINGS
@given(
    docs=SCALAR_DOCS,
    filter=OR_OF_RANGES,
    sort=SORTS,
    page=PAGES,
)
def test_ranges_implied_by_an_or_keep_every_match(
    engine: EntityStore,
    docs: list[dict[str, Any]],
    filter: dict[str, Any],
    sort: dict[str, int] | None,
    page: tuple[Any, Any],
) -> None:
    # With indexes and no arrays, an $or of ranges on one field is also stated as the range
    # that covers them all (so that an index serves it): it must never drop a match.
    load(engine, docs, "all")
    assert_same(engine, filter, sort, *page)


@pytest.mark.parametrize("direction", [1, -1])
def test_keyset_totals_when_counts_race_from_both_sides(
    engine: EntityStore, monkeypatch: pytest.MonkeyPatch, direction: int
) -> None:
    # A count limited to one row makes every count race: from the previous page, the start,
    # the end. The totals must stay exact, also across writes and jumps back and forth.
    import lumi.emulator.keyset_counts as keyset_counts

    monkeypatch.setattr(keyset_counts, "_FIRST_LIMIT", 1)
    ids = load(engine, [{"a": i % 3, "c": i} for i in range(40)], "all")
    op = "$gt" if direction == 1 else "$lt"
    for filter in ({}, {"a": {"$in": [0, 2]}}):
        jumps = [ids[5], ids[6], ids[30], ids[2], ids[39], ids[0], ids[20], ids[21]]
        for step, last in enumerate(jumps):
            query = {"$and": [filter, {"_id": {op: last}}]}
            assert_same(engine, query, {"_id": direction}, 3, None)
            if step == 3:
                engine.create_many(P, E, [{"a": 0, "c": -1}, {"a": 1, "c": -2}], None)
            if step == 5:
                engine.delete(P, E, ids[25])


def test_legacy_integers_beyond_64_bits_are_decided_in_python(engine: EntityStore) -> None:
    """A data folder from before the store refused integers beyond 64 bits may hold some:
    SQLite reads them as reals, so such rows are not "plain" and Python decides them."""
    from lumi.emulator.store_schema import plain_json

    engine.create_many(P, E, [{"a": 1}, {"a": 2**62}], None)
    legacy = '{"_id":"0123456789abcdef01234567","a":100000000000000000001}'
    assert not plain_json(legacy)
    with engine._write() as conn:  # written as an older version would have
        conn.execute(
            "INSERT INTO documents (project, entity, id, body, plain) VALUES (?, ?, ?, ?, 0)",
            (P, E, "0123456789abcdef01234567", legacy),
        )
    for filter in ({"a": {"$gt": 2**62}}, {"a": {"$gte": 1e20}}, {"a": {"$type": "long"}}, {}):
        for sort in (None, {"a": -1}):
            assert_same(engine, filter, sort, None, None)
    assert engine.find(P, E, {"a": {"$gt": 1e20}})[0][0]["a"] == 10**20 + 1
