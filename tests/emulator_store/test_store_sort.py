"""Sort order (MongoDB's BSON order across types, arrays, missing fields) and stable paging."""

from __future__ import annotations

from typing import Any

import pytest

from lumi.emulator.query import QueryError, compile_sort, sort_documents
from lumi.emulator.store import EntityStore

P = "p1"


def order(docs: list[dict[str, Any]], sort: dict[str, Any]) -> list[str]:
    return [doc["n"] for doc in sort_documents(docs, compile_sort(sort))]


MIXED = [
    {"n": "bool-true", "v": True},
    {"n": "string-b", "v": "b"},
    {"n": "array", "v": [[0]]},  # an array inside an array: the arrays bracket
    {"n": "object", "v": {"a": 1}},
    {"n": "number-10", "v": 10},
    {"n": "missing"},
    {"n": "bool-false", "v": False},
    {"n": "string-B", "v": "B"},
    {"n": "null", "v": None},
    {"n": "number-2.5", "v": 2.5},
    {"n": "empty-array", "v": []},
]


def test_bson_order_across_types_ascending() -> None:
    assert order(MIXED, {"v": 1}) == [
        "empty-array",  # an empty array sorts before null
        "missing",  # missing and null tie (insertion order)
        "null",
        "number-2.5",
        "number-10",
        "string-B",
        "string-b",
        "object",
        "array",
        "bool-false",
        "bool-true",
    ]


def test_bson_order_across_types_descending() -> None:
    assert order(MIXED, {"v": -1}) == [
        "bool-true",
        "bool-false",
        "array",
        "object",
        "string-b",
        "string-B",
        "number-10",
        "number-2.5",
        "missing",  # ties keep insertion order in both directions
        "null",
        "empty-array",
    ]


def test_array_sorts_by_min_ascending_and_max_descending() -> None:
    docs = [{"n": "a", "v": [1, 9]}, {"n": "b", "v": 5}, {"n": "c", "v": [3, 4]}]
    assert order(docs, {"v": 1}) == ["a", "c", "b"]  # keys 1, 5, 3
    assert order(docs, {"v": -1}) == ["a", "b", "c"]  # keys 9, 5, 4


def test_objects_compare_by_type_then_name_then_value() -> None:
    docs = [
        {"n": "b0", "v": {"b": 0}},
        {"n": "ax", "v": {"a": "x"}},
        {"n": "a1", "v": {"a": 1}},
        {"n": "empty", "v": {}},
        {"n": "a1b", "v": {"a": 1, "b": 0}},
    ]
    assert order(docs, {"v": 1}) == ["empty", "a1", "a1b", "b0", "ax"]


def test_dotted_sort_and_multi_key_directions() -> None:
    docs = [
        {"n": "x", "o": {"k": 2}, "t": "a"},
        {"n": "y", "o": {"k": 1}, "t": "b"},
        {"n": "z", "o": {"k": 2}, "t": "c"},
        {"n": "w", "t": "d"},
    ]
    assert order(docs, {"o.k": 1, "t": -1}) == ["w", "y", "z", "x"]
    assert order(docs, {"o.k": -1, "t": 1}) == ["x", "z", "y", "w"]


def test_number_types_interleave_and_strings_are_binary() -> None:
    docs = [
        {"n": "3", "v": 3},
        {"n": "2.5", "v": 2.5},
        {"n": "-1", "v": -1.0},
        {"n": "big", "v": 10**20},
    ]
    assert order(docs, {"v": 1}) == ["-1", "2.5", "3", "big"]
    words = [{"n": w, "v": w} for w in ["b", "a", "B", "é", "Z", "aa"]]
    assert order(words, {"v": 1}) == ["B", "Z", "a", "aa", "b", "é"]


@pytest.mark.parametrize("direction", [0, 2, "up", True, None, 1.5])
def test_bad_sort_direction(direction: Any) -> None:
    with pytest.raises(QueryError, match="sort direction for 'v' must be 1 or -1"):
        compile_sort({"v": direction})


def test_sort_spelling_variants() -> None:
    assert compile_sort({"a": "asc", "b": "DESC", "c": -1.0}) == [
        (("a",), False),
        (("b",), True),
        (("c",), True),
    ]
    with pytest.raises(QueryError, match="sort must be an object"):
        compile_sort([("a", 1)])  # type: ignore[arg-type]


@pytest.mark.parametrize("direction", [1, -1])
def test_paging_is_stable_and_complete(store: EntityStore, direction: int) -> None:
    docs = store.create_many(
        P,
        "items",
        [{"i": i, "group": i % 3, "score": [None, 1, "x"][i % 3]} for i in range(57)],
        None,
    )
    sort = {"group": direction, "score": direction}
    everything, total = store.find(P, "items", None, sort, None, None)
    assert total == 57
    pages: list[dict[str, Any]] = []
    for skip in range(0, 60, 10):
        page, page_total = store.find(P, "items", None, sort, 10, skip)
        assert page_total == 57
        pages.extend(page)
    assert pages == everything
    assert sorted(d["i"] for d in pages) == list(range(57))
    for group in range(3):  # inside a group, insertion order
        members = [d["i"] for d in everything if d["group"] == group]
        assert members == sorted(members)
    # repeated queries give the same order
    assert store.find(P, "items", None, sort, 10, 20) == store.find(P, "items", None, sort, 10, 20)
    assert docs[0]["_id"] in {d["_id"] for d in everything}


def test_sort_by_id_follows_creation_order(store: EntityStore) -> None:
    created = [store.create(P, "items", {"i": i}, None) for i in range(20)]
    page, _ = store.find(P, "items", None, {"_id": 1}, None, None)
    assert [d["i"] for d in page] == list(range(20))
    page, _ = store.find(P, "items", None, {"_id": -1}, 5, None)
    assert [d["_id"] for d in page] == [d["_id"] for d in reversed(created)][:5]


@pytest.mark.parametrize("sort", [{"v": 1}, {"v": -1}, {"w": 1, "v": -1}, {"v": -1, "w": 1}])
def test_unfiltered_page_equals_slice_of_full_sort(
    store: EntityStore, sort: dict[str, int]
) -> None:
    # An unfiltered page is sorted from the sort fields alone; it must equal the full sort.
    docs = [{**doc, "w": i % 2} for i, doc in enumerate(MIXED * 3)]
    docs += [{"n": "float-text", "v": 1.10, "w": 0}, {"n": "int", "v": 1, "w": 1}]
    store.create_many(P, "items", docs, None)
    everything, total = store.find(P, "items", {"$comment": "x"}, sort, None, None)
    assert total == len(docs)
    for skip in (0, 7, 30):
        page, page_total = store.find(P, "items", None, sort, 9, skip)
        assert page_total == total
        assert page == everything[skip : skip + 9]


def test_unfiltered_sorted_page_larger_than_a_parameter_list(store: EntityStore) -> None:
    store.create_many(P, "items", [{"v": i % 7, "i": i} for i in range(1300)], None)
    page, total = store.find(P, "items", None, {"v": -1}, 1200, 50)
    assert total == 1300 and len(page) == 1200
    full, _ = store.find(P, "items", {"$comment": "all"}, {"v": -1}, None, None)
    assert page == full[50:1250]
