"""The query builder compiles Django-style lookups to the filter a person would write by hand,
and refuses bad fields and values before any request."""

from __future__ import annotations

import datetime as dt
import re
import types
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from lumi import ValidationError, create_client
from lumi.data import Q, repository
from lumi.data.query import escape_regex, merge_and, negate

NOW = dt.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def questions(auto_escola: types.ModuleType) -> Any:
    # No server behind this client: any request would fail, so compile-only tests prove
    # that nothing is sent.
    client = create_client(project_id="p_offline", api_base_url="http://127.0.0.1:9")
    return repository(client, auto_escola.ENTITIES["questions"])


def test_the_brief_example_compiles_to_the_hand_written_query(auto_escola: Any) -> None:
    client = create_client(project_id="p", api_base_url="http://127.0.0.1:9")
    lessons = repository(client, auto_escola.ENTITIES["instructors"])
    query = (
        lessons.filter(status="ativo", rating__gte=4, categories__in=["B"], name__iregex="^an")
        .exclude(license__exists=False)
        .order_by("-created_at", "name")[20:40]
    ).compile()
    assert query.filter == {
        "status": "ativo",
        "rating": {"$gte": 4},
        "categories": {"$in": ["B"]},
        "name": {"$regex": "^an", "$options": "i"},
        "license": {"$exists": True},
    }
    assert query.sort == {"createdAt": -1, "name": 1, "_id": 1}
    assert (query.skip, query.limit) == (20, 20)


def test_python_names_become_wire_names_and_datetimes_iso_strings(questions: Any) -> None:
    query = questions.filter(
        created_at__gte=NOW, statistics__total_answers__gt=3, id="6939311e8458665713e0b522"
    ).compile()
    assert query.filter == {
        "createdAt": {"$gte": "2026-03-01T10:00:00.123Z"},
        "statistics.totalAnswers": {"$gt": 3},
        "_id": "6939311e8458665713e0b522",
    }


def test_text_lookups_escape_the_value(questions: Any) -> None:
    text = "a+b (c)?"
    compiled = {
        lookup: questions.filter(**{f"question__{lookup}": text}).compile().filter["question"]
        for lookup in ("contains", "icontains", "startswith", "istartswith", "endswith")
    }
    escaped = r"a\+b \(c\)\?"
    assert compiled == {
        "contains": {"$regex": escaped},
        "icontains": {"$regex": escaped, "$options": "i"},
        "startswith": {"$regex": "^" + escaped},
        "istartswith": {"$regex": "^" + escaped, "$options": "i"},
        "endswith": {"$regex": escaped + "$"},
    }


@given(st.text(max_size=30))
@settings(max_examples=80)
def test_escaped_regex_matches_exactly_the_text(text: str) -> None:
    assert re.fullmatch(escape_regex(text), text, flags=re.DOTALL)


def test_isnull_exists_ne_nin_and_regex_objects(questions: Any) -> None:
    query = questions.filter(
        explanation__isnull=True,
        author__isnull=False,
        video__exists=False,
        source__ne="x",
        category__nin=("mecanica", "legislacao"),
        image__regex=re.compile("^http", re.IGNORECASE),
    ).compile()
    assert query.filter == {
        "explanation": None,
        "author": {"$ne": None},
        "video": {"$exists": False},
        "source": {"$ne": "x"},
        "category": {"$nin": ["mecanica", "legislacao"]},
        "image": {"$regex": "^http", "$options": "i"},
    }


def test_ranges_on_one_field_merge_and_q_objects_combine(questions: Any) -> None:
    assert questions.filter(correct__gte=1, correct__lt=3).compile().filter == {
        "correct": {"$gte": 1, "$lt": 3}
    }
    either = questions.filter(Q(category="mecanica") | Q(active=True), difficulty="facil")
    assert either.compile().filter == {
        "$or": [{"category": "mecanica"}, {"active": True}],
        "difficulty": "facil",
    }
    both_or = questions.filter(Q(correct=1) | Q(correct=2)).filter(Q(active=True) | Q(tags="a"))
    assert both_or.compile().filter == {
        "$and": [
            {"$or": [{"correct": 1}, {"correct": 2}]},
            {"$or": [{"active": True}, {"tags": "a"}]},
        ]
    }


