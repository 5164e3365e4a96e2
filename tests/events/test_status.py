"""A turn's status tells the truth: a failed LLM call fails the turn unless a later attempt in
the same turn succeeded; the failed attempts stay recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from lumi.events import SpanContext, Tracker, TurnContext

from .collector import Collector


class ModelDown(Exception):
    pass


def _fail() -> str:
    raise ModelDown("503")


def _ok() -> str:
    return "answer"


def _sent_turn(tracker: Tracker, collector: Collector) -> dict[str, Any]:
    assert tracker.flush(timeout=10)
    (event,) = [e for e in collector.events() if e["type"] == "turn"]
    return event


def _run(turn: Any, steps: str) -> None:
    """``steps``: ``f`` a failing LLM call, ``o`` a successful one, ``t`` a failing tool,
    ``s`` a stream left unfinished."""
    for step in steps:
        if step == "f":
            with pytest.raises(ModelDown):
                turn.wrap_llm(_fail, model="m")
        elif step == "o":
            turn.wrap_llm(_ok, model="m")
        elif step == "t":
            with pytest.raises(ModelDown):
                turn.record_tool("tool", _fail)
        elif step == "s":
            next(turn.wrap_llm(lambda: iter("abc"), model="m"))


@pytest.mark.parametrize(
    ("steps", "status", "llm_statuses"),
    [
        ("", "ok", []),
        ("o", "ok", ["ok"]),
        ("f", "error", ["error"]),
        ("fo", "ok", ["error", "ok"]),  # a retry that succeeded
        ("ffo", "ok", ["error", "error", "ok"]),
        ("of", "error", ["ok", "error"]),  # the last call failed
        ("fff", "error", ["error", "error", "error"]),
        ("tto", "ok", ["ok"]),  # tool failures do not fail the turn
        ("ft", "error", ["error"]),
        ("fs", "ok", ["error", "incomplete"]),  # a later stream answered (not read to the end)
    ],
)
def test_status_follows_the_last_llm_call(
    make_tracker: Callable[..., Tracker],
    collector: Collector,
    steps: str,
    status: str,
    llm_statuses: list[str],
) -> None:
    tracker = make_tracker()
    turn = tracker.session.start().turn()
    _run(turn, steps)
    assert turn.status == status  # already before finish()
    turn.finish()  # the seed's try/finally: finish() without the exception
    event = _sent_turn(tracker, collector)
    assert event["status"] == status
    assert [c["status"] for c in event.get("llm_calls", [])] == llm_statuses
    if status == "error":
        assert event["error"] == {"type": "ModelDown", "message": "503"}
    else:
        assert "error" not in event


def test_the_turns_own_exception_wins(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    with pytest.raises(KeyError), tracker.session.start().turn() as turn:
        _run(turn, "o")
        raise KeyError("no such user")
    event = _sent_turn(tracker, collector)
    assert event["status"] == "error" and event["error"]["type"] == "KeyError"
    assert event["llm_calls"][0]["status"] == "ok"


def test_the_seed_retry_recipe_when_every_attempt_fails(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    session = tracker.session.start()

    def robust_call(max_retries: int = 3) -> str:
        turn = session.turn()
        for attempt in range(max_retries):
            try:
                response: str = turn.wrap_llm(_fail, {"model": "gpt-4o", "prompt_id": "chat_v1"})
                turn.annotate({"success": True, "attemptNumber": attempt + 1})
                turn.finish()
                return response
            except ModelDown as error:
                turn.annotate({"error": {"message": str(error), "attempt": attempt + 1}})
                if attempt == max_retries - 1:
                    turn.finish()
                    raise
        raise AssertionError("unreachable")

    with pytest.raises(ModelDown):
        robust_call()
    event = _sent_turn(tracker, collector)
    assert event["status"] == "error" and len(event["llm_calls"]) == 3
    assert event["annotations"] == {"error": {"message": "503", "attempt": 3}}


class RecordingSystem:
    name = "recording"

    def __init__(self) -> None:
        self.ended: list[tuple[str, Mapping[str, Any]]] = []

    def start_turn(self, ctx: TurnContext) -> str | None:
        return ctx.turn_id

    def end_turn(self, span_id: str, status: str, meta: Mapping[str, Any]) -> None:
        self.ended.append((status, meta))

    def start_span(self, ctx: SpanContext) -> str | None:
        return None

    def end_span(self, span_id: str, status: str, meta: Mapping[str, Any]) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture
def system() -> Iterator[RecordingSystem]:
    yield RecordingSystem()


def test_the_tracing_span_gets_the_same_status(
    make_tracker: Callable[..., Tracker], system: RecordingSystem
) -> None:
    tracker = make_tracker(system_analytics=system)
    session = tracker.session.start()
    for steps in ("f", "fo"):
        turn = session.turn()
        _run(turn, steps)
        turn.finish()
    assert [status for status, _ in system.ended] == ["error", "ok"]
