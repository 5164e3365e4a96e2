"""Differential test: our matcher against mongomock's, a second MongoDB implementation.

Restricted to where mongomock is known to follow MongoDB: no integer equal to a boolean (mongomock
uses Python ``==``, so ``True == 1``), no whole-array or object values in filters, and dotted paths
only into an object or a missing field (mongomock misses ``{"n.x": null}`` on ``{n: 5}``).
The known differences are pinned in test_known_mongomock_differences.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mongomock.filtering import filter_applies

from lumi.emulator.query import compile_filter

INTS = st.integers(2, 6)  # never 0 or 1: those equal False/True in mongomock
STRINGS = st.sampled_from(["a", "ab", "b", "B", "ba", ""])
FLOATS = st.sampled_from([2.5, 3.0])  # 3.0 equals 3, and its $type is "double"
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, STRINGS)
VALUES = st.one_of(SCALARS, st.lists(st.one_of(st.none(), INTS, STRINGS), max_size=3))
DOCS = st.fixed_dictionaries(
    {},
    optional={
        "x": VALUES,
        "y": VALUES,
        "n": st.fixed_dictionaries({}, optional={"x": VALUES}),
    },
)
FIELDS = st.sampled_from(["x", "y", "n.x"])
BOUNDS = st.one_of(st.booleans(), INTS, STRINGS)
OPERATOR_CONDITIONS = st.one_of(
    st.builds(lambda v: {"$eq": v}, SCALARS),
    st.builds(lambda v: {"$ne": v}, SCALARS),
    st.builds(lambda o, v: {o: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), BOUNDS),
    st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=3)),
    st.builds(lambda v: {"$nin": v}, st.lists(SCALARS, max_size=3)),
    st.builds(lambda v: {"$exists": v}, st.booleans()),
    st.builds(
        lambda p, o: {"$regex": p, "$options": o} if o else {"$regex": p},
        st.sampled_from(["^a", "a", "b$", "^$", "A"]),
        st.sampled_from(["", "i"]),
    ),
    st.builds(lambda lo, hi: {"$gte": lo, "$lt": hi}, INTS, INTS),
    # issue 11's operators, where mongomock follows MongoDB (its "null" and numeric $type
    # codes, $mod and the $bits operators are missing or wrong, and its $elemMatch matches a
# scalar, its $size a boolean: test_store_operators.py and test_known_mongomock_differences)
    st.builds(
        lambda t: {"$type": t},
        st.sampled_from(["string", "number", "int", "bool", "array", "object", "double"]),
    ),
    st.builds(lambda v: {"$all": v}, st.lists(st.one_of(INTS, STRINGS), min_size=1, max_size=2)),
    st.builds(lambda o, v: {"$not": {o: v}}, st.sampled_from(["$gt", "$lte", "$eq"]), BOUNDS),
    st.builds(lambda p: {"$not": {"$regex": p}}, st.sampled_from(["^a", "b$", "A"])),
)
CONDITIONS = st.one_of(SCALARS, OPERATOR_CONDITIONS)
LEAF_FILTERS = st.dictionaries(FIELDS, CONDITIONS, min_size=1, max_size=2)
FILTERS = st.recursive(
    LEAF_FILTERS,
    lambda inner: st.builds(
        lambda op, branches: {op: branches},
        st.sampled_from(["$and", "$or", "$nor"]),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(filter=FILTERS, docs=st.lists(DOCS, min_size=1, max_size=8))
def test_matcher_agrees_with_mongomock(filter: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    ours = compile_filter(filter).matches
    for doc in docs:
        assert ours(doc) == filter_applies(filter, doc), (filter, doc)


@pytest.mark.parametrize(
    ("filter", "doc", "mongodb"),
    [
        ({"a": 1}, {"a": True}, False),  # BSON: a boolean is not a number
        ({"o": {"x": 1, "y": 2}}, {"o": {"y": 2, "x": 1}}, False),  # field order matters
        ({"n.x": None}, {"n": 5}, True),  # the path is missing
        ({"a": {"$all": [{"$elemMatch": {"$gte": 2}}]}}, {"a": 2}, False),  # not an array
        ({"a": {"$type": "int"}}, {"a": 2**31}, False),  # a long: 32 bits hold up to 2**31 - 1
        ({"a": {"$size": 1}}, {"a": True}, False),  # a boolean is not an array
    ],
)
def test_known_mongomock_differences(
    filter: dict[str, Any], doc: dict[str, Any], mongodb: bool
) -> None:
    assert compile_filter(filter).matches(doc) is mongodb
    assert filter_applies(filter, doc) is not mongodb
