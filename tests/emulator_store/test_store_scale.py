"""The engine at size: work that does not grow with the collection, field indexes, the schema
migration, and hostile queries that must not break the SQL.

Work is measured deterministically, never in seconds: SQLite virtual-machine steps (a progress
handler), documents decoded in Python, and Python memory (tracemalloc).
"""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

import lumi.emulator.finder as finder
from lumi.emulator.query import QueryError
from lumi.emulator.store import EntityStore

P, E = "p1", "items"
_STEP = 100  # a progress tick every 100 virtual-machine instructions


@pytest.fixture
def big(tmp_path: Path) -> Iterator[EntityStore]:
    store = EntityStore(tmp_path / "big.db")
    store.auto_index_min_documents = 1_000
    docs = [{"n": (i * 7919) % 20_000, "group": f"g{i % 50}", "i": i} for i in range(20_000)]
    for begin in range(0, len(docs), 5_000):
        store.create_many(P, E, docs[begin : begin + 5_000], None)
    yield store
    store.close()


def steps(store: EntityStore, call: Callable[[], Any]) -> int:
    """SQLite virtual-machine steps (in hundreds) that ``call`` costs on the store's
    connections."""
    ticks = 0

    def tick() -> int:
        nonlocal ticks
        ticks += 1
        return 0

    every_connection(store, lambda conn: conn.set_progress_handler(tick, _STEP))
    try:
        call()
    finally:
        every_connection(store, lambda conn: conn.set_progress_handler(None, _STEP))
    return ticks


def every_connection(store: EntityStore, apply: Callable[[sqlite3.Connection], Any]) -> None:
    """``apply`` to each connection of the store's pool (made now if not yet)."""
    with ExitStack() as stack:
        for _ in range(store._pool.size):
            apply(stack.enter_context(store._pool.connection()))


