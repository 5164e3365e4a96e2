"""Issue 11's query operators: ``$mod``, ``$type``, ``$size``, the ``$bits`` operators, ``$all``
with ``$elemMatch``, ``$not``, ``$exists``, ``$ne``/``$nin`` through arrays and positional paths,
``$regex`` on arrays, and the operators the emulator refuses, naming why.

mongomock is the second implementation where it follows MongoDB (test_store_differential.py);
it lacks ``$mod`` and the ``$bits`` operators and gets ``$type`` wrong ("int" up to 2**32, no
"null", no numeric codes), so these cases are our own, each from MongoDB's documentation of
the operator (its examples and its stated rules) where one applies. Every case runs three ways:
the matcher, the store with SQL assistance and the store deciding in Python.
"""

from __future__ import annotations

from typing import Any

import pytest

from lumi.emulator.query import QueryError, compile_filter
from lumi.emulator.store import EntityStore

P, E = "p1", "ops"


def which(store: EntityStore, filter: dict[str, Any], docs: list[dict[str, Any]]) -> list[int]:
    """Positions of the documents ``filter`` matches, the same three ways or the test fails."""
    store.reset()
    stored = [store.create(P, E, {**doc, "i": i}, None) for i, doc in enumerate(docs)]
    matcher = compile_filter(filter).matches
    expected = [i for i, doc in enumerate(stored) if matcher(doc)]
    for sql_assist in (True, False):
        store.sql_assist = sql_assist
        found, total = store.find(P, E, filter, {"i": 1})
        assert [doc["i"] for doc in found] == expected and total == len(expected), sql_assist
    del store.sql_assist
    return expected


# ---- $mod ------------------------------------------------------------------------------------


def test_mod_from_mongodbs_documentation(store: EntityStore) -> None:
    inventory = [{"qty": 0}, {"qty": 5}, {"qty": 12}, {"qty": "12"}, {}, {"qty": [7, 8]}]
    assert which(store, {"qty": {"$mod": [4, 0]}}, inventory) == [0, 2, 5]
    # "Floating point arguments": the divisor and remainder are truncated toward zero.
    for divisor in (4.0, 4.5, 4.99):
        assert which(store, {"qty": {"$mod": [divisor, 0]}}, inventory) == [0, 2, 5]
    # A dividend that is a double is truncated too; a negative one keeps its sign (C's %).
    values = [{"v": -6}, {"v": -2}, {"v": 6}, {"v": 2.9}, {"v": -2.9}, {"v": True}]
    assert which(store, {"v": {"$mod": [4, -2]}}, values) == [0, 1, 4]
    assert which(store, {"v": {"$mod": [4, 2]}}, values) == [2, 3]
    assert which(store, {"v": {"$mod": [-4, 2]}}, values) == [2, 3]  # the divisor's sign: none
    # A double beyond 64 bits has no integer value: it never matches.
    assert which(store, {"v": {"$mod": [1, 0]}}, [{"v": 1e19}, {"v": -1e300}, {"v": 3}]) == [2]
    edge = [{"v": -(2**63)}, {"v": 2**63 - 1}]
    assert which(store, {"v": {"$mod": [-1, 0]}}, edge) == [0, 1]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (4, "needs an array \\[divisor, remainder\\]"),
        ([], "not enough elements"),
        ([4], "not enough elements"),
        ([4, 1, 2], "too many elements"),
        (["4", 0], "the divisor is not a number"),
        ([4, None], "the remainder is not a number"),
        ([True, 0], "the divisor is not a number"),
        ([0, 0], "the divisor cannot be 0"),
        ([0.5, 0], "the divisor cannot be 0"),
        ([1e19, 0], "the divisor 10000000000000000000 cannot be represented as a 64-bit"),
    ],
)
def test_mod_refuses_what_mongodb_refuses(argument: Any, message: str) -> None:
    with pytest.raises(QueryError, match=f"\\$mod on field 'qty'.*{message}"):
        compile_filter({"qty": {"$mod": argument}})


# ---- $type -----------------------------------------------------------------------------------

