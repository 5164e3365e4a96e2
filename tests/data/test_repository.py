"""Typed repositories against the emulator: CRUD with the generated classes, only set fields
sent, validation modes, chunked bulk writes."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import responses

import lumi
from lumi import LumiClient, ValidationError, create_client
from lumi._unset import UNSET
from lumi.data import Q, Repository, TypedPage, repository, set_default_validation

from .conftest import CallSpy

WHEN = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone.utc)


def valid(**changes: Any) -> dict[str, Any]:
    """Keyword arguments of a valid question (Python names)."""
    fields: dict[str, Any] = {
        "question": "2 + 2?",
        "options": ["3", "4"],
        "correct": 1,
        "category": "mecanica",
        "difficulty": "facil",
        "created_at": WHEN,
    }
    fields.update(changes)
    return fields


@pytest.fixture
def questions(client: LumiClient, auto_escola: Any) -> Repository[Any]:
    return repository(client, auto_escola.ENTITIES["questions"], validation="raise")


@pytest.fixture(autouse=True)
def _default_validation() -> Any:
    yield
    set_default_validation(None)


def test_crud_round_trip_with_typed_records(
    questions: Repository[Any], auto_escola: Any, spy: CallSpy
) -> None:
    cls = auto_escola.ENTITIES["questions"]
    created = questions.create(**valid(statistics={"totalAnswers": 2}))
    assert isinstance(created, cls) and len(created.id) == 24
    assert created.created_at == WHEN and created.statistics.total_answers == 2
    assert spy.bodies[-1] == {
        "question": "2 + 2?",
        "options": ["3", "4"],
        "correct": 1,
        "category": "mecanica",
        "difficulty": "facil",
        "createdAt": "2026-03-01T10:00:00.000Z",
        "statistics": {"totalAnswers": 2},
    }  # wire names, UNSET fields left out
    fetched = questions.get(created.id)
    assert fetched == created
    updated = questions.update(created.id, active=True, statistics__correct_answers=1)
    assert spy.bodies[-1] == {
        "filter": {"_id": created.id},
        "update": {"active": True, "statistics.correctAnswers": 1},
    }
    assert updated.active is True and updated.statistics.correct_answers == 1
    assert updated.statistics.total_answers == 2  # a merge, not a replacement
    page = questions.list(filter={"active": True})
    assert isinstance(page, TypedPage) and page.total == 1 and page.list == [updated]
    by_q = questions.list(filter=Q(statistics__correct_answers__gte=1), sort={"_id": 1}, limit=5)
    assert spy.bodies[-1]["filter"] == {"statistics.correctAnswers": {"$gte": 1}}
    assert by_q.list == [updated] and by_q.total == 1
    questions.delete(updated)
    assert questions.get(created.id) is None
    assert questions.list().total == 0


def test_create_from_an_instance_or_a_mapping(questions: Repository[Any], auto_escola: Any) -> None:
    cls = auto_escola.ENTITIES["questions"]
    instance = cls(**valid(), extra={"legacyCode": "Q-1"})
    from_instance = questions.create(instance)
    assert from_instance.extra == {"legacyCode": "Q-1"} and from_instance.tags is UNSET
    wire_mapping = {**valid(), "created_at": "2026-03-01T10:00:00.000Z", "customKey": 3}
    from_mapping = questions.create(wire_mapping)
    assert from_mapping.created_at == WHEN and from_mapping.extra == {"customKey": 3}
    again = questions.update(from_mapping, {"createdAt": "2026-03-02T00:00:00.000Z"})
    assert again.created_at == WHEN + dt.timedelta(hours=14)
    whole = questions.update(from_instance)  # an instance sends its set fields back
    assert whole.id == from_instance.id and whole.extra == {"legacyCode": "Q-1"}


def test_validation_raise_sends_nothing(client: LumiClient, auto_escola: Any) -> None:
    cls = auto_escola.ENTITIES["questions"]
    strict = repository(client, cls, validation="raise")
    with responses.RequestsMock() as mocked:  # nothing registered: a request would fail
        with pytest.raises(ValidationError, match=r"questions\.correct: must be >= 0"):
            strict.create(**valid(correct=-1))
        with pytest.raises(ValidationError, match=r"questions\.category: must be one of"):
            strict.create(**valid(category="cooking"))
        with pytest.raises(ValidationError, match=r"questions\.difficulty: is required"):
            strict.create({k: v for k, v in valid().items() if k != "difficulty"})
        with pytest.raises(ValidationError, match=r"questions\.question: must be string"):
            strict.create(**valid(question=5))
        with pytest.raises(ValidationError, match=r"successRate: must be <= 100"):
            strict.update("6939311e8458665713e0b522", statistics__success_rate=120)
        with pytest.raises(ValidationError, match=r"item 1: questions\.correct"):
            strict.create_many([valid(), valid(correct=-5)])
        assert len(mocked.calls) == 0


def test_partial_updates_do_not_check_required_fields(questions: Repository[Any]) -> None:
    created = questions.create(**valid())
    assert questions.update(created.id, {"explanation": "because"}).explanation == "because"


def test_validation_warn_logs_and_sends(
    client: LumiClient, auto_escola: Any, caplog: pytest.LogCaptureFixture
) -> None:
    warn = repository(client, auto_escola.ENTITIES["questions"])  # the default mode
    assert warn.validation == "warn"
    with caplog.at_level(logging.WARNING, logger="lumi"):
        created = warn.create(**valid(correct=-1))
    assert created.correct == -1
    [record] = [r for r in caplog.records if r.name == "lumi"]
    assert "questions.correct: must be >= 0" in record.getMessage()
    assert "sent anyway" in record.getMessage()


def test_validation_off_and_the_global_default(
    client: LumiClient, auto_escola: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cls = auto_escola.ENTITIES["questions"]
    with caplog.at_level(logging.WARNING, logger="lumi"):
        repository(client, cls, validation="off").create(**valid(correct=-1))
    assert not caplog.records
    set_default_validation("raise")
    default = repository(client, cls)
    with pytest.raises(ValidationError):
        default.create(**valid(correct=-1))
    assert repository(client, cls, validation="warn").validation == "warn"  # its own wins
    with pytest.raises(ValidationError, match="validation must be one of"):
        repository(client, cls, validation="strict")  # type: ignore[arg-type]


def test_stored_records_that_do_not_fit_the_class_are_read_leniently(
    client: LumiClient, auto_escola: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The service only warns on schema violations, so such records exist: they still read,
    # the misfit value stays raw in `extra`, and writing the record back keeps it as it was.
    off = repository(client, auto_escola.ENTITIES["questions"], validation="off")
    with caplog.at_level("WARNING", logger="lumi"):
        stored = off.create(**valid(category="cooking"))
    assert stored.category is UNSET and stored.extra["category"] == "cooking"
    assert "category" in caplog.text and "does not fit" in caplog.text
    assert lumi.unstructure(stored)["category"] == "cooking"
    assert off.get(stored.id).extra["category"] == "cooking"


def test_create_many_and_delete_many_go_in_chunks(
    client: LumiClient, auto_escola: Any, spy: CallSpy
) -> None:
    repo = repository(client, auto_escola.ENTITIES["questions"], chunk_size=4)
    done: list[int] = []
    created = repo.create_many([valid(correct=n) for n in range(10)], progress=done.append)
    assert [q.correct for q in created] == list(range(10))
    assert spy.count("createDocuments") == 3 and done == [4, 4, 2]
    assert [len(body) for body in spy.bodies if isinstance(body, list)] == [4, 4, 2]
    assert repo.delete_many(created[:7], chunk_size=3) == 7
    assert spy.count("deleteDocuments") == 3
    assert sorted(q.correct for q in repo.all()) == [7, 8, 9]
    assert repo.delete_many([]) == 0 and spy.count("deleteDocuments") == 3


def test_repository_needs_an_entity_class_and_sane_sizes(auto_escola: Any) -> None:
    offline = create_client(project_id="p", api_base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError, match="not an entity class"):
        repository(offline, dict)
    cls = auto_escola.ENTITIES["questions"]
    with pytest.raises(ValidationError, match="chunk_size must be a positive integer"):
        repository(offline, cls, chunk_size=0)
    with pytest.raises(ValidationError, match="page size must be a positive integer"):
        repository(offline, cls).all().page_size(0)


def test_bad_writes_fail_before_any_request(questions: Repository[Any]) -> None:
    with responses.RequestsMock() as mocked:
        with pytest.raises(ValidationError, match="no field to update"):
            questions.update("6939311e8458665713e0b522")
        with pytest.raises(ValidationError, match="use extra="):
            questions.create(**valid(), nickname="x")
        with pytest.raises(ValidationError, match="document id"):
            questions.get("")
        with pytest.raises(ValidationError, match="has no id"):
            questions.delete(questions.model(**valid()))
        assert len(mocked.calls) == 0