def test_negation_stays_on_the_field_when_mongodb_allows_it(questions: Any) -> None:
    def excluded(**lookups: Any) -> Any:
        return questions.exclude(**lookups).compile().filter

    assert excluded(active=True) == {"active": {"$ne": True}}
    assert excluded(category__in=["a"]) == {"category": {"$nin": ["a"]}}
    assert excluded(image__exists=True) == {"image": {"$exists": False}}
    assert excluded(correct__gt=2) == {"correct": {"$not": {"$gt": 2}}}
    assert excluded(source__ne="x") == {"source": "x"}
    assert excluded(active=True, correct=1) == {"$nor": [{"active": True, "correct": 1}]}
    assert questions.filter(~(Q(correct=1) | Q(correct=2))).compile().filter == {
        "$nor": [{"correct": 1}, {"correct": 2}]
    }
    assert questions.filter(~~Q(correct=1)).compile().filter == {"correct": 1}


def test_querysets_are_immutable(questions: Any) -> None:
    base = questions.filter(active=True)
    narrowed = base.filter(correct=1).order_by("question")[:5]
    assert base.compile().filter == {"active": True} and base.compile().limit is None
    assert narrowed.compile().filter == {"active": True, "correct": 1}
    assert narrowed.compile().sort == {"question": 1, "_id": 1}
    assert questions.all().compile().sort == {"_id": 1}


def test_slices_compose(questions: Any) -> None:
    query = questions.all()[10:50][5:10]
    assert (query.compile().skip, query.compile().limit) == (15, 5)
    assert questions.all()[10:][:3].compile().limit == 3
    beyond = questions.all()[0:5][7:9].compile()
    assert (beyond.skip, beyond.limit) == (5, 0)
    with pytest.raises(ValidationError, match="step"):
        questions.all()[::2]
    with pytest.raises(ValidationError, match="negative"):
        questions.all()[-1]
    with pytest.raises(ValidationError, match="sliced"):
        questions.all()[:5].filter(active=True)


@responses.activate  # no URL is registered: any request would raise ConnectionError
@pytest.mark.parametrize(
    ("lookups", "message"),
    [
        ({"titel": "x"}, "unknown field 'titel'"),
        ({"statistics__nope__gt": 1}, "unknown field 'nope'"),
        ({"correct": "1"}, "lookup correct: expected int, got str"),
        ({"correct__in": 1}, "in needs a list"),
        ({"category__in": "mecanica"}, "in needs a list"),
        ({"active": "yes"}, "expected bool"),
        ({"correct__regex": "1"}, "regex needs a text field"),
        ({"created_at__gt": 5}, "expected datetime"),
        ({"image__exists": "no"}, "exists needs True or False"),
        ({"statistics__success_rate__lte": "high"}, "statistics__success_rate__lte"),
    ],
)
def test_bad_lookups_fail_before_any_request(
    questions: Any, lookups: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        questions.filter(**lookups)
    assert len(responses.calls) == 0


@responses.activate
def test_bad_order_and_update_fields_fail_before_any_request(questions: Any) -> None:
    with pytest.raises(ValidationError, match="unknown field 'craeted_at'"):
        questions.order_by("-craeted_at")
    with pytest.raises(ValidationError, match="unknown field 'statistcs'"):
        questions.update("6939311e8458665713e0b522", statistcs__total_answers=1)
    with pytest.raises(ValidationError, match="unknown field 'qestion'"):
        questions.create(qestion="x")
    assert len(responses.calls) == 0


def test_array_fields_take_an_element_or_a_list(questions: Any) -> None:
    assert questions.filter(tags="a").compile().filter == {"tags": "a"}
    assert questions.filter(tags=["a", "b"]).compile().filter == {"tags": ["a", "b"]}
    assert questions.filter(tags__in=["a", 1]).compile().filter == {"tags": {"$in": ["a", 1]}}


# -- generated lookups against a reference compiler written independently ----------------------

#: Python name -> (wire path, strategy for values of the field's type, is text)
FIELDS: dict[str, tuple[str, st.SearchStrategy[Any], bool]] = {
    "correct": ("correct", st.integers(-5, 5), False),
    "question": ("question", st.text("ab+.", max_size=4), True),
    "category": ("category", st.sampled_from(["mecanica", "legislacao"]), True),
    "active": ("active", st.booleans(), False),
    "statistics__success_rate": ("statistics.successRate", st.floats(0, 100), False),
    "statistics__total_answers": ("statistics.totalAnswers", st.integers(0, 9), False),
    "created_at": (
        "createdAt",
        st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
            lambda d: d.replace(tzinfo=dt.timezone.utc)
        ),
        False,
    ),
}
SCALAR_LOOKUPS = ["exact", "ne", "gt", "gte", "lt", "lte"]
TEXT_LOOKUPS = ["regex", "iregex", "contains", "icontains", "startswith", "endswith"]