TYPED = [
    {"v": "43201"},  # 0 string
    {"v": 43201},  # 1 int
    {"v": 43201.0},  # 2 double
    {"v": 2**31},  # 3 long
    {"v": -(2**31)},  # 4 int
    {"v": ["a", 1]},  # 5 array of a string and an int
    {"v": None},  # 6 null
    {},  # 7 missing
    {"v": {"x": 1}},  # 8 object
    {"v": True},  # 9 bool
    {"v": []},  # 10 empty array
    {"v": [[1]]},  # 11 array of an array
]


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("string", [0, 5]),
        (2, [0, 5]),
        (2.0, [0, 5]),
        ("int", [1, 4, 5]),  # not 11: only one implicit array level
        (16, [1, 4, 5]),
        ("long", [3]),
        ("double", [2]),
        ("number", [1, 2, 3, 4, 5]),
        ("null", [6]),  # null only: a missing field has no type
        ("object", [8]),
        ("bool", [9]),
        ("array", [5, 10, 11]),  # the array itself counts, also an empty one
        (["string", "double"], [0, 2, 5]),
        ([2, 1], [0, 2, 5]),
        ("date", []),
        ("decimal", []),
        ("objectId", []),  # only _id is an ObjectId
        ("minKey", []),
    ],
)
def test_type_aliases_and_codes(store: EntityStore, type_: Any, expected: list[int]) -> None:
    assert which(store, {"v": {"$type": type_}}, TYPED) == expected
    assert which(store, {"v": {"$not": {"$type": type_}}}, TYPED) == [
        i for i in range(len(TYPED)) if i not in expected
    ]


def test_id_is_an_object_id(store: EntityStore) -> None:
    docs = [{"ref": "6939311e8458665713e0b522"}]
    assert which(store, {"_id": {"$type": "objectId"}}, docs) == [0]
    assert which(store, {"_id": {"$type": "string"}}, docs) == []
    assert which(store, {"ref": {"$type": "string"}}, docs) == [0]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("str", "unknown type name alias 'str'"),
        (99, "invalid numerical type code 99"),
        (2.5, "invalid numerical type code 2.5"),
        ([], "must match at least one type"),
        (True, "takes type names or numeric codes, not True"),
        ([{"a": 1}], "takes type names or numeric codes"),
    ],
)
def test_type_refuses_what_mongodb_refuses(argument: Any, message: str) -> None:
    with pytest.raises(QueryError, match=f"\\$type on field 'v'.*{message}"):
        compile_filter({"v": {"$type": argument}})


# ---- $size -----------------------------------------------------------------------------------


def test_size_counts_the_array_itself_never_its_nested_arrays(store: EntityStore) -> None:
    docs = [{"a": [1, 2]}, {"a": [[1, 2]]}, {"a": [[1, 2], 3]}, {"a": {"b": [1, 2]}}, {"a": 2}]
    assert which(store, {"a": {"$size": 2}}, docs) == [0, 2]
    assert which(store, {"a": {"$size": 2.0}}, docs) == [0, 2]
    assert which(store, {"a.b": {"$size": 2}}, docs) == [3]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (-1, "may not be negative"),
        (1.5, "must be a whole number"),
        ("2", "needs a number"),
        (True, "needs a number"),
        (2**31, "must be a 32-bit integer"),
    ],
)
def test_size_refuses_what_mongodb_refuses(argument: Any, message: str) -> None:
    with pytest.raises(QueryError, match=f"\\$size on field 'a' {message}"):
        compile_filter({"a": {"$size": argument}})


# ---- $bitsAllSet, $bitsAnySet, $bitsAllClear, $bitsAnyClear --------------------------------


def test_bits_from_mongodbs_documentation(store: EntityStore) -> None:
    # The manual's collection: 54 is 0b00110110, 20 is 0b00010100, 20.0 an integral double.
    collection = [{"a": 54}, {"a": 20}, {"a": 20.0}, {"a": "54"}, {"a": 20.5}, {}]
    assert which(store, {"a": {"$bitsAllSet": [1, 5]}}, collection) == [0]
    assert which(store, {"a": {"$bitsAllSet": 50}}, collection) == [0]  # positions 1, 4, 5
    assert which(store, {"a": {"$bitsAnySet": [1, 5]}}, collection) == [0]
    assert which(store, {"a": {"$bitsAnySet": 35}}, collection) == [0]  # positions 0, 1, 5
    assert which(store, {"a": {"$bitsAllClear": [1, 5]}}, collection) == [1, 2]
    assert which(store, {"a": {"$bitsAllClear": 35}}, collection) == [1, 2]
    assert which(store, {"a": {"$bitsAnyClear": [1, 5]}}, collection) == [1, 2]
    assert which(store, {"a": {"$bitsAnyClear": 35}}, collection) == [0, 1, 2]
    # Negative numbers are two's complement, sign-extended: every bit above 63 is set.
    signed = [{"a": -1}, {"a": -(2**63)}, {"a": 1}]
    assert which(store, {"a": {"$bitsAllSet": [0, 63, 64, 200]}}, signed) == [0]
    assert which(store, {"a": {"$bitsAnySet": [63]}}, signed) == [0, 1]
    assert which(store, {"a": {"$bitsAnyClear": [64]}}, signed) == [2]
    assert which(store, {"a": {"$bitsAllSet": []}}, signed) == [0, 1, 2]


