"""Keyset auto-paging (lumi/keyset.py) against the emulator's order and filters.

* The client orders records exactly as the emulator's ``sort_order`` does (random documents with
  missing fields, nulls, mixed types, arrays, nested paths).
* A cursor filter, run by the emulator's matcher, selects exactly the records after the cursor
  for records without arrays on the sort paths, and never drops one that is after it otherwise.
* Over HTTP, with inserts and deletes between pages: every record that exists for the whole
  iteration comes exactly once, in the server's order, typed and untyped.
"""

from __future__ import annotations

import functools
import itertools
import random
import types
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lumi
from lumi import LumiClient
from lumi.data import repository
from lumi.emulator.query import compile_filter, compile_sort, sort_order
from lumi.keyset import EMPTY, Pager, Position, SortPlan

from .conftest import generate_module

# -- random documents -------------------------------------------------------------------------
scalars = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.sampled_from([-1.5, 0.0, 2.5, 1e300]),
    st.sampled_from(["", "a", "b", "ab", "B", "é"]),
    st.booleans(),
    st.fixed_dictionaries({"x": st.integers(0, 2)}),
    st.fixed_dictionaries({"x": st.integers(0, 2), "y": st.sampled_from(["a", "b"])}),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
nested = st.one_of(
    st.fixed_dictionaries({}, optional={"x": values}),
    st.lists(st.fixed_dictionaries({}, optional={"x": scalars}), max_size=2),
    scalars,
)
documents = st.fixed_dictionaries({}, optional={"a": values, "b": values, "o": nested})
flat_documents = st.fixed_dictionaries({}, optional={"a": scalars, "b": scalars})
FIELDS = ["a", "b", "o.x", "_id"]
sorts = st.lists(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from([1, -1])),
    max_size=3,
    unique_by=lambda pair: pair[0],
)
filters = st.sampled_from(
    [
        {},
        {"a": {"$exists": True}},
        {"b": {"$ne": None}},
        {"a": {"$gte": 0}},
        {"$or": [{"a": "a"}, {"b": {"$lt": 2}}]},
        {"b": {"$in": [True, "b", 1, None]}},
        {"o.x": {"$exists": False}},
    ]
)