def wire_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        micro = value.microsecond // 1000
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{micro:03d}Z"
    return value


def reference(lookup: str, value: Any) -> Any:
    """How a person writes each lookup as a MongoDB condition."""
    if lookup == "exact":
        return wire_value(value)
    if lookup in ("ne", "gt", "gte", "lt", "lte"):
        return {"$" + lookup: wire_value(value)}
    if lookup in ("in", "nin"):
        return {"$" + lookup: [wire_value(v) for v in value]}
    if lookup == "exists":
        return {"$exists": value}
    if lookup == "isnull":
        return None if value else {"$ne": None}
    special = "\\^$.*+?()[]{}|/"
    escaped = "".join("\\" + ch if ch in special else ch for ch in value)
    pattern = {
        "regex": value,
        "iregex": value,
        "contains": escaped,
        "icontains": escaped,
        "startswith": "^" + escaped,
        "endswith": escaped + "$",
    }[lookup]
    return (
        {"$regex": pattern, "$options": "i"}
        if lookup in ("iregex", "icontains")
        else {"$regex": pattern}
    )


@st.composite
def lookups(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(python field, lookup, value) with a value of the right type."""
    field = draw(st.sampled_from(sorted(FIELDS)))
    _, values, text = FIELDS[field]
    choices = SCALAR_LOOKUPS + ["in", "nin", "exists", "isnull"] + (TEXT_LOOKUPS if text else [])
    lookup = draw(st.sampled_from(choices))
    if lookup in ("in", "nin"):
        return field, lookup, draw(st.lists(values, max_size=3))
    if lookup in ("exists", "isnull"):
        return field, lookup, draw(st.booleans())
    if lookup in ("regex", "iregex"):
        return field, lookup, draw(st.sampled_from(["^a", "b$", "a.b", "\\+"]))
    if lookup in TEXT_LOOKUPS:
        return field, lookup, draw(st.text("ab+.(", max_size=3))
    return field, lookup, draw(values)


def key(field: str, lookup: str) -> str:
    return field if lookup == "exact" else f"{field}__{lookup}"


@given(st.lists(lookups(), min_size=1, max_size=4, unique_by=lambda item: item[0]))
@settings(max_examples=100, deadline=None)
def test_generated_lookups_compile_like_the_reference(
    questions: Any, items: list[tuple[str, str, Any]]
) -> None:
    kwargs = {key(field, lookup): value for field, lookup, value in items}
    expected = {FIELDS[field][0]: reference(lookup, value) for field, lookup, value in items}
    assert questions.filter(**kwargs).compile().filter == expected
    either = [Q(**{key(f, lk): v}) for f, lk, v in items]
    combined = either[0]
    for condition in either[1:]:
        combined = combined | condition
    expected_or = [{FIELDS[f][0]: reference(lk, v)} for f, lk, v in items]
    compiled_or = questions.filter(combined).compile().filter
    assert compiled_or == (expected_or[0] if len(items) == 1 else {"$or": expected_or})


def test_merge_and_negate_helpers() -> None:
    assert merge_and([{"a": 1}, {}, {"b": 2}]) == {"a": 1, "b": 2}
    assert merge_and([{"a": 1}, {"a": 2}]) == {"$and": [{"a": 1}, {"a": 2}]}
    assert merge_and([{"a": {"$gt": 1}}, {"a": {"$gt": 2}}]) == {
        "$and": [{"a": {"$gt": 1}}, {"a": {"$gt": 2}}]
    }
    assert negate({}) == {"$nor": [{}]}
    assert negate({"$nor": [{"a": 1}]}) == {"a": 1}