@pytest.mark.parametrize(
    "argument", [-1, 1.5, "3", [-1], [1.5], [2**31], True, {"x": 1}, [True]]
)
def test_bits_refuse_what_mongodb_refuses(argument: Any) -> None:
    with pytest.raises(QueryError, match="\\$bitsAllSet on field 'a'"):
        compile_filter({"a": {"$bitsAllSet": argument}})


# ---- $all with $elemMatch, $not ---------------------------------------------------------------


def test_all_with_elem_match_from_mongodbs_documentation(store: EntityStore) -> None:
    inventory = [
        {
            "qty": [
                {"size": "S", "num": 10, "color": "blue"},
                {"size": "M", "num": 45, "color": "blue"},
                {"size": "L", "num": 100, "color": "green"},
            ]
        },
        {
            "qty": [
                {"size": "S", "num": 6, "color": "blue"},
                {"size": "M", "num": 100, "color": "green"},
                {"size": "L", "num": 100, "color": "green"},
            ]
        },
        {"qty": [{"size": "M", "num": 100, "color": "green"}]},
    ]
    query = {
        "qty": {
            "$all": [
                {"$elemMatch": {"size": "M", "num": {"$gt": 50}}},
                {"$elemMatch": {"num": 100, "color": "green"}},
            ]
        }
    }
    assert which(store, query, inventory) == [1, 2]


@pytest.mark.parametrize(
    "items",
    [
        [{"$elemMatch": {"a": 1}}, 5],
        [5, {"$elemMatch": {"a": 1}}],
        [{"$elemMatch": {"a": 1}, "b": 1}],
        [{"$gt": 1}],
    ],
)
def test_all_refuses_mixed_or_operator_items(items: Any) -> None:
    with pytest.raises(QueryError, match="\\$all on field 'qty'"):
        compile_filter({"qty": {"$all": items}})


def test_all_of_regexes_and_whole_arrays(store: EntityStore) -> None:
    docs = [{"t": ["apple", "berry"]}, {"t": ["apple"]}, {"t": [["x", "y"], "z"]}, {"t": "apple"}]
    assert which(store, {"t": {"$all": [{"$regex": "^a"}, {"$regex": "rr"}]}}, docs) == [0]
    assert which(store, {"t": {"$all": [["x", "y"]]}}, docs) == [2]
    assert which(store, {"t": {"$all": ["apple"]}}, docs) == [0, 1, 3]


def test_not_from_mongodbs_documentation(store: EntityStore) -> None:
    inventory = [{"price": 1.99}, {"price": 2.5}, {"price": "free"}, {}, {"price": [1, 3]}]
    assert which(store, {"price": {"$not": {"$gt": 1.99}}}, inventory) == [0, 2, 3]
    assert which(store, {"price": {"$not": {"$type": "number"}}}, inventory) == [2, 3]
    items = [{"item": "pear"}, {"item": "apple"}, {"item": ["plum", "fig"]}, {"item": 5}]
    assert which(store, {"item": {"$not": {"$regex": "^p.*"}}}, items) == [1, 3]
    assert which(store, {"item": {"$not": {"$regex": "^P", "$options": "i"}}}, items) == [1, 3]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({}, "cannot be empty"),
        (5, "needs a regex or an operator object"),
        ("^a", "needs a regex or an operator object"),
        ({"a": 1}, "needs operators, not a plain object"),
    ],
)
def test_not_refuses_what_mongodb_refuses(argument: Any, message: str) -> None:
    with pytest.raises(QueryError, match=f"\\$not on field 'v' {message}"):
        compile_filter({"v": {"$not": argument}})


# ---- nulls and missing values through arrays and positional paths ----------------------------


