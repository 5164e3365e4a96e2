"""The filter engine, operator by operator (MongoDB semantics), and its errors."""

from __future__ import annotations

from typing import Any

import pytest

from lumi.emulator.query import QueryError, compile_filter


def matches(filter: dict[str, Any] | None, doc: dict[str, Any]) -> bool:
    return compile_filter(filter).matches(doc)


def which(filter: dict[str, Any], docs: list[dict[str, Any]]) -> list[int]:
    matcher = compile_filter(filter).matches
    return [i for i, doc in enumerate(docs) if matcher(doc)]


def test_empty_or_none_filter_matches_everything() -> None:
    for filter in (None, {}, {"$comment": "why"}):
        assert matches(filter, {}) and matches(filter, {"a": 1})


@pytest.mark.parametrize("bad", [[], "x", 3, [{"a": 1}]])
def test_filter_must_be_an_object(bad: Any) -> None:
    with pytest.raises(QueryError, match="filter must be an object"):
        compile_filter(bad)


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


# ---- equality --------------------------------------------------------------------------------


def test_string_equality_is_exact() -> None:
    docs = [{"s": "abc"}, {"s": "ABC"}, {"s": "abc "}, {}, {"s": ["x", "abc"]}, {"s": [["abc"]]}]
    assert which({"s": "abc"}, docs) == [0, 4]


def test_numbers_compare_by_value_across_int_and_float() -> None:
    docs = [{"n": 1}, {"n": 1.0}, {"n": True}, {"n": "1"}, {"n": [3, 1]}, {"n": 1.5}]
    assert which({"n": 1}, docs) == [0, 1, 4]
    assert which({"n": 1.0}, docs) == [0, 1, 4]


def test_booleans_are_not_numbers() -> None:
    docs = [{"b": True}, {"b": 1}, {"b": False}, {"b": 0}, {"b": [False]}, {"b": "true"}]
    assert which({"b": True}, docs) == [0]
    assert which({"b": False}, docs) == [2, 4]


def test_null_matches_null_missing_and_arrays_holding_null() -> None:
    docs = [{"v": None}, {}, {"v": 0}, {"v": ""}, {"v": False}, {"v": [1, None]}, {"v": []}]
    assert which({"v": None}, docs) == [0, 1, 5]
    assert which({"v": {"$eq": None}}, docs) == [0, 1, 5]
    assert which({"v": {"$ne": None}}, docs) == [2, 3, 4, 6]


def test_whole_array_equality_and_nested_arrays() -> None:
    docs = [{"a": [1, 2]}, {"a": [2, 1]}, {"a": [[1, 2], 3]}, {"a": [1, 2, 3]}, {"a": 1}]
    assert which({"a": [1, 2]}, docs) == [0, 2]
    assert which({"a": []}, [{"a": []}, {"a": [[]]}, {}, {"a": None}]) == [0, 1]


def test_object_equality_needs_same_fields_in_same_order() -> None:
    docs = [
        {"o": {"x": 1, "y": 2}},
        {"o": {"y": 2, "x": 1}},
        {"o": {"x": 1.0, "y": 2}},
        {"o": {"x": 1}},
        {"o": [{"x": 1, "y": 2}]},
    ]
    assert which({"o": {"x": 1, "y": 2}}, docs) == [0, 2, 4]


def test_eq_and_ne_operators() -> None:
    docs = [{"t": "a"}, {"t": "b"}, {}, {"t": ["a", "b"]}, {"t": ["b"]}]
    assert which({"t": {"$eq": "a"}}, docs) == [0, 3]
    assert which({"t": {"$ne": "a"}}, docs) == [1, 2, 4]  # missing matches $ne


# ---- comparisons and type brackets -----------------------------------------------------------


def test_gt_on_number_never_matches_other_types() -> None:
    docs = [
        {"v": 6},
        {"v": 5},
        {"v": 5.5},
        {"v": "9"},
        {"v": True},
        {"v": None},
        {},
        {"v": [1, 7]},
        {"v": [1, 2]},
        {"v": {"a": 9}},
    ]
    assert which({"v": {"$gt": 5}}, docs) == [0, 2, 7]
    assert which({"v": {"$gte": 5}}, docs) == [0, 1, 2, 7]
    assert which({"v": {"$lt": 5}}, docs) == [7, 8]
    assert which({"v": {"$lte": 5.0}}, docs) == [1, 7, 8]


