"""A user's script exercising every lumi.events feature, for the type checker.

``tests/events/test_typing.py`` checks it with ``mypy --strict --disallow-any-expr`` (no ``Any``
may reach this code from lumi.events) and runs ``main()`` against a local collector. Each
``assert_type`` fails mypy if a result's type is not the one stated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping

from typing_extensions import assert_type

import lumi.events
from lumi.events import (
    ChatInputTracker,
    Session,
    SpanContext,
    Status,
    TraceParent,
    Tracker,
    Turn,
    TurnContext,
)
from lumi.events.providers.posthog import PostHogProvider


class ConsoleUI:
    """A UI analytics provider of the application's own."""

    name = "console"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def init(self) -> None:
        self.seen.append("init")

    def get_session_id(self) -> str | None:
        return "ui-session"

    def get_replay_url(self) -> str | None:
        return None

    def tag_turn(self, ctx: TurnContext) -> None:
        self.seen.append(f"tag {ctx.turn_seq}")

    def untag_turn(self) -> None:
        self.seen.append("untag")

    def start_replay(self) -> None:
        self.seen.append("start_replay")

    def stop_replay(self) -> None:
        self.seen.append("stop_replay")

    def capture_event(self, name: str, properties: Mapping[str, object] | None = None) -> None:
        self.seen.append(name)

    def identify(
        self, distinct_id: str, anonymous_id: str | None, properties: Mapping[str, object] | None
    ) -> None:
        self.seen.append(f"identify {distinct_id}")

    def reset(self) -> None:
        self.seen.append("reset")

    def shutdown(self) -> None:
        self.seen.append("shutdown")


class CountingSystem:
    """A system analytics provider of the application's own."""

    name = "counting"

    def __init__(self) -> None:
        self.turns: list[Status] = []

    def start_turn(self, ctx: TurnContext) -> str | None:
        return ctx.turn_id

    def end_turn(self, span_id: str, status: Status, meta: Mapping[str, object]) -> None:
        self.turns.append(status)

    def start_span(self, ctx: SpanContext) -> str | None:
        return ctx.span_id

    def end_span(self, span_id: str, status: Status, meta: Mapping[str, object]) -> None:
        pass

    def shutdown(self) -> None:
        pass


@lumi.events.llm(model="gpt-4o-mini", prompt_id="summary-v1")
def summarise(text: str, *, words: int = 10) -> str:
    return " ".join(text.split()[:words])


@lumi.events.llm
def stream_words(text: str) -> Iterator[str]:
    yield from text.split()


@lumi.events.llm(model="gpt-4o")
async def answer_async(question: str) -> str:
    await asyncio.sleep(0)
    return question.upper()


@lumi.events.tool("lookup", type="db", target="users", version="2")
def lookup(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@lumi.events.tool
async def fetch_page(url: str) -> bytes:
    await asyncio.sleep(0)
    return url.encode()


def call_model(messages: list[dict[str, str]]) -> str:
    return "Paris"


async def call_model_async() -> str:
    await asyncio.sleep(0)
    return "Paris"


async def stream_model() -> AsyncIterator[str]:
    for chunk in ("Pa", "ris"):
        yield chunk


def record_turns(tracker: Tracker, session: Session) -> None:
    turn = session.turn()
    assert_type(turn, Turn)
    answer = turn.wrap_llm(
        lambda: call_model([{"role": "user", "content": "Capital?"}]),
        {"model": "gpt-4o", "prompt_id": "geo-v1"},
    )
    assert_type(answer, str)
    hits = turn.record_tool("search", lambda: [{"id": "d1", "score": 0.9}], {"type": "http"})
    assert_type(hits, list[dict[str, object]])
    turn.add_retrieval({"source": "kb", "query": "Capital?", "results": [{"id": "d1"}]})
    turn.add_retrieval(source="web", results=[{"id": 2, "score": 0.5, "content": "text"}])
    turn.set_messages([{"role": "user", "content": "Capital?"}])
    turn.add_message("assistant", answer)
    turn.annotate({"tokens": 42}, flag=True)
    assert_type(turn.status, Status)
    assert_type(turn.traceparent, str)
    assert_type(turn.llm_latency_ms, float | None)
    turn.finish()

    with session.turn() as turn:
        assert_type(summarise("a b c", words=2), str)
        assert_type(lookup(7), dict[str, int])
        assert_type("".join(stream_words("a b")), str)
        ask = turn.llm(model="gpt-4o")(call_model)
        assert_type(ask([]), str)
        probe = turn.tool("probe", type="function")(len)
        assert_type(probe("abc"), int)
        counted = tracker.llm(prompt_id="p")(summarise)
        assert_type(counted("x y"), str)
        no_model = turn.wrap_llm(lambda: call_model([]), model=None, prompt_id="no-model")
        assert_type(no_model, str)


async def record_async_turn(session: Session) -> list[str]:
    with session.turn() as turn:
        text = await turn.wrap_llm(call_model_async, model="gpt-4o")
        assert_type(text, str)
        tool_result = await turn.record_tool("fetch", lambda: fetch_page("https://x"))
        assert_type(tool_result, bytes)
        chunks = [chunk async for chunk in turn.wrap_llm(stream_model, model="gpt-4o")]
        upper = await answer_async("q")
        assert_type(upper, str)
        return [text, *chunks, upper]


def main(endpoint: str) -> dict[str, int]:
    ui, system = ConsoleUI(), CountingSystem()
    tracker = lumi.events.init(
        endpoint=endpoint,
        write_key="gi_typed",
        capture_transcript=lumi.events.CaptureTranscript.MASKED,
        sampling={"turn": 1.0},
        ui_analytics=ui,
        system_analytics=system,
        persist_identity=False,
        flush_interval_ms=50,
    )
    assert_type(tracker, Tracker)
    session = tracker.session.start()
    record_turns(tracker, session)
    assert asyncio.run(record_async_turn(session)) == ["Paris", "Pa", "ris", "Q"]

    assert_type(tracker.get_distinct_id(), str)
    assert_type(tracker.is_anonymous(), bool)
    tracker.identify("user-1", {"plan": "pro"})
    lumi.events.identify("user-1")
    with tracker.request_context(distinct_id="user-2") as scope:
        tracker.set_request_user("user-2")
        assert_type(scope.identity.distinct_id, str)
    traceparent = lumi.events.current_traceparent()
    assert_type(traceparent, str | None)
    parsed = lumi.events.parse_traceparent(session.traceparent)
    assert_type(parsed, TraceParent)

    chat = ChatInputTracker(ui, session.session_id, tracker=tracker)
    chat.on_input_start()
    chat.on_message_submit("msg-1", "Hello")
    chat.on_input_abandoned("draft")
    tracker.chat_input(session.session_id, input_id="side").on_input_start()
    assert_type(tracker.capture_ui_event("copied", {"length": 3}), bool)
    assert_type(lumi.events.mask_pii("ada@example.com"), str)
    PostHogProvider(project_id="1")  # no client: nothing is sent

    tracker.reset()
    assert_type(tracker.flush(timeout=10), bool)
    stats = tracker.stats()
    assert_type(stats, dict[str, int])
    tracker.shutdown(timeout=10)
    assert "identify user-1" in ui.seen and system.turns
    return stats