def test_ne_and_nin_null_through_array_paths(store: EntityStore) -> None:
    docs = [
        {"a": [{"b": 1}, {"c": 1}]},  # 0: one element lacks b
        {"a": [{"b": 1}, {"b": 2}]},  # 1
        {"a": [1, 2]},  # 2: no element is an object: a.b is missing
        {"a": []},  # 3
        {"a": [{"b": None}]},  # 4
        {"a": {"b": 0}},  # 5
        {},  # 6
    ]
    assert which(store, {"a.b": None}, docs) == [0, 2, 3, 4, 6]
    assert which(store, {"a.b": {"$ne": None}}, docs) == [1, 5]
    assert which(store, {"a.b": {"$nin": [None]}}, docs) == [1, 5]
    assert which(store, {"a.b": {"$nin": [None, 1]}}, docs) == [5]
    assert which(store, {"a.b": {"$exists": True}}, docs) == [0, 1, 4, 5]
    assert which(store, {"a.b": {"$exists": False}}, docs) == [2, 3, 6]


def test_positional_paths(store: EntityStore) -> None:
    docs = [
        {"a": [{"b": 1}, {"c": 1}]},  # 0
        {"a": [{"c": 1}, {"b": 1}]},  # 1
        {"a": []},  # 2
        {"a": [{"b": None}]},  # 3
        {"a": {"0": {"b": 1}}},  # 4: a field named "0"
        {"a": [[{"b": 1}]]},  # 5: a.0 is an array, and b is looked for in its objects
    ]
    assert which(store, {"a.0.b": 1}, docs) == [0, 4, 5]
    assert which(store, {"a.0.b": {"$ne": None}}, docs) == [0, 4, 5]
    assert which(store, {"a.0.b": {"$exists": True}}, docs) == [0, 3, 4, 5]
    assert which(store, {"a.1.b": {"$exists": True}}, docs) == [1]
    assert which(store, {"a.0": {"$exists": False}}, docs) == [2]
    assert which(store, {"a.0": {"$type": "array"}}, docs) == [5]
    assert which(store, {"a.1": {"$nin": [None]}}, docs) == [0, 1]


def test_exists_takes_mongodbs_truth_of_its_argument(store: EntityStore) -> None:
    docs = [{"a": 1}, {"a": None}, {}]
    for truthy in (True, 1, -1, 0.5, "", "false", [], {}):
        assert which(store, {"a": {"$exists": truthy}}, docs) == [0, 1], truthy
    for falsy in (False, 0, 0.0, None):
        assert which(store, {"a": {"$exists": falsy}}, docs) == [2], falsy


def test_regex_and_equality_on_arrays(store: EntityStore) -> None:
    docs = [{"t": ["a", "bc"]}, {"t": ["a"]}, {"t": "bc"}, {"t": [["bc"]]}, {"t": [1, 2]}]
    assert which(store, {"t": {"$regex": "^b"}}, docs) == [0, 2]
    assert which(store, {"t": {"$not": {"$regex": "^b"}}}, docs) == [1, 3, 4]
    assert which(store, {"t": {"$eq": ["a", "bc"]}}, docs) == [0]
    assert which(store, {"t": ["bc"]}, docs) == [3]
    assert which(store, {"t": {"$in": [[1, 2], "a"]}}, docs) == [0, 1, 4]


# ---- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ({"$where": "this.a > 1"}, "top-level operator \\$where: it runs JavaScript"),
        ({"$expr": {"$gt": ["$a", "$b"]}}, "operator \\$expr: aggregation expressions"),
        ({"$function": {"body": "x", "args": [], "lang": "js"}}, "\\$function: it runs JavaSc"),
        ({"$jsonSchema": {"required": ["a"]}}, "\\$jsonSchema: the emulator does not validate"),
        ({"$text": {"$search": "coffee"}}, "\\$text: text search needs a text index"),
        ({"loc": {"$near": [0, 0]}}, "\\$near on field 'loc': geospatial queries need a geo"),
        ({"loc": {"$geoWithin": {"$center": [[0, 0], 1]}}}, "\\$geoWithin on field 'loc'"),
        ({"a": {"$elemMatch": {"$where": "1"}}}, "\\$where on field 'a': it runs JavaScript"),
    ],
)
def test_refused_operators_name_the_operator_and_why(filter: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        compile_filter(filter)
