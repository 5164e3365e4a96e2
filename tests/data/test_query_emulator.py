"""Against the emulator, a typed query returns exactly the records the hand-written MongoDB
filter returns through the untyped client (including negations, which the compiler rewrites)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumi import LumiClient
from lumi.data import Q, repository

from .conftest import CallSpy
from .test_query import FIELDS, key, lookups, reference

CATEGORIES = ["legislacao", "sinalizacao", "mecanica"]


def sample_documents(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Varied questions: optional fields sometimes missing, nested statistics, arrays."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    docs = []
    for index in range(count):
        doc: dict[str, Any] = {
            "question": rng.choice(["a+b", "ab", "b.a", "(a)", "ba", "A+B", "abba"]) + str(index),
            "options": ["x", "y"],
            "correct": rng.randint(-3, 5),
            "category": rng.choice(CATEGORIES),
            "difficulty": rng.choice(["facil", "medio"]),
            "createdAt": (start + dt.timedelta(days=rng.randint(0, 3000))).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            ),
        }
        if rng.random() < 0.7:
            doc["active"] = rng.random() < 0.5
        if rng.random() < 0.6:
            doc["statistics"] = {
                "totalAnswers": rng.randint(0, 9),
                "successRate": rng.choice([0.0, 12.5, 50.0, 99.9]),
            }
        if rng.random() < 0.5:
            doc["tags"] = rng.sample(["a", "b", "c"], rng.randint(0, 2))
        docs.append(doc)
    return docs


@pytest.fixture
def seeded(client: LumiClient, auto_escola: Any) -> Any:
    client.entities["questions"].create_many(sample_documents(40))
    return repository(client, auto_escola.ENTITIES["questions"], page_size=7)


def hand_written(client: LumiClient, filter: dict[str, Any]) -> list[str]:
    page = client.entities["questions"].list(filter=filter, sort={"_id": 1})
    return [record.id for record in page.list]


@given(items=st.lists(lookups(), min_size=1, max_size=3, unique_by=lambda item: item[0]))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_typed_queries_return_what_hand_written_filters_return(
    client: LumiClient, seeded: Any, items: list[tuple[str, str, Any]]
) -> None:
    kwargs = {key(field, lookup): value for field, lookup, value in items}
    expected = {FIELDS[field][0]: reference(lookup, value) for field, lookup, value in items}
    assert [r.id for r in seeded.filter(**kwargs)] == hand_written(client, expected)
    assert [r.id for r in seeded.exclude(**kwargs)] == hand_written(client, {"$nor": [expected]})
    branches = [Q(**{key(f, lk): v}) for f, lk, v in items]
    either = branches[0]
    for branch in branches[1:]:
        either |= branch
    expected_or = {"$or": [{FIELDS[f][0]: reference(lk, v)} for f, lk, v in items]}
    assert [r.id for r in seeded.filter(either)] == hand_written(client, expected_or)


def test_iteration_pages_automatically_in_a_stable_order(
    client: LumiClient, seeded: Any, spy: CallSpy
) -> None:
    ordered = list(seeded.order_by("category", "-correct"))
    assert len(ordered) == 40
    # 40 records, 7 a page: 6 pages, and before the second one the check for array values
    assert spy.count("listDocumentsByPage") == 7
    probe, second = spy.bodies[1], spy.bodies[2]
    assert probe["limit"] == 1 and probe["filter"]["$and"][1] == {
        "$or": [
            {"category.0": {"$exists": True}},
            {"category": {"$size": 0}},
            {"correct.0": {"$exists": True}},
            {"correct": {"$size": 0}},
        ]
    }
    assert second["skip"] == 0 and second["filter"]["$and"][0] == {}  # a keyset page
    assert "$or" in second["filter"]["$and"][1]
    expected = client.entities["questions"].list(sort={"category": 1, "correct": -1, "_id": 1})
    assert [r.id for r in ordered] == [r.id for r in expected.list]
    assert len({r.id for r in ordered}) == 40  # nothing repeated across pages


def test_slices_count_first_exists_and_index(client: LumiClient, seeded: Any) -> None:
    everything = [r.id for r in seeded.all()]
    assert [r.id for r in seeded.all()[5:19]] == everything[5:19]
    assert [r.id for r in seeded.all()[38:]] == everything[38:]
    assert seeded.all()[12].id == everything[12]
    with pytest.raises(IndexError):
        seeded.all()[40]
    assert seeded.count() == 40
    assert seeded.all()[30:50].count() == 10
    mecanica = client.entities["questions"].list(filter={"category": "mecanica"}, sort={"_id": 1})
    assert seeded.filter(category="mecanica").count() == len(mecanica.list)
    assert seeded.filter(category="mecanica").first().id == mecanica.list[0].id
    assert seeded.filter(correct__gt=100).first() is None
    assert not seeded.filter(correct__gt=100).exists()
    assert seeded.filter(correct__lte=100).exists()
    with pytest.raises(TypeError, match="exists"):
        bool(seeded.all())


def test_page_size_is_configurable(seeded: Any, spy: CallSpy) -> None:
    assert len(list(seeded.all().page_size(25))) == 40
    assert spy.count("listDocumentsByPage") == 2