def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the documents the finder decodes from now on."""
    count = [0]
    original = finder.decode_document

    def counting(body: str) -> dict[str, Any]:
        count[0] += 1
        return original(body)

    monkeypatch.setattr(finder, "decode_document", counting)
    return count


def ids_in_order(store: EntityStore) -> list[str]:
    return [doc["_id"] for doc in store.find(P, E, None, {"_id": 1})[0]]


def test_an_id_keyset_page_costs_the_same_at_any_depth(
    big: EntityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = ids_in_order(big)

    def page(after: str | None) -> tuple[list[Any], int]:
        query = {} if after is None else {"$and": [{}, {"_id": {"$gt": after}}]}
        return big.find(P, E, query, {"_id": 1}, 100)

    first = steps(big, lambda: page(None))
    page(ids[17_899])  # the page before, as in a walk
    counter = decoded(monkeypatch)
    deep = steps(big, lambda: page(ids[17_999]))
    assert counter[0] == 100  # only the page left SQLite
    assert page(ids[17_999])[1] == 2_000
    assert deep <= 2 * first + 20, (first, deep)
    full_scan = steps(big, lambda: big.find(P, E, {"i": {"$gte": 0}}, {"_id": 1}, 100))
    assert deep * 10 < full_scan, (deep, full_scan)


def test_a_user_sort_keyset_page_reads_the_index_in_order(
    big: EntityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sort = {"n": 1, "_id": 1}
    big.find(P, E, {}, sort, 100)  # the entity is large: this creates the index on n
    assert big.indexed_fields(P, E) == ["n"]
    everything = big.find(P, E, {"$comment": "all"}, sort)[0]
    last = everything[17_999]
    cursor = {"$or": [{"n": {"$gt": last["n"]}}, {"n": last["n"], "_id": {"$gt": last["_id"]}}]}
    counter = decoded(monkeypatch)
    page, total = big.find(P, E, {"$and": [{}, cursor]}, sort, 100)
    assert page == everything[18_000:18_100] and total == 2_000
    assert counter[0] == 100
    deep = steps(big, lambda: big.find(P, E, {"$and": [{}, cursor]}, sort, 100))
    unindexed = steps(big, lambda: big.find(P, E, {"$and": [{}, cursor]}, {"i": 1}, 100))
    assert deep * 5 < unindexed, (deep, unindexed)


def test_a_selective_filter_reads_through_its_index(big: EntityStore) -> None:
    filter = {"group": "g7", "n": {"$gte": 100}}
    sort = {"n": -1}
    page, total = big.find(P, E, filter, sort, 20)  # creates the indexes on group and n
    assert big.indexed_fields(P, E) == ["group", "n"]
    assert total == sum(1 for i in range(7, 20_000, 50) if (i * 7919) % 20_000 >= 100)
    assert [d["n"] for d in page] == sorted((d["n"] for d in page), reverse=True)
    indexed = steps(big, lambda: big.find(P, E, filter, sort, 20))
    big.reset()
    docs = [{"n": (i * 7919) % 20_000, "group": f"g{i % 50}", "i": i} for i in range(20_000)]
    big.auto_index_min_documents = 10**9
    big.create_many(P, E, docs, None)
    assert big.indexed_fields(P, E) == []  # reset dropped them; none created below
    scanned = steps(big, lambda: big.find(P, E, filter, sort, 20))
    assert indexed * 10 < scanned, (indexed, scanned)


def test_a_keyset_page_holds_no_more_memory_for_a_larger_collection(tmp_path: Path) -> None:
    peaks = []
    for size in (2_000, 20_000):
        store = EntityStore(tmp_path / f"m{size}.db")
        store.create_many(P, E, [{"i": i, "pad": "x" * 200} for i in range(size)], None)
        ids = ids_in_order(store)
        query = {"$and": [{}, {"_id": {"$gt": ids[size // 2]}}]}
        store.find(P, E, query, {"_id": 1}, 50)  # warm caches and statements
        tracemalloc.start()
        store.find(P, E, {"$and": [{}, {"_id": {"$gt": ids[size - 100]}}]}, {"_id": 1}, 50)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        store.close()
    assert peaks[1] < 1.5 * peaks[0] + 10_000, peaks


# ---- field indexes -------------------------------------------------------------------------


def test_indexes_are_created_for_large_entities_only_and_capped(store: EntityStore) -> None:
    store.auto_index_min_documents = 50
    store.max_field_indexes = 2
    store.create_many(P, E, [{"a": i, "b": i, "c": i} for i in range(49)], None)
    store.find(P, E, {"a": 1}, {"b": 1})
    assert store.indexed_fields(P, E) == []  # 49 documents: a scan is cheap
    store.create(P, E, {"a": 0}, None)
    store.find(P, E, {"a": 1, "c": {"$gt": 3}}, {"b": 1})
    assert store.indexed_fields(P, E) == ["a", "b"]  # sort field first, then the filter's
    store.find(P, E, {"c": 1})
    assert store.indexed_fields(P, E) == ["a", "b"]  # at most two
    store.ensure_index(P, "other", "c")  # declared indexes are per entity
    assert store.indexed_fields(P, "other") == ["c"]
    store.reset()
    assert store.indexed_fields(P, E) == store.indexed_fields(P, "other") == []


@pytest.mark.parametrize("field", ["_id", "a.b", "", "has space", "$x", 3, 'q"uote'])
def test_only_top_level_named_fields_can_be_indexed(store: EntityStore, field: Any) -> None:
    with pytest.raises(QueryError, match="cannot index field"):
        store.ensure_index(P, E, field)


def test_an_index_from_another_version_is_replaced(store: EntityStore, tmp_path: Path) -> None:
    store.create_many(P, E, [{"a": i % 3} for i in range(30)], None)
    store.ensure_index(P, E, "a")
    with sqlite3.connect(tmp_path / "entities.db") as conn:  # as if written for other keys
        conn.execute("UPDATE field_indexes SET key_sql = 'old'")
    assert store.indexed_fields(P, E) == []
    store.ensure_index(P, E, "a")
    assert store.indexed_fields(P, E) == ["a"]
    with sqlite3.connect(tmp_path / "entities.db") as conn:
        names = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'documents_field%'"
        ).fetchall()
    assert len(names) == 1  # the old one was dropped
    assert store.find(P, E, {"a": 1})[1] == 10


# ---- migration ------------------------------------------------------------------------------

_VERSION_0 = """
CREATE TABLE documents (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (project, entity, id)
);
CREATE INDEX documents_by_scope ON documents (project, entity, seq);
"""


def test_a_store_written_before_version_1_opens_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    docs = [
        {"_id": f"{i:024x}", "n": i % 4, "s": "x\u0000y" if i == 3 else f"s{i}"} for i in range(12)
    ]
    docs.append({"_id": f"{99:024x}", "n": 2**70})
    with sqlite3.connect(path) as conn:  # what the store wrote before version 1
        conn.executescript(_VERSION_0)
        conn.executemany(
            "INSERT INTO documents (project, entity, id, body) VALUES (?, ?, ?, ?)",
            [(P, E, doc["_id"], json.dumps(doc, ensure_ascii=False)) for doc in docs]
            + [(P, "other", f"{7:024x}", json.dumps({"_id": f"{7:024x}"}))],
        )
    store = EntityStore(path)
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
            assert conn.execute("SELECT project, entity, documents FROM scopes").fetchall() == [
                (P, E, 13),
                (P, "other", 1),
            ]
            not_plain = conn.execute("SELECT id FROM documents WHERE plain = 0").fetchall()
            assert sorted(not_plain) == [(f"{3:024x}",), (f"{99:024x}",)]
        for filter, sort in [
            ({"n": 2}, {"s": 1}),
            ({"s": {"$gt": "x"}}, None),
            ({"n": {"$gte": 1}}, {"n": -1}),
            ({"$and": [{}, {"_id": {"$gt": f"{5:024x}"}}]}, {"_id": 1}),
        ]:
            assisted = store.find(P, E, filter, sort, 5)
            store.sql_assist = False
            assert assisted == store.find(P, E, filter, sort, 5)
            del store.sql_assist
        store.create(P, E, {"n": 1}, None)
        store.delete(P, E, f"{0:024x}")
        assert store.find(P, E, {}, None, 1)[1] == 13
    finally:
        store.close()
    reopened = EntityStore(path)  # a second open migrates nothing
    try:
        assert reopened.find(P, E, {"n": 1})[1] == 4
    finally:
        reopened.close()


# ---- hostile queries -------------------------------------------------------------------------


def nested(depth: int, leaf: dict[str, Any], operator: str = "$or") -> dict[str, Any]:
    filter = leaf
    for _ in range(depth):
        filter = {operator: [filter, {"a": -1}]}
    return filter


@pytest.mark.parametrize(
    "filter",
    [
        nested(49, {"a": 1}),  # 99 levels of objects and arrays: the deepest filter allowed
        nested(49, {"a": 1}, "$and"),
        nested(49, {"a": 1}, "$nor"),
        {"$or": [{"a": i} for i in range(3_000)]},
        {"a": {"$in": list(range(250_000))}},
        {"a": {"$nin": list(range(250_000))}},
        {"a": {"$all": list(range(2_000))}},
        {"a": {"$not": {"$not": {"$not": {"$gt": 1}}}}},
        {"s": "\ud800"},
        {"s": {"$in": ["\ud800", "a\u0000b"]}},
        {"s": {"$regex": "^\ud800"}},
        {"_id": {"$gt": "\ud800"}},
        {"a": 2**63 - 1},
        {"a": {"$gt": -(2**63), "$lt": 2**63 - 1}},
        {"a": {"$gt": 1e300, "$lt": -1e300}},
    ],
)
def test_hostile_filters_get_exact_answers(store: EntityStore, filter: dict[str, Any]) -> None:
    store.auto_index_min_documents = 0
    store.create_many(P, E, [{"a": i % 5, "s": ["a", "b"][i % 2]} for i in range(40)], None)
    assisted = store.find(P, E, filter, {"a": -1}, 7, 2)
    store.sql_assist = False
    try:
        assert assisted == store.find(P, E, filter, {"a": -1}, 7, 2)
    finally:
        del store.sql_assist


@pytest.mark.parametrize(
    "filter", [{}, {"a": 1}, {"a": {"$regex": "x"}}, {"a": {"$gt": 0}, "b": {"$in": [0, 1]}}]
)
@pytest.mark.parametrize("sort", [None, {"a": 1}, {"_id": -1}, {"o.x": 1}])
@pytest.mark.parametrize("indexed", [False, True])
def test_huge_skip_and_limit(store: EntityStore, filter: Any, sort: Any, indexed: bool) -> None:
    store.auto_index_min_documents = 0 if indexed else 10**9
    store.create_many(P, E, [{"a": i % 3, "b": i % 2} for i in range(10)], None)
    total = store.find(P, E, filter)[1]
    assert store.find(P, E, filter, sort, 2**70, 2**70) == ([], total)
    assert len(store.find(P, E, filter, sort, 2**70, 1)[0]) == max(total - 1, 0)


@pytest.mark.parametrize("entity", ["it's", "{braces}", "é ü", "a;DROP TABLE documents", "%s"])
def test_entity_names_are_data_not_sql(store: EntityStore, entity: str) -> None:
    store.auto_index_min_documents = 0
    store.create_many(P, entity, [{"a": i} for i in range(5)], None)
    assert store.find(P, entity, {"a": {"$gte": 2}}, {"a": -1}, 2) == (
        store.find(P, entity, {"a": {"$in": [4, 3]}}, {"a": -1})[0],
        3,
    )
    assert store.indexed_fields(P, entity) == ["a"]


@pytest.mark.parametrize("name", ["a\u0000b", "\ud800"])
def test_names_sql_cannot_hold_are_refused(store: EntityStore, name: str) -> None:
    with pytest.raises(QueryError, match="must be valid Unicode text without NUL"):
        store.find(P, name)
    with pytest.raises(QueryError, match="must be valid Unicode text without NUL"):
        store.create(name, E, {}, None)


def test_text_that_is_not_unicode_is_refused(store: EntityStore) -> None:
    with pytest.raises(QueryError, match="not valid Unicode"):
        store.create(P, E, {"s": "\ud800"}, None)
    doc = store.create(P, E, {"s": "ok"}, None)
    with pytest.raises(QueryError, match="not valid Unicode"):
        store.update(P, E, doc["_id"], {"s": "\udfff"})
    assert store.get(P, E, doc["_id"])["s"] == "ok"  # type: ignore[index]