def test_string_comparisons_are_binary_and_stay_in_strings() -> None:
    docs = [{"s": "b"}, {"s": "B"}, {"s": "ba"}, {"s": 5}, {"s": "é"}, {"s": ["a", "c"]}]
    assert which({"s": {"$gt": "b"}}, docs) == [2, 4, 5]
    assert which({"s": {"$lt": "b"}}, docs) == [1, 5]
    assert which(
        {"s": {"$gte": "2026-01-01", "$lt": "2026-02-01"}},
        [{"s": "2026-01-15T00:00:00.000Z"}, {"s": "2026-02-01"}],
    ) == [0]


def test_comparison_with_null_bracket() -> None:
    docs = [{"v": None}, {}, {"v": 0}, {"v": "x"}]
    assert which({"v": {"$gte": None}}, docs) == [0, 1]
    assert which({"v": {"$lte": None}}, docs) == [0, 1]
    assert which({"v": {"$gt": None}}, docs) == []
    assert which({"v": {"$lt": None}}, docs) == []


def test_boolean_and_structured_comparisons() -> None:
    assert which({"b": {"$gt": False}}, [{"b": True}, {"b": False}, {"b": 1}]) == [0]
    objects = [{"o": {"a": 1}}, {"o": {"a": 2}}, {"o": {"b": 0}}, {"o": {"a": "x"}}, {"o": 5}]
    # objects compare pair by pair: value type, then field name, then value
    assert which({"o": {"$gt": {"a": 1}}}, objects) == [1, 2, 3]
    assert which(
        {"a": {"$gt": [1, 2]}}, [{"a": [1, 3]}, {"a": [1, 2]}, {"a": [1, 2, 0]}, {"a": [0]}]
    ) == [0, 2]


def test_range_on_array_field_may_be_met_by_different_elements() -> None:
    # MongoDB: each bound needs some element, not necessarily the same one
    assert matches({"a": {"$gt": 5, "$lt": 3}}, {"a": [1, 9]})
    assert not matches({"a": {"$gt": 5, "$lt": 3}}, {"a": [4]})


# ---- $in / $nin --------------------------------------------------------------------------------


def test_in_and_nin() -> None:
    docs = [{"s": "a"}, {"s": "b"}, {"s": ["x", "b"]}, {}, {"s": None}, {"s": 1}, {"s": True}]
    assert which({"s": {"$in": ["b", 1.0]}}, docs) == [1, 2, 5]
    assert which({"s": {"$in": ["a", None]}}, docs) == [0, 3, 4]
    assert which({"s": {"$nin": ["b", 1]}}, docs) == [0, 3, 4, 6]
    assert which({"s": {"$in": [True]}}, docs) == [6]
    assert which({"s": {"$in": []}}, docs) == []
    assert which({"s": {"$nin": []}}, docs) == list(range(len(docs)))


def test_in_with_structured_values_and_regex() -> None:
    docs = [{"a": [1, 2]}, {"a": {"k": 1}}, {"a": "Hello"}, {"a": "bye"}]
    assert which({"a": {"$in": [[1, 2], {"k": 1}]}}, docs) == [0, 1]
    assert which({"a": {"$in": [{"$regex": "^h", "$options": "i"}, "bye"]}}, docs) == [2, 3]


@pytest.mark.parametrize("operator", ["$in", "$nin"])
def test_in_needs_an_array(operator: str) -> None:
    with pytest.raises(QueryError, match=rf"\{operator} on field 's' needs an array"):
        compile_filter({"s": {operator: "a"}})


def test_in_rejects_other_operators() -> None:
    with pytest.raises(QueryError, match="cannot contain operators"):
        compile_filter({"s": {"$in": [{"$gt": 1}]}})


# ---- $exists -----------------------------------------------------------------------------------


def test_exists() -> None:
    docs = [{"a": 1}, {"a": None}, {}, {"a": []}, {"b": {"a": 1}}]
    assert which({"a": {"$exists": True}}, docs) == [0, 1, 3]
    assert which({"a": {"$exists": False}}, docs) == [2, 4]
    assert which({"a": {"$exists": 0}}, docs) == [2, 4]
    nested = [{"p": {"q": 0}}, {"p": {}}, {"p": [{"q": 1}, {"r": 1}]}, {"p": [{"r": 1}]}, {"p": 3}]
    assert which({"p.q": {"$exists": True}}, nested) == [0, 2]
    assert which({"p.q": {"$exists": False}}, nested) == [1, 3, 4]