def with_ids(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = random.Random(len(docs)).sample(range(16**6), len(docs))
    return [{"_id": f"{n:024x}", **doc} for n, doc in zip(ids, docs, strict=True)]


def client_order(docs: list[dict[str, Any]], pairs: list[tuple[str, int]]) -> list[str]:
    plan = SortPlan(pairs)
    return [d["_id"] for d in sorted(docs, key=lambda d: plan.key(plan.values(d)))]


def server_order(docs: list[dict[str, Any]], sort: dict[str, int]) -> list[str]:
    return [docs[i]["_id"] for i in sort_order(docs, compile_sort(sort))]


@given(docs=st.lists(documents, max_size=12), pairs=sorts)
@settings(max_examples=400)
def test_the_client_orders_records_as_the_emulator_does(
    docs: list[dict[str, Any]], pairs: list[tuple[str, int]]
) -> None:
    docs = with_ids(docs)
    assert client_order(docs, pairs) == server_order(docs, SortPlan(pairs).sort)


def after_ids(docs: list[dict[str, Any]], plan: SortPlan, values: tuple[Any, ...]) -> list[str]:
    cursor = plan.after(values)
    assert cursor is not None
    matches = compile_filter(cursor).matches
    return [d["_id"] for d in docs if matches(d)]


@given(docs=st.lists(flat_documents, min_size=1, max_size=12), pairs=sorts, data=st.data())
@settings(max_examples=400)
def test_a_cursor_selects_exactly_the_records_after_it(
    docs: list[dict[str, Any]], pairs: list[tuple[str, int]], data: st.DataObject
) -> None:
    pairs = [pair for pair in pairs if pair[0] != "o.x"]
    docs = with_ids(docs)
    plan = SortPlan(pairs)
    anchor = data.draw(st.sampled_from(docs))
    values = plan.values(anchor)
    if plan.after(values) is None:  # only for values no filter can name (not generated here)
        pytest.fail(f"no cursor for {values!r}")
    expected = {d["_id"] for d in docs if plan.key(plan.values(d)) > plan.key(values)}
    assert set(after_ids(docs, plan, values)) == expected


@given(docs=st.lists(documents, min_size=1, max_size=12), pairs=sorts, data=st.data())
@settings(max_examples=300)
def test_with_arrays_a_cursor_never_drops_a_record_after_it_unless_empty(
    docs: list[dict[str, Any]], pairs: list[tuple[str, int]], data: st.DataObject
) -> None:
    docs = with_ids(docs)
    plan = SortPlan(pairs)
    anchor = data.draw(st.sampled_from(docs))
    values = plan.values(anchor)
    if plan.after(values) is None:
        return  # an array value: the pager steps past it with an offset instead
    # Arrays match a filter when any element does, so a cursor also finds records whose sort
    # value is an element of an array (they are dropped by key on the client), except an empty
    # array, which no term names: with arrays on the sort path the pager uses skip anyway.
    expected = {
        d["_id"]
        for d in docs
        if plan.key(plan.values(d)) > plan.key(values) and EMPTY not in plan.values(d)
    }
    assert expected <= set(after_ids(docs, plan, values))


def test_cursor_shapes() -> None:
    by_id = SortPlan([])
    assert by_id.sort == {"_id": 1}
    assert by_id.after(("6939311e8458665713e0b522",)) == {
        "_id": {"$gt": "6939311e8458665713e0b522"}
    }
    assert by_id.array_probe() is None
    views = SortPlan([("views", -1)])
    assert views.sort == {"views": -1, "_id": 1}
    assert views.after((7, "i1")) == {
        "$or": [{"views": {"$lt": 7}}, {"views": None}, {"views": 7, "_id": {"$gt": "i1"}}]
    }
    assert SortPlan([("t", 1)]).after(("m", "i1")) == {
        "$or": [
            {"t": {"$gt": "m"}},
            {"t": {"$gte": {}}},
            {"t": {"$in": [False, True]}},
            {"t": "m", "_id": {"$gt": "i1"}},
        ]
    }
    # the user's own _id position ends the key; what follows it is sent but never decides
    assert SortPlan([("_id", -1), ("a", 1)]).sort == {"_id": -1, "a": 1}
    assert SortPlan([("_id", -1), ("a", 1)]).after(("i9",)) == {"_id": {"$lt": "i9"}}
    # values a filter cannot name
    plan = SortPlan([("a", 1)])
    for value in ({"$gt": 1}, float("inf"), 2**70, {"x": float("nan")}, [1], []):
        assert plan.after((value, "i1")) is None, value
    assert SortPlan([("a.b", 1), ("c", 1)]).array_probe() == {
        "$or": [
            {"a.0": {"$exists": True}},
            {"a": {"$size": 0}},
            {"a.b.0": {"$exists": True}},
            {"a.b": {"$size": 0}},
            {"c.0": {"$exists": True}},
            {"c": {"$size": 0}},
        ]
    }


# -- the pager over a fake server -------------------------------------------------------------
class FakeServer:
    """listByPage over a list of documents with the emulator's matcher and order; ``before``
    runs before each request (a concurrent writer)."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.requests: list[tuple[dict[str, Any], dict[str, int], int, int]] = []
        self.before: Any = None

    def fetch(
        self, filter: dict[str, Any], sort: dict[str, int], limit: int, skip: int
    ) -> tuple[list[dict[str, Any]], int]:
        if self.before is not None:
            self.before(len(self.requests))
        self.requests.append((filter, sort, limit, skip))
        matches = compile_filter(filter).matches
        found = [d for d in self.docs if matches(d)]
        found = [found[i] for i in sort_order(found, compile_sort(sort))]
        return [dict(d) for d in found[skip : skip + limit]], len(found)


def test_skip_mode_steps_back_when_records_before_it_were_deleted() -> None:
    docs = with_ids([{"a": [n, n + 1]} for n in range(20)])  # arrays: the skip path
    server = FakeServer(list(docs))
    expected = server_order(docs, {"a": 1, "_id": 1})

    def delete_early(request: int) -> None:
        if request == 3:  # after two pages (and the array check): delete 5 records already read
            read = set(expected[:5])
            server.docs = [d for d in server.docs if d["_id"] not in read]

    server.before = delete_early
    pager = Pager(server.fetch, {}, [("a", 1)], page_size=4)
    got = [r["_id"] for r in pager.records()]
    assert got == expected  # nothing skipped although the offsets shifted by 5
    assert pager.position.mode == "skip"
    skips = [request[3] for request in server.requests]
    assert skips[:4] == [0, 0, 3, 7]  # page 1, the array check, page 2 (1 overlap), page 3
    assert 0 < skips[4] < 7  # page 4 stepped back past the deleted records


def test_skip_mode_drops_what_an_insert_pushes_back_into_view() -> None:
    docs = with_ids([{"a": [n]} for n in range(12)])
    server = FakeServer(list(docs))
    inserted = itertools.count()

    def insert_early(request: int) -> None:
        if request >= 2:
            server.docs.insert(0, {"_id": f"ff{next(inserted):022x}", "a": [-1]})

    server.before = insert_early
    got = [r["_id"] for r in Pager(server.fetch, {}, [("a", 1)], page_size=3).records()]
    stable = [i for i in got if not i.startswith("ff")]
    assert stable == server_order(docs, {"a": 1, "_id": 1})
    assert len(got) == len(set(got))


def test_a_page_without_progress_falls_back_to_an_offset() -> None:
    # Keyset mode (no array at the check), then records with arrays appear that match every
    # cursor without being after it: pages full of them must not stall the iteration.
    docs = with_ids([{"a": n} for n in range(10)])
    server = FakeServer(list(docs))

    def add_wide_arrays(request: int) -> None:
        if request == 2:
            server.docs += with_ids([{"a": [-5, 100]} for _ in range(9)])

    server.before = add_wide_arrays
    pager = Pager(server.fetch, {}, [("a", 1)], page_size=3)
    got = [r["_id"] for r in pager.records()]
    assert [i for i in got if i in {d["_id"] for d in docs}] == server_order(docs, {"a": 1})
    assert len(got) == len(set(got)) and pager.position.mode == "keyset"


def test_position_round_trips_and_refuses_garbage() -> None:
    plan = SortPlan([("a", 1)])
    position = Position(mode="keyset", anchor=[[3], ["i1"]], offset=2, last=[[], ["i2"]])
    assert Position.from_json(position.to_json(), plan) == position
    for bad in (
        None,
        {"mode": "keyset"},
        {**position.to_json(), "mode": "sideways"},
        {**position.to_json(), "offset": -1},
        {**position.to_json(), "anchor": [[3]]},
        {**position.to_json(), "last": [[1, 2], ["i"]]},
        {**position.to_json(), "done": "yes"},
    ):
        with pytest.raises(lumi.ValidationError, match="not a saved iteration position"):
            Position.from_json(bad, plan)


def test_a_position_resumes_where_it_stood() -> None:
    docs = with_ids([{"a": n % 4} for n in range(23)])
    server = FakeServer(docs)
    first = Pager(server.fetch, {}, [("a", -1)], page_size=5)
    pages = first.pages()
    seen = [r["_id"] for r in next(pages)] + [r["_id"] for r in next(pages)]
    saved = first.position.to_json()
    again = Pager(
        server.fetch,
        {},
        [("a", -1)],
        page_size=7,
        position=Position.from_json(saved, SortPlan([("a", -1)])),
    )
    rest = [r["_id"] for r in again.records()]
    assert seen + rest == server_order(docs, {"a": -1, "_id": 1})


@given(
    docs=st.lists(documents, max_size=16),
    extra=st.lists(documents, min_size=1, max_size=6),
    filter=filters,
    pairs=sorts,
    page_size=st.integers(1, 4),
    skip=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=500)
def test_pager_under_concurrent_writes_in_memory(
    docs: list[dict[str, Any]],
    extra: list[dict[str, Any]],
    filter: dict[str, Any],
    pairs: list[tuple[str, int]],
    page_size: int,
    skip: int,
    seed: int,
) -> None:
    """The HTTP test's property with many more examples: the emulator's matcher and order over
    a list, inserts and deletes (often of records already read) before every request."""
    docs = with_ids(docs)
    rng = random.Random(seed)
    doomed = {d["_id"] for d in docs if rng.random() < 0.4}
    server = FakeServer(list(docs))
    fresh = itertools.count()

    def write(_: int) -> None:
        for _ in range(rng.randint(0, 3)):
            victims = [d for d in server.docs if d["_id"] in doomed or d["_id"][:2] == "ff"]
            if victims and rng.random() < 0.6:
                server.docs.remove(rng.choice(victims))
            else:
                made = {"_id": f"ff{next(fresh):022x}", **rng.choice(extra)}
                server.docs.insert(rng.randrange(len(server.docs) + 1), made)

    server.before = write
    sort = SortPlan(pairs).sort
    matches = compile_filter(filter).matches
    ordered = server_order([d for d in docs if matches(d)], sort)
    got = [
        r["_id"]
        for r in Pager(server.fetch, filter, pairs, page_size=page_size, skip=skip).records()
    ]
    assert len(got) == len(set(got))
    stable = {d["_id"] for d in docs} - doomed
    kept = [i for i in got if i in stable]
    if skip == 0:
        assert kept == [i for i in ordered if i in stable]
    else:  # a skip counts records that may have come or gone since: only the order is certain
        assert kept == [i for i in ordered if i in kept]


# -- over HTTP, with concurrent writers -------------------------------------------------------
@functools.lru_cache(maxsize=1)
def things_module(folder: str) -> types.ModuleType:
    schema = Path(folder) / "things.json"
    schema.write_text(
        '{"name": "Things", "type": "object", "properties": {"a": {}, "b": {}, "o": {}},'
        ' "additionalProperties": true}'
    )
    return generate_module(Path(folder), Path(folder), "lumi_test_things")


@pytest.fixture(scope="module")
def things(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return things_module(str(tmp_path_factory.mktemp("things"))).ENTITIES["Things"]


class Writer:
    """Inserts and deletes records before each list request, as another process would."""

    def __init__(self, client: LumiClient, rng: random.Random, docs: list[dict[str, Any]]):
        self.entity = client.entities.Things
        self.rng = rng
        self.docs = docs
        self.deletable: list[str] = []

    def install(self, client: LumiClient, monkeypatch: pytest.MonkeyPatch) -> None:
        original = client._call

        def call(operation_id: str, *args: Any, **kwargs: Any) -> Any:
            if operation_id == "listDocumentsByPage":
                self.step()
            return original(operation_id, *args, **kwargs)

        monkeypatch.setattr(client, "_call", call)

    def step(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            if self.deletable and self.rng.random() < 0.5:
                self.entity.delete(self.deletable.pop(self.rng.randrange(len(self.deletable))))
            else:
                made = self.entity.create(self.rng.choice(self.docs))
                self.deletable.append(made.id)


ITERATION_CASES = {
    "docs": st.lists(documents, max_size=14),
    "filter": filters,
    "pairs": sorts,
    "page_size": st.integers(1, 4),
    "seed": st.integers(0, 2**16),
}


def check_iteration(
    client: LumiClient,
    lumi_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    docs: list[dict[str, Any]],
    filter: dict[str, Any],
    pairs: list[tuple[str, int]],
    page_size: int,
    seed: int,
    iterate: Any,
) -> None:
    lumi_emulator.reset()
    entity = client.entities.Things
    created = entity.create_many(docs) if docs else []
    rng = random.Random(seed)
    doomed = {r.id for r in created if rng.random() < 0.3}
    writer = Writer(client, rng, docs or [{"a": 1}])
    writer.deletable = list(doomed)
    with monkeypatch.context() as patched:
        writer.install(client, patched)
        got = list(iterate(filter, pairs, page_size))
    counts = Counter(got)
    assert max(counts.values(), default=1) == 1, "a record came twice"
    stable = {r.id for r in created} - doomed
    order = dict(pairs)
    order.setdefault("_id", 1)
    expected = [r.id for r in entity.list(filter=filter, sort=order).list if r.id in stable]
    assert [i for i in got if i in stable] == expected


@given(**ITERATION_CASES)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_untyped_iteration_under_concurrent_writes(
    client: LumiClient,
    lumi_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    docs: list[dict[str, Any]],
    filter: dict[str, Any],
    pairs: list[tuple[str, int]],
    page_size: int,
    seed: int,
) -> None:
    def iterate(filter: Any, pairs: Any, page_size: int) -> Any:
        records = client.entities.Things.iterate(filter=filter, sort=pairs, page_size=page_size)
        return (r.id for r in records)

    check_iteration(
        client, lumi_emulator, monkeypatch, docs, filter, pairs, page_size, seed, iterate
    )


PYTHON_NAMES = {"a": "a", "b": "b", "o.x": "o__x", "_id": "id"}


@given(**ITERATION_CASES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_typed_iteration_under_concurrent_writes(
    client: LumiClient,
    lumi_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    things: Any,
    docs: list[dict[str, Any]],
    filter: dict[str, Any],
    pairs: list[tuple[str, int]],
    page_size: int,
    seed: int,
) -> None:
    repo = repository(client, things, validation="off")

    def iterate(filter: Any, pairs: Any, page_size: int) -> Any:
        order = [("-" if d == -1 else "") + PYTHON_NAMES[f] for f, d in pairs]
        query = repo.where(filter).order_by(*order).page_size(page_size)
        return (r.id for r in query)

    check_iteration(
        client, lumi_emulator, monkeypatch, docs, filter, pairs, page_size, seed, iterate
    )


def test_keyset_pages_go_by_cursor_not_by_skip(client: LumiClient) -> None:
    entity = client.entities.Things
    entity.create_many([{"a": n % 3, "b": str(n)} for n in range(10)])
    bodies: list[Any] = []
    original = client._call

    def spy(operation_id: str, *args: Any, **kwargs: Any) -> Any:
        bodies.append(kwargs.get("json"))
        return original(operation_id, *args, **kwargs)

    client._call = spy  # type: ignore[method-assign]
    by_id = [r.id for r in entity.iterate(page_size=4)]
    assert by_id == [r.id for r in entity.list(sort={"_id": 1}).list]
    assert [b["skip"] for b in bodies[:3]] == [0, 0, 0]
    assert bodies[1]["filter"] == {"$and": [{}, {"_id": {"$gt": by_id[3]}}]}
    assert len(bodies) == 4  # 3 pages (the last one short) and the check list() above
    bodies.clear()
    ordered = list(entity.iterate(filter={"a": {"$gte": 1}}, sort="-a", page_size=3))
    assert [r["a"] for r in ordered] == [2, 2, 2, 1, 1, 1]
    assert bodies[1]["filter"]["$and"][0] == {"a": {"$gte": 1}}  # the array check
    assert bodies[2]["filter"]["$and"][1]["$or"][-1] == {"a": 2, "_id": {"$gt": ordered[2].id}}


def test_a_server_that_ignores_id_cursors_does_not_end_the_iteration_early() -> None:
    docs = with_ids([{"a": n} for n in range(11)])
    server = FakeServer(docs)
    real_fetch = server.fetch

    def fetch(filter: dict[str, Any], sort: dict[str, int], limit: int, skip: int) -> Any:
        if "$and" in filter:  # a cursor: this server compares _id as another type, never matching
            return [], 0
        return real_fetch(filter, sort, limit, skip)

    pager = Pager(fetch, {}, [], page_size=4)
    assert [r["_id"] for r in pager.records()] == server_order(docs, {"_id": 1})
    assert pager.position.mode == "skip"


def test_a_server_that_caps_the_page_size_is_read_to_the_end() -> None:
    docs = with_ids([{"a": n % 5} for n in range(23)])
    server = FakeServer(docs)

    def capped(filter: dict[str, Any], sort: dict[str, int], limit: int, skip: int) -> Any:
        return server.fetch(filter, sort, min(limit, 3), skip)

    got = [r["_id"] for r in Pager(capped, {}, [("a", -1)], page_size=10).records()]
    assert got == server_order(docs, {"a": -1, "_id": 1})
