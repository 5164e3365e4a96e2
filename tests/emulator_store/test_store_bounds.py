"""The query engine's bounds (lumi/emulator/limits.py): each is a QueryError that names the limit,
before any work; regular expressions end at the query's time budget; and no JSON value, however
hostile, gets anything but an answer or a QueryError out of the store."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lumi.emulator.regexes as regexes
from lumi.emulator import limits
from lumi.emulator.query import QueryError, compile_filter, compile_sort
from lumi.emulator.store import EntityStore

P, E = "p1", "bounds"


def nested_text(operator: str, depth: int) -> str:
    """``{"$or": [{"$or": [... {"t": "a"} ...]}]}`` as text (json.dumps recurses itself)."""
    return f'{{"{operator}":[' * depth + '{"t":"a"}' + "]}" * depth


def parsed(text: str) -> Any:
    """The value of JSON text nested deeper than pytest's stack leaves json.loads room for."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(limit)


DEEP = re.escape("is nested more than 100 levels deep (objects and arrays); the limit is 100")


@pytest.mark.parametrize(
    "filter",
    [
        parsed(nested_text("$or", 50)),  # 101 levels: just past the bound
        parsed(nested_text("$or", 240)),  # SQLite's parser stack overflowed here once
        parsed(nested_text("$nor", 480)),  # RecursionError once
        parsed(nested_text("$and", 480)),
        parsed('{"t":' + '{"$elemMatch":' * 480 + '{"$eq":1}' + "}" * 480 + "}"),
        parsed('{"t":' + '{"$not":' * 480 + '{"$eq":1}' + "}" * 480 + "}"),
        parsed('{"t":' + "[" * 150 + "]" * 150 + "}"),  # a deep value
        parsed('{"t":{"$in":[' + '{"a":' * 120 + "1" + "}" * 120 + "]}}"),
    ],
)
def test_filters_nested_past_the_bound_name_it(store: EntityStore, filter: Any) -> None:
    store.create(P, E, {"t": "a"}, None)
    with pytest.raises(QueryError, match=f"the filter {DEEP}"):
        store.find(P, E, filter)


def test_the_deepest_filter_allowed_is_answered(store: EntityStore) -> None:
    store.create(P, E, {"t": "a"}, None)
    for operator in ("$or", "$and"):
        assert store.find(P, E, parsed(nested_text(operator, 49)))[1] == 1  # 99 levels
    assert store.find(P, E, parsed(nested_text("$nor", 49)))[1] == 0
    elem_match = '{"t":' + '{"$elemMatch":' * 98 + '{"$eq":1}' + "}" * 98 + "}"
    assert store.find(P, E, parsed(elem_match))[1] == 0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2**63, "the integer 9223372036854775808"),
        (-(2**63) - 1, "the integer -9223372036854775809"),
        (10**4999, "the integer of 5000 digits"),  # a 5,000-digit integer
        (float("inf"), "inf, not a finite number"),
        (float("-inf"), "-inf, not a finite number"),
        (float("nan"), "nan, not a finite number"),
    ],
    ids=["2**63", "-2**63-1", "5000-digits", "inf", "-inf", "nan"],  # repr: past 4300 digits
)
@pytest.mark.parametrize(
    "where",
    [
        lambda v: {"n": v},
        lambda v: {"n": {"$gt": v}},
        lambda v: {"n": {"$in": [1, v]}},
        lambda v: {"n": {"$mod": [v, 0]}},
        lambda v: {"$or": [{"n": 1}, {"n": {"$nin": [v]}}]},
        lambda v: {"n": {"$elemMatch": {"x": v}}},
    ],
)
def test_numbers_mongodb_cannot_store_are_refused_naming_the_bound(
    store: EntityStore, value: Any, shown: str, where: Any
) -> None:
    with pytest.raises(QueryError, match=f"the filter holds {shown}"):
        store.find(P, E, where(value))