# ---- $regex --------------------------------------------------------------------------------------


def test_regex_and_options() -> None:
    docs = [
        {"s": "Apple"},
        {"s": "apple pie"},
        {"s": "line1\napple"},
        {"s": 5},
        {"s": ["x", "apple"]},
    ]
    assert which({"s": {"$regex": "^apple"}}, docs) == [1, 4]
    assert which({"s": {"$regex": "^apple", "$options": "i"}}, docs) == [0, 1, 4]
    assert which({"s": {"$regex": "^apple", "$options": "m"}}, docs) == [1, 2, 4]
    assert which({"s": {"$regex": "1.apple", "$options": "s"}}, docs) == [2]
    assert which({"s": {"$regex": "a p p l e  # comment", "$options": "x"}}, docs) == [1, 2, 4]
    assert which({"s": {"$regex": "PIE$", "$options": "iu"}}, docs) == [1]


def test_regex_errors_name_the_problem() -> None:
    with pytest.raises(QueryError, match="invalid \\$options flag 'g'"):
        compile_filter({"s": {"$regex": "a", "$options": "g"}})
    with pytest.raises(QueryError, match="invalid \\$regex '\\(unclosed' on field 's'"):
        compile_filter({"s": {"$regex": "(unclosed"}})
    with pytest.raises(QueryError, match="needs a string pattern"):
        compile_filter({"s": {"$regex": 5}})
    with pytest.raises(QueryError, match="\\$options without \\$regex"):
        compile_filter({"s": {"$options": "i"}})


# ---- logical -------------------------------------------------------------------------------------


def test_and_or_nor() -> None:
    docs = [{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2, "b": 2}, {}]
    assert which({"$and": [{"a": 1}, {"b": 2}]}, docs) == [1]
    assert which({"$or": [{"a": 2}, {"b": 1}]}, docs) == [0, 2]
    assert which({"$nor": [{"a": 2}, {"b": 1}]}, docs) == [1, 3]
    assert which({"a": 1, "$or": [{"b": 1}, {"b": 3}]}, docs) == [0]
    assert which({"$or": [{"a": {"$exists": False}}, {"$and": [{"a": 2}, {"b": 2}]}]}, docs) == [
        2,
        3,
    ]


@pytest.mark.parametrize("operator", ["$and", "$or", "$nor"])
@pytest.mark.parametrize("bad", [[], {}, "x", [1]])
def test_logical_operators_need_non_empty_arrays_of_objects(operator: str, bad: Any) -> None:
    with pytest.raises(QueryError, match=rf"\{operator}"):
        compile_filter({operator: bad})


def test_not() -> None:
    docs = [{"n": 3}, {"n": 10}, {}, {"n": "abc"}, {"n": "xyz"}]
    assert which({"n": {"$not": {"$gt": 5}}}, docs) == [0, 2, 3, 4]
    assert which({"n": {"$not": {"$regex": "^a"}}}, docs) == [0, 1, 2, 4]
    with pytest.raises(QueryError, match="\\$not on field 'n' needs"):
        compile_filter({"n": {"$not": 5}})
    with pytest.raises(QueryError, match="\\$not on field 'n' needs operators"):
        compile_filter({"n": {"$not": {"a": 1}}})
    with pytest.raises(QueryError, match="top-level operator \\$not"):
        compile_filter({"$not": {"n": 3}})


# ---- paths -----------------------------------------------------------------------------------


def test_dotted_paths_into_objects_and_through_arrays() -> None:
    docs = [
        {"user": {"address": {"city": "Lyon"}}},
        {"user": {"address": [{"city": "Paris"}, {"city": "Lyon"}]}},
        {"user": [{"address": {"city": "Lyon"}}]},
        {"user": {"address": "Lyon"}},
        {"user": [[{"address": {"city": "Lyon"}}]]},  # only one implicit array level
    ]
    assert which({"user.address.city": "Lyon"}, docs) == [0, 1, 2]
    assert which({"user.address.city": {"$in": ["Paris"]}}, docs) == [1]


def test_dotted_null_counts_missing_branches() -> None:
    docs = [
        {"a": [{"b": 1}, {"c": 1}]},
        {"a": [{"b": 1}]},
        {"a": 5},
        {"a": {"b": None}},
        {"a": [1, 2]},
        {"a": {"b": 2}},
    ]
    assert which({"a.b": None}, docs) == [0, 2, 3, 4]


