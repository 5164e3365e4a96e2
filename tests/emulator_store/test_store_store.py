"""The store itself: ids, system fields, isolation, validation, durability, threads, SQL hints."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumi.emulator.query import QueryError
from lumi.emulator.store import EntityStore, StoreClosedError, new_object_id, now_iso

P = "p1"
HEX24 = re.compile(r"[0-9a-f]{24}")


def test_object_ids_are_hex_time_prefixed_and_increasing() -> None:
    ids = [new_object_id() for _ in range(1000)]
    assert all(HEX24.fullmatch(i) for i in ids)
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)
    import time

    assert abs(int(ids[0][:8], 16) - time.time()) < 5  # the first 4 bytes are Unix seconds


def test_now_iso_is_javascript_to_iso_string_form() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now_iso())


def test_client_supplied_id_is_accepted_once(store: EntityStore) -> None:
    doc = store.create(P, "e", {"_id": "6939311E8458665713E0B522", "a": 1}, None)
    assert doc["_id"] == "6939311e8458665713e0b522"
    assert next(iter(doc)) == "_id"
    assert store.get(P, "e", "6939311e8458665713e0b522") == doc
    with pytest.raises(QueryError, match="_id 6939311e8458665713e0b522 already exists"):
        store.create(P, "e", {"_id": "6939311e8458665713e0b522"}, None)
    # ids are per project and entity
    assert store.create(P, "other", {"_id": "6939311e8458665713e0b522"}, None)["_id"] == doc["_id"]
    assert store.create("p2", "e", {"_id": "6939311e8458665713e0b522"}, None)["_id"] == doc["_id"]


@pytest.mark.parametrize("bad", ["abc", "6939311e8458665713e0b52z", 5, {"$oid": "x"}, ""])
def test_invalid_client_id_is_refused(store: EntityStore, bad: Any) -> None:
    with pytest.raises(QueryError, match="_id of document #0 must be 24 hex digits"):
        store.create(P, "e", {"_id": bad}, None)


def test_null_id_gets_a_fresh_one(store: EntityStore) -> None:
    assert HEX24.fullmatch(store.create(P, "e", {"_id": None}, None)["_id"])


def test_create_many_is_all_or_nothing(store: EntityStore) -> None:
    with pytest.raises(QueryError, match="document #1 must be an object"):
        store.create_many(P, "e", [{"a": 1}, "nope"], None)  # type: ignore[list-item]
    with pytest.raises(QueryError, match="same _id twice"):
        store.create_many(P, "e", [{"_id": "a" * 24}, {"_id": "A" * 24}], None)
    store.create(P, "e", {"_id": "b" * 24}, None)
    with pytest.raises(QueryError, match="already exists"):
        store.create_many(P, "e", [{"x": 1}, {"_id": "b" * 24}], None)
    assert store.find(P, "e", None, None, None, None)[1] == 1
    created = store.create_many(P, "e", [{"x": 1}, {"x": 2}], "u1")
    assert [d["x"] for d in created] == [1, 2] and all(d["creator"] == "u1" for d in created)
    assert store.create_many(P, "e", [], None) == []


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"$set": {"a": 1}}, "invalid field name '\\$set'"),
        ({"a": float("nan")}, "document #0 holds nan, not a finite number"),
        ({"a": float("inf")}, "document #0 holds inf, not a finite number"),
        ({"a": 2**63}, "document #0 holds the integer 9223372036854775808, beyond the 64-bit"),
        ({"a": [{"b": -(2**63) - 1}]}, "holds the integer -9223372036854775809"),
        ({"a": object()}, "not JSON"),
    ],
)
def test_bad_documents_are_refused(store: EntityStore, doc: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        store.create(P, "e", doc, None)
    assert store.find(P, "e", None, None, None, None) == ([], 0)


def test_create_returns_a_copy(store: EntityStore) -> None:
    source = {"tags": ["a"]}
    doc = store.create(P, "e", source, None)
    source["tags"].append("b")
    doc["tags"].append("c")
    assert store.get(P, "e", doc["_id"])["tags"] == ["a"]  # type: ignore[index]


def test_projects_and_entities_are_separate(store: EntityStore) -> None:
    mine = store.create(P, "notes", {"t": "mine"}, None)
    store.create(P, "tasks", {"t": "task"}, None)
    store.create("p2", "notes", {"t": "theirs"}, None)
    assert store.find(P, "notes", {}, None, None, None) == ([mine], 1)
    assert store.get("p2", "notes", mine["_id"]) is None
    assert store.get(P, "tasks", mine["_id"]) is None
    assert store.update("p2", "notes", mine["_id"], {"t": "hijack"}) is None
    assert store.delete("p2", "notes", mine["_id"]) is False
    assert store.delete_many(P, "tasks", [mine["_id"]]) == 0
    assert store.get(P, "notes", mine["_id"]) == mine


def test_get_with_a_malformed_id_is_none_and_a_non_string_is_an_error(store: EntityStore) -> None:
    assert store.get(P, "e", "nope") is None
    with pytest.raises(QueryError, match="document id must be a string"):
        store.get(P, "e", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": -1}, "limit must be a non-negative integer"),
        ({"skip": -5}, "skip must be a non-negative integer"),
        ({"limit": "10"}, "limit must be"),
        ({"limit": True}, "limit must be"),
        ({"sort": {"a": 0}}, "sort direction for 'a'"),
        ({"filter": {"$foo": 1}}, "\\$foo"),
    ],
)
def test_find_validates_its_arguments(
    store: EntityStore, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        store.find(P, "e", **kwargs)


@pytest.mark.parametrize(("project", "entity"), [("", "e"), (P, ""), (None, "e"), (P, 3)])
def test_scope_must_be_named(store: EntityStore, project: Any, entity: Any) -> None:
    with pytest.raises(QueryError, match="must be a non-empty string"):
        store.find(project, entity)


def test_limit_zero_means_no_limit(store: EntityStore) -> None:
    store.create_many(P, "e", [{"i": i} for i in range(5)], None)
    assert len(store.find(P, "e", None, None, 0, None)[0]) == 5
    assert len(store.find(P, "e", {"i": {"$gte": 0}}, None, 0, 2)[0]) == 3
    assert store.find(P, "e", None, None, 2, 10) == ([], 5)


def test_reset_drops_everything(store: EntityStore) -> None:
    store.create(P, "a", {}, None)
    store.create("p2", "b", {}, None)
    store.reset()
    assert store.find(P, "a") == ([], 0)
    assert store.find("p2", "b") == ([], 0)


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    with EntityStore(tmp_path / "s.db") as store:
        store.create(P, "e", {}, None)
    with pytest.raises(StoreClosedError):
        store.find(P, "e")


def test_durability_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "entities.db"
    store = EntityStore(path)
    kept = store.create_many(P, "e", [{"i": i, "nested": {"x": [i]}} for i in range(10)], "u")
    store.update(P, "e", kept[0]["_id"], {"nested.y": "ü"})
    store.delete(P, "e", kept[1]["_id"])
    before = store.find(P, "e", None, {"i": -1}, None, None)
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = EntityStore(path)
    try:
        assert reopened.find(P, "e", None, {"i": -1}, None, None) == before
        assert before[1] == 9
        assert reopened.get(P, "e", kept[0]["_id"])["nested"] == {"x": [0], "y": "ü"}  # type: ignore[index]
    finally:
        reopened.close()


def test_in_memory_store_works() -> None:
    with EntityStore(":memory:") as store:
        doc = store.create(P, "e", {"a": 1}, None)
        assert store.find(P, "e", {"a": 1}) == ([doc], 1)


# ---- threads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [1, 4])
def test_concurrent_writers_and_readers_lose_nothing(tmp_path: Path, connections: int) -> None:
    with EntityStore(tmp_path / "s.db", max_connections=connections) as store:
        _hammer(store)


def _hammer(store: EntityStore) -> None:
    counter = store.create(P, "counters", {"n": 0}, None)
    errors: list[BaseException] = []
    threads_n, per_thread = 8, 40

    def work(worker: int) -> None:
        try:
            for i in range(per_thread):
                store.create(P, "events", {"worker": worker, "i": i}, None)
                store.update(P, "counters", counter["_id"], {"$inc": {"n": 1}})
                page, total = store.find(P, "events", {"worker": worker}, {"i": -1}, 1, None)
                assert total == i + 1 and page[0]["i"] == i  # a thread reads its own writes
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.find(P, "events")[1] == threads_n * per_thread
    assert store.get(P, "counters", counter["_id"])["n"] == threads_n * per_thread  # type: ignore[index]


def test_two_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    first, second = EntityStore(tmp_path / "s.db"), EntityStore(tmp_path / "s.db")
    try:
        doc = first.create(P, "e", {"a": 1}, None)
        assert second.get(P, "e", doc["_id"]) == doc
        second.update(P, "e", doc["_id"], {"a": 2})
        assert first.get(P, "e", doc["_id"])["a"] == 2  # type: ignore[index]
    finally:
        first.close()
        second.close()


# ---- the SQL pre-filter never loses a match -----------------------------------------------------


def both_ways(store: EntityStore, filter: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    narrowed = [d["_id"] for d in store.find(P, "e", filter)[0]]
    store.sql_assist = False
    try:
        exact = [d["_id"] for d in store.find(P, "e", filter)[0]]
    finally:
        del store.sql_assist
    return narrowed, exact


TRICKY = [
    {"f": "abc"},
    {"f": ["x", "abc"]},
    {"f": 1},
    {"f": 1.0},
    {"f": True},
    {"f": False},
    {"f": 0},
    {"f": None},
    {},
    {"f": {"abc": 1}},
    {"f": "abd"},
    {"f": "ab"},
    {"f": "é"},
    {"f": "😀"},
    {"f": ["b", "z"]},
    {"f": '["abc"]'},
    {"f": "1"},
    {"f": 2**40},
    {"f": "ABC"},
    {"f": "abc\nd"},
    {"f": [1]},
    {"f": [[1]]},
    {"g": "abc"},
]


@pytest.mark.parametrize(
    "filter",
    [
        {"f": "abc"},
        {"f": 1},
        {"f": 1.0},
        {"f": True},
        {"f": False},
        {"f": 0},
        {"f": {"$in": ["abc", 1, True]}},
        {"f": {"$eq": "abc"}},
        {"f": {"$gt": "ab"}},
        {"f": {"$gte": "abc", "$lt": "b"}},
        {"f": {"$lte": "ab"}},
        {"f": {"$gt": "z"}},
        {"f": {"$regex": "^ab"}},
        {"f": {"$regex": "^ab", "$options": "s"}},
        {"f": {"$regex": "^ab", "$options": "i"}},
        {"f": {"$regex": '^\\["abc'}},
        {"f": {"$regex": "^abc$"}},
        {"f": 2**40},
        {"f": "é"},
        {"f": {"$gt": "é"}},
        {"$or": [{"f": "abc"}, {"g": "abc"}]},
        {"$and": [{"f": {"$gte": "a"}}, {"f": "abd"}]},
        {"$or": [{"f": "abc"}, {"g": {"$exists": True}}]},
        {"f": "😀"},
        {"f": {"$lt": "😀"}},
        {"f": [1]},
        {"f": {"$in": [None, "abc"]}},
    ],
)
def test_sql_prefilter_agrees_with_python_on_tricky_values(
    store: EntityStore, filter: dict[str, Any]
) -> None:
    store.create_many(P, "e", TRICKY, None)
    narrowed, exact = both_ways(store, filter)
    assert narrowed == exact


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 0.0, 2.5, -1.0, 2**40]),
    st.sampled_from(["a", "ab", "b", "B", "é", "ab\n", ""]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["a", "f"]), SCALARS, max_size=2),
)
DOCS = st.lists(st.dictionaries(st.sampled_from(["f", "g"]), VALUES, max_size=2), max_size=12)
FIELD = st.sampled_from(["f", "g"])
CONDITION = st.one_of(
    SCALARS,
    st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=3)),
    st.builds(
        lambda o, v: {o: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"]), SCALARS
    ),
    st.builds(lambda p: {"$regex": p}, st.sampled_from(["^a", "^ab", "^é", "^A", "b"])),
)
FILTERS = st.recursive(
    st.dictionaries(FIELD, CONDITION, min_size=1, max_size=2),
    lambda inner: st.builds(
        lambda op, xs: {op: xs},
        st.sampled_from(["$or", "$and"]),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=4,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=DOCS, filter=FILTERS)
def test_sql_prefilter_never_changes_results(
    store: EntityStore, docs: list[dict[str, Any]], filter: dict[str, Any]
) -> None:
    store.reset()
    store.create_many(P, "e", docs, None)
    narrowed, exact = both_ways(store, filter)
    assert narrowed == exact


class _NoShapes:
    """No index knowledge: every field may hold any bracket."""

    def brackets(self, name: str) -> frozenset[int]:
        return frozenset({2, 3, 4, 5, 8})


@pytest.mark.parametrize(
    "filter",
    [
        {"user_id": "u1", "n": 3, "ok": True, "x": None},
        {"status": {"$in": ["a", "b", None]}, "score": {"$nin": [1, 2.5]}},
        {"at": {"$gte": "2026", "$lt": "2027"}, "n": {"$gt": -1.5, "$ne": 3}},
        {"day": {"$regex": "^2026-03-01"}, "tags": {"$all": ["a", "b"]}},
        {"$or": [{"email": "e"}, {"username": "u"}], "$nor": [{"deleted": True}]},
        {"_id": "6939311E8458665713E0B522", "f": {"$exists": False}},
        {"$and": [{"a": 1}, {"_id": {"$gt": "65"}}], "l": {"$size": 2}},
        {"a": {"$not": {"$gte": 5}}, "$comment": "kept out of SQL"},
    ],
)
def test_common_shapes_are_exact_in_sql(filter: dict[str, Any]) -> None:
    from lumi.emulator.sqlplan import translate_filter

    assert translate_filter(filter, _NoShapes()).exact


@pytest.mark.parametrize(
    "filter",
    [
        {"a.b": "dotted paths are decided in Python"},
        {"name": {"$regex": "smith", "$options": "i"}},
        {"name": {"$regex": "^a.c"}},
        {"o": {"x": 1}},
        {"l": [1, 2]},
        {"l": {"$elemMatch": {"$gt": 1}}},
        {"n": 2**70},
        {"n": {"$in": [1, {"$regex": "^a"}]}},
        {"$or": [{"a": 1}, {"b.c": 2}]},
        {"has space": 1},
    ],
)
def test_other_shapes_are_left_to_python(filter: dict[str, Any]) -> None:
    from lumi.emulator.sqlplan import translate_filter

    assert not translate_filter(filter, _NoShapes()).exact


def test_index_candidates_are_positive_top_level_conditions_and_sort_fields() -> None:
    from lumi.emulator.query import compile_sort
    from lumi.emulator.sqlplan import index_candidates

    filter = {
        "user_id": "u1",
        "status": {"$in": ["a"]},
        "at": {"$gte": "2026"},
        "$or": [
            {"email": {"$regex": "^e"}},
            {"name": "n"},
            {"bio": {"$regex": "e", "$options": "i"}},
        ],
        "$nor": [{"deleted": True}],
        "score": {"$ne": 3},
        "a.b": 1,
        "_id": "x",
    }
    sort = compile_sort({"created": -1, "_id": 1, "after_id": 1})
    assert index_candidates(filter, sort) == [
        "created",
        "user_id",
        "status",
        "at",
        "email",
        "name",
    ]


def test_an_exact_filter_decodes_only_the_page(
    store: EntityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lumi.emulator.finder as finder

    store.create_many(P, "e", [{"user_id": f"u{i % 50}", "i": i} for i in range(500)], None)
    decoded = 0
    original = finder.decode_document

    def counting(body: str) -> dict[str, Any]:
        nonlocal decoded
        decoded += 1
        return original(body)

    monkeypatch.setattr(finder, "decode_document", counting)
    page, total = store.find(P, "e", {"user_id": "u7", "i": {"$gt": 100}}, {"i": -1}, 3)
    assert total == 8 and [d["i"] for d in page] == [457, 407, 357]
    assert decoded == 3  # SQLite counted and ordered; only the page left it
    decoded = 0
    page, total = store.find(P, "e", {"user_id": "u7", "i": {"$regex": "x"}}, None, 3)
    assert (page, total) == ([], 0)
    assert decoded == 10  # not exact: only the u7 rows were decoded and decided in Python


def test_connection_count_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_connections must be at least 1"):
        EntityStore(tmp_path / "s.db", max_connections=0)


class _FailingConnection:
    """A connection whose transaction cannot end (as when COMMIT and ROLLBACK both fail)."""

    in_transaction = True
    closed = False

    def execute(self, sql: str) -> None:
        raise sqlite3.OperationalError(f"{sql} failed")

    def close(self) -> None:
        self.closed = True


def test_pool_never_lends_a_connection_left_in_a_transaction() -> None:
    from lumi.emulator.store import _Pool

    made: list[_FailingConnection] = []

    def connect() -> _FailingConnection:
        made.append(_FailingConnection())
        return made[-1]

    pool = _Pool(connect, 1)
    first = pool.acquire()
    pool.release(first)
    assert made[0].closed
    second = pool.acquire()
    assert second is made[1] and second is not first


def test_closing_the_pool_wakes_waiters_and_closes_leased_connections(tmp_path: Path) -> None:
    from lumi.emulator.store import _Pool

    pool = _Pool(lambda: sqlite3.connect(tmp_path / "pool.db", check_same_thread=False), 1)
    leased = pool.acquire()
    failures: list[BaseException] = []

    def wait() -> None:
        try:
            pool.release(pool.acquire())
        except StoreClosedError as exc:
            failures.append(exc)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    pool.close()
    waiter.join(timeout=30)
    assert not waiter.is_alive() and len(failures) == 1
    pool.release(leased)
    with pytest.raises(sqlite3.ProgrammingError):  # closed on its return
        leased.execute("SELECT 1")
    with pytest.raises(StoreClosedError):
        pool.acquire()