def test_the_edges_of_64_bits_are_answered(store: EntityStore) -> None:
    store.create_many(P, E, [{"n": 2**63 - 1}, {"n": -(2**63)}, {"n": 1e300}], None)
    assert store.find(P, E, {"n": 2**63 - 1})[1] == 1
    assert store.find(P, E, {"n": {"$lte": -(2**63)}})[1] == 1
    assert store.find(P, E, {"n": {"$gt": 2**63 - 1}})[1] == 1  # 1e300


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (parsed('{"t":' + '{"a":' * 100 + "1" + "}" * 100 + "}"), f"document #0 {DEEP}"),
        (parsed('{"t":' + "[" * 900 + "]" * 900 + "}"), f"document #0 {DEEP}"),
        ({"n": 10**30}, "document #0 holds the integer 1000000000000000000000000000000"),
    ],
)
def test_documents_past_the_bounds_are_refused(
    store: EntityStore, document: Any, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        store.create(P, E, document, None)
    assert store.find(P, E)[1] == 0


def test_an_update_cannot_nest_a_document_past_the_bound(store: EntityStore) -> None:
    deepest = parsed('{"t":' + '{"a":' * 99 + "1" + "}" * 99 + "}")  # 100 levels with the root
    doc = store.create(P, E, deepest, None)
    with pytest.raises(QueryError, match=f"the updated document {DEEP}"):
        store.update(P, E, doc["_id"], {"t" + ".a" * 99: {"b": 1}})
    with pytest.raises(QueryError, match=f"the update {DEEP}"):
        store.update(P, E, doc["_id"], {"$set": parsed('{"u":' + "[" * 120 + "]" * 120 + "}")})
    assert store.get(P, E, doc["_id"]) == doc


def test_sorts_and_paths_past_the_bounds() -> None:
    with pytest.raises(QueryError, match="the sort names 33 fields; the limit is 32"):
        compile_sort({f"f{i}": 1 for i in range(33)})
    assert len(compile_sort({f"f{i}": -1 for i in range(32)})) == 32
    path = ".".join(["a"] * 101)
    with pytest.raises(QueryError, match="101 segments; the limit is 100"):
        compile_filter({path: 1})
    with pytest.raises(QueryError, match="101 segments; the limit is 100"):
        compile_sort({path: 1})
    with pytest.raises(QueryError, match=r"invalid field path 'a{56}\.\.\.: empty segment"):
        compile_filter({"a" * 1_000_000 + "..b": 1})  # the message shows a bounded part


def test_a_pattern_past_the_length_bound_is_refused() -> None:
    pattern = "a" * (limits.MAX_REGEX_CHARS + 1)
    with pytest.raises(QueryError, match=f"is {len(pattern)} characters long; the limit is"):
        compile_filter({"t": {"$regex": pattern}})
    compile_filter({"t": {"$regex": "a" * limits.MAX_REGEX_CHARS}})


# ---- the regex budget ----------------------------------------------------------------------


def test_a_catastrophic_regex_ends_in_an_error_naming_the_pattern(store: EntityStore) -> None:
    store.create(P, E, {"t": "a" * 30 + "!"}, None)
    # issue 11's pattern: the regex package finds no match at once (re took minutes)
    assert store.find(P, E, {"t": {"$regex": "(a+)+$"}}) == ([], 0)
    with pytest.raises(QueryError) as refused:
        store.find(P, E, {"t": {"$regex": "(a|a)+$"}})  # backtracks for ever in any engine
    message = str(refused.value)
    assert message.startswith("$regex '(a|a)+$' on field 't' ran past the query's regex budget")
    assert f"budget of {limits.REGEX_SECONDS:g} s" in message
    assert store.find(P, E, {"t": {"$regex": "^a+!$"}})[1] == 1  # the store goes on


def test_the_budget_is_per_query_over_all_documents(
    store: EntityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clock that advances 0.1 s per reading: each search costs 0.1 s, whatever the machine.
    With a budget of 0.25 s, a query may run three searches (the third starts with 0.05 s
    left) and no more, over all its documents together; the next query starts afresh."""
    ticks = iter(range(10**6))
    monkeypatch.setattr(regexes.time, "perf_counter", lambda: next(ticks) * 0.1)
    monkeypatch.setattr(limits, "REGEX_SECONDS", 0.25)
    store.create_many(P, E, [{"t": f"x{i}"} for i in range(4)], None)
    with pytest.raises(QueryError, match=r"regex budget of 0\.25 s"):
        store.find(P, E, {"t": {"$regex": "y"}})  # the fourth document's search
    store.delete(P, E, store.find(P, E, {"t": "x3"})[0][0]["_id"])
    assert store.find(P, E, {"t": {"$regex": "x[02]"}})[1] == 2  # three searches: within
    assert store.find(P, E, {"t": {"$in": [{"$regex": "1$"}]}})[1] == 1  # a fresh budget


def test_a_regex_pushed_into_sql_is_not_searched_at_all(
    store: EntityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A literal prefix is an index range in SQL: exact there, so no budget is spent on it."""
    monkeypatch.setattr(limits, "REGEX_SECONDS", 0.0)
    store.create_many(P, E, [{"t": "apple"}, {"t": "banana"}], None)
    assert [d["t"] for d in store.find(P, E, {"t": {"$regex": "^ap"}})[0]] == ["apple"]
    with pytest.raises(QueryError, match="regex budget of 0 s"):
        store.find(P, E, {"t": {"$regex": "an"}})


@pytest.mark.parametrize(
    ("pattern", "options", "texts", "expected"),
    [
        ("^b.*a$", "", ["banana", "Banana", "b\na"], [0]),
        ("^b.*a$", "i", ["banana", "Banana", "b\na"], [0, 1]),
        ("^b.*a$", "s", ["banana", "Banana", "b\na"], [0, 2]),
        ("^a$", "m", ["x\na\ny", "a", "ba"], [0, 1]),
        ("a # the letter\n b", "x", ["ab", "a b"], [0]),
        ("a++b", "", ["aab", "ac"], [0]),  # PCRE's possessive repetition
        ("(?>a+)b", "", ["aab", "ac"], [0]),  # an atomic group
        ("\\p{Lu}", "", ["é", "É"], [1]),  # a Unicode property
        ("[[:digit:]]", "", ["a1", "ab"], [0]),  # a POSIX class
    ],
)
def test_pcre_syntax_and_the_imsx_options(
    store: EntityStore, pattern: str, options: str, texts: list[str], expected: list[int]
) -> None:
    store.create_many(P, E, [{"t": text, "i": i} for i, text in enumerate(texts)], None)
    filter = {"t": {"$regex": pattern, "$options": options}}
    assert [d["i"] for d in store.find(P, E, filter)[0]] == expected


@pytest.mark.parametrize("pattern", ["(unclosed", "a)", "a{2,1}", "[z-a]", "\\k<n>", "*"])
def test_invalid_patterns_are_refused_naming_them(pattern: str) -> None:
    with pytest.raises(QueryError, match=r"invalid \$regex .* on field 't'"):
        compile_filter({"t": {"$regex": pattern}})


# ---- anything at all -----------------------------------------------------------------------

KEYS = ["a", "b.c", "_id", "$and", "$or", "$nor", "$not", "$in", "$nin", "$all", "$eq", "$gt"]
KEYS += ["$regex", "$options", "$mod", "$type", "$size", "$elemMatch", "$exists", "$bitsAllSet"]
KEYS += ["$where", "$comment", "", "0"]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["$regex", "(a|a)+$", "$in", "a.b", "a..b", "$type", "number", "\ud800"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(KEYS),
        inner,
        max_size=3,
    ),
    max_leaves=12,
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filter=JSON, sort=JSON)
def test_any_json_filter_or_sort_is_answered_or_refused(
    store: EntityStore, monkeypatch: pytest.MonkeyPatch, filter: Any, sort: Any
) -> None:
    monkeypatch.setattr(limits, "REGEX_SECONDS", 0.05)
    if store.find(P, E)[1] == 0:
        store.create_many(P, E, [{"a": [1, "x"], "b": {"c": None}}, {"a": "aaaaaaaaaaaaaa!"}], None)
    try:
        page, total = store.find(P, E, filter, sort)
    except QueryError as exc:
        assert str(exc) and len(str(exc)) < 1_000
    else:
        assert len(page) == total <= 2


def test_the_readme_lists_every_query_bound_with_its_value() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Limits and security model") :]
    for row in (
        f"| {limits.MAX_NESTING} levels (MongoDB's) | 10400 naming the bound |",
        "| 64 bits, -2**63 to 2**63 - 1 (what MongoDB stores) |",
        f"| a field path | {limits.MAX_NESTING} segments | 10400 |",
        f"| fields in one sort | {limits.MAX_SORT_KEYS} (MongoDB's) | 10400 |",
        f"| a `$regex` pattern | {limits.MAX_REGEX_CHARS:,} characters | 10400 |",
        f"| {limits.REGEX_SECONDS:g} s in all, over all its documents | 10400 naming the pattern |",
    ):
        assert row in table, row
    assert (limits.MIN_INT, limits.MAX_INT) == (-(2**63), 2**63 - 1)