def test_null_through_null_or_scalar_intermediates() -> None:
    # MongoDB's answer for this case, as reported in documentdb/documentdb#500
    docs = [
        {"k": [{"k1": None}]},
        {"k": [{"k1": {"k2": None}}]},
        {"k": [{"k1": {"k2": 1}}]},
        {"k": [{"k1": "string"}]},
        {"k": [{"k1": {"k2": 2}}]},
    ]
    assert which({"k.k1.k2": {"$in": [None, 1]}}, docs) == [0, 1, 2, 3]
    assert which({"k.k1.k2": {"$nin": [None, 1]}}, docs) == [4]


def test_numeric_path_segment_indexes_arrays() -> None:
    docs = [{"a": [5, 6]}, {"a": [6, 5]}, {"a": [{"x": 1}, {"x": 2}]}, {"a": {"0": 5}}]
    assert which({"a.0": 5}, docs) == [0, 3]
    assert which({"a.1.x": 2}, docs) == [2]


def test_id_given_as_hex_string_in_any_case() -> None:
    doc = {"_id": "6939311e8458665713e0b522"}
    assert matches({"_id": "6939311E8458665713E0B522"}, doc)
    assert matches({"_id": {"$in": ["6939311E8458665713E0B522"]}}, doc)
    assert not matches({"_id": {"$ne": "6939311E8458665713E0B522"}}, doc)
    assert not matches({"_id": "6939311e8458665713e0b523"}, doc)


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
def test_bad_paths(path: str) -> None:
    with pytest.raises(QueryError, match="invalid field path"):
        compile_filter({path: 1})


# ---- arrays: $size, $all, $elemMatch ---------------------------------------------------------


def test_size_all_elem_match() -> None:
    docs = [{"t": ["a", "b"]}, {"t": ["a"]}, {"t": "a"}, {"t": []}]
    assert which({"t": {"$size": 2}}, docs) == [0]
    assert which({"t": {"$size": 0}}, docs) == [3]
    assert which({"t": {"$all": ["a", "b"]}}, docs) == [0]
    assert which({"t": {"$all": ["a"]}}, docs) == [0, 1, 2]
    assert which({"t": {"$all": []}}, docs) == []
    people = [
        {"p": [{"id": 1, "role": "admin"}, {"id": 2, "role": "user"}]},
        {"p": [{"id": 1, "role": "user"}, {"id": 2, "role": "admin"}]},
    ]
    assert which({"p": {"$elemMatch": {"id": 1, "role": "admin"}}}, people) == [0]
    assert which({"p.id": 1, "p.role": "admin"}, people) == [0, 1]  # without $elemMatch
    scores = [{"s": [1, 9]}, {"s": [4, 5]}]
    assert which({"s": {"$elemMatch": {"$gt": 3, "$lt": 6}}}, scores) == [1]
    with pytest.raises(QueryError, match="\\$size on field 't'"):
        compile_filter({"t": {"$size": -1}})
    with pytest.raises(QueryError, match="\\$elemMatch on field 't'"):
        compile_filter({"t": {"$elemMatch": 3}})


# ---- unknown and malformed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ({"$foo": 1}, "unknown top-level operator \\$foo"),
        ({"$where": "this.a == 1"}, "unsupported top-level operator \\$where: it runs JavaScr"),
        ({"$expr": {"$eq": ["$a", 1]}}, "unsupported top-level operator \\$expr: aggregation"),
        ({"a": {"$foo": 1}}, "unknown operator \\$foo on field 'a'"),
        ({"a": {"$where": 1}}, "unsupported operator \\$where on field 'a'"),
        ({"a": {"$near": [0, 0]}}, "unsupported operator \\$near on field 'a': geospatial"),
        ({"$text": {"$search": "x"}}, "unsupported top-level operator \\$text: text search"),
        ({"$jsonSchema": {}}, "unsupported top-level operator \\$jsonSchema"),
        ({"$function": {}}, "unsupported top-level operator \\$function: it runs JavaScript"),
        ({"a": {"$gt": 1, "b": 2}}, "field 'a' mixes operators and plain fields"),
        ({"$or": [{"a": {"$bar": 1}}]}, "unknown operator \\$bar on field 'a'"),
        ({"a": {"$gt": object()}}, "unsupported value of type object"),
        ({"a": {"$eq": {"$gt": 1}}}, "operator object used as a value"),
    ],
)
def test_invalid_filters_name_the_operator(filter: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        compile_filter(filter)
