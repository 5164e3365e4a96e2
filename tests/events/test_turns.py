"""Sessions, turns, LLM/tool wrapping, streaming, decorators, sampling, and the event schema."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import lumi.events as events
from lumi.events import EventsConfigError, Tracker, parse_traceparent
from lumi.events.sampling import Sampler, sample_point

from .collector import Collector

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schema" / "events.schema.json").read_text()
)


def _sent(tracker: Tracker, collector: Collector) -> list[dict[str, Any]]:
    assert tracker.flush(timeout=10)
    return collector.events()


def test_sessions_reuse_the_trace_until_cleared(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker()
    session = tracker.session.start()
    assert tracker.session.start() is session
    assert re.fullmatch(r"[0-9a-f]{32}", session.session_id)
    first, second = session.turn(), session.turn()
    assert (first.seq, second.seq) == (1, 2) and first.turn_id != second.turn_id
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", first.traceparent)
    assert parse_traceparent(first.traceparent).span_id == first.turn_id
    tracker.session.clear()
    assert tracker.session.start() is not session


def test_incoming_traceparent_is_continued(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    session = tracker.session.start(traceparent=incoming)
    assert session.session_id == "0af7651916cd43dd8448eb211c80319c"
    assert tracker.session.start(traceparent=incoming) is session
    session.turn().finish()
    event = _sent(tracker, collector)[0]
    assert event["parent_span_id"] == "b7ad6b7169203331"
    assert event["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    for bad in ("00-123-456-01", "00-" + "0" * 32 + "-b7ad6b7169203331-01", 7):
        with pytest.raises(EventsConfigError, match="traceparent"):
            tracker.session.start(traceparent=bad)  # type: ignore[arg-type]


def test_turn_records_llm_tool_retrieval_annotations(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    with tracker.session.start().turn() as turn:
        turn.set_messages([{"role": "user", "content": "hi"}])
        answer = turn.wrap_llm(lambda: "answer to q", {"model": "gpt-4o", "prompt_id": "qa-v1"})
        assert answer == "answer to q"
        found = turn.record_tool(
            "search", lambda: ["x"], {"type": "http", "target": "kb"}, version="2"
        )
        assert found == ["x"]
        turn.add_retrieval({"source": "kb", "query": "x", "results": [{"id": 7, "score": 0.5}]})
        turn.annotate({"tokens": 12}, flag=True)
        turn.add_message("assistant", "answer to q")
    event = _sent(tracker, collector)[0]
    assert event["model"] == "gpt-4o" and event["prompt_id"] == "qa-v1"
    assert event["llm_latency_ms"] == event["llm_calls"][0]["latency_ms"] <= event["latency_ms"]
    assert event["status"] == "ok" and event["message_count"] == 2
    assert event["llm_calls"][0]["status"] == "ok" and not event["llm_calls"][0]["streamed"]
    tool = event["tool_calls"][0]
    assert (tool["name"], tool["type"], tool["target"], tool["version"]) == (
        "search",
        "http",
        "kb",
        "2",
    )
    assert event["retrievals"][0]["results"] == [{"id": "7", "score": 0.5}]
    assert event["annotations"] == {"tokens": 12, "flag": True}
    assert event["latency_ms"] >= 0 and event["end_ts"] >= event["start_ts"]


def test_llm_errors_are_recorded_and_reraised(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    def flaky(_: str) -> str:
        raise TimeoutError("model timed out")

    with pytest.raises(KeyError), tracker.session.start().turn() as turn:
        with pytest.raises(TimeoutError):
            turn.wrap_llm(lambda: flaky("q"), model="m")
        raise KeyError("boom")
    event = _sent(tracker, collector)[0]
    assert event["llm_calls"][0]["status"] == "error"
    assert event["llm_calls"][0]["error"] == {"type": "TimeoutError", "message": "model timed out"}
    assert event["status"] == "error" and event["error"]["type"] == "KeyError"


def test_streaming_records_first_token_and_total(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    def stream(_: str) -> Iterator[str]:
        time.sleep(0.02)
        yield "Hel"
        time.sleep(0.05)
        yield "lo"

    with tracker.session.start().turn() as turn:
        chunks = list(turn.wrap_llm(lambda: stream("q"), model="m"))
    assert chunks == ["Hel", "lo"]
    call = _sent(tracker, collector)[0]["llm_calls"][0]
    assert call["streamed"] and call["chunk_count"] == 2 and call["status"] == "ok"
    assert 15 <= call["first_token_ms"] < call["latency_ms"]
    assert call["latency_ms"] - call["first_token_ms"] >= 40


def test_unfinished_stream_is_incomplete(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    with tracker.session.start().turn() as turn:
        stream = turn.wrap_llm(lambda: iter(["a", "b", "c"]), model="m")
        next(stream)
    call = _sent(tracker, collector)[0]["llm_calls"][0]
    assert call["status"] == "incomplete" and call["chunk_count"] == 1


def test_async_functions_and_async_streams(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    async def complete(q: str) -> str:
        await asyncio.sleep(0.001)
        return q.upper()

    async def astream() -> AsyncIterator[str]:
        for chunk in ("a", "b"):
            await asyncio.sleep(0.001)
            yield chunk

    async def main() -> tuple[str, list[str]]:
        with tracker.session.start().turn() as turn:
            text = await turn.wrap_llm(lambda: complete("q"), model="m1")
            chunks = [c async for c in turn.wrap_llm(astream, model="m2")]
        return text, chunks

    assert asyncio.run(main()) == ("Q", ["a", "b"])
    calls = _sent(tracker, collector)[0]["llm_calls"]
    assert [c["model"] for c in calls] == ["m1", "m2"]
    assert calls[1]["streamed"] and calls[1]["chunk_count"] == 2 and calls[1]["status"] == "ok"


def test_decorators_attach_to_the_current_turn(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    @events.llm(model="gpt-4o-mini", prompt_id="p1")
    def ask(q: str) -> str:
        return q

    @events.tool("lookup", type="db")
    def lookup(key: str) -> str:
        return key

    @events.tool
    def plain_tool() -> int:
        return 1

    with tracker.session.start().turn():
        ask("x")
        lookup("k")
        plain_tool()
    event = _sent(tracker, collector)[0]
    assert [c["model"] for c in event["llm_calls"]] == ["gpt-4o-mini"]
    assert [t["name"] for t in event["tool_calls"]] == ["lookup", "plain_tool"]
    assert ask.__name__ == "ask"


def test_calls_outside_a_turn_become_span_events(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    @tracker.tool("fetch", type="http")
    def fetch() -> str:
        return "ok"

    fetch()
    event = _sent(tracker, collector)[0]
    assert event["type"] == "span" and event["name"] == "tool_call"
    assert event["tool_call"]["name"] == "fetch" and event["session_id"]


def test_tool_wrapping_can_be_disabled(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(enable_tool_wrapping=False)

    def fn() -> int:
        return 3

    with tracker.session.start().turn() as turn:
        assert turn.record_tool("t", fn) == 3  # called, not recorded
    assert "tool_calls" not in _sent(tracker, collector)[0]


def test_bad_turn_input_is_refused_by_name(make_tracker: Callable[..., Tracker]) -> None:
    turn = make_tracker().session.start().turn()
    with pytest.raises(EventsConfigError, match="role"):
        turn.set_messages([{"content": "no role"}])
    with pytest.raises(EventsConfigError, match="result 0 needs an 'id'"):
        turn.add_retrieval({"source": "kb", "query": "q", "results": [{"score": 1}]})
    with pytest.raises(EventsConfigError, match="annotate"):
        turn.annotate(["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(EventsConfigError, match="model"):
        turn.wrap_llm(lambda: None, model=3)  # type: ignore[arg-type]


def test_sampling_keeps_or_drops_whole_sessions(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(sampling={"turn": 0.5})
    kept_sessions = set()
    for _ in range(40):
        tracker.session.clear()
        session = tracker.session.start()
        for _ in range(3):
            session.turn().finish()
        if sample_point(session.session_id) < 0.5:
            kept_sessions.add(session.session_id)
    sent = _sent(tracker, collector)
    per_session: dict[str, int] = {}
    for event in sent:
        per_session[event["session_id"]] = per_session.get(event["session_id"], 0) + 1
    assert set(per_session) == kept_sessions and all(n == 3 for n in per_session.values())
    assert 0 < len(kept_sessions) < 40
    stats = tracker.stats()
    assert stats["sampled_out"] == 3 * (40 - len(kept_sessions)) and stats["dropped"] == 0
    assert all(e["sample_rate"] == 0.5 for e in sent)


def test_sampler_is_deterministic_and_nested() -> None:
    sampler = Sampler({"turn": 1.0, "span": 0.5, "ui_event": 0.1})
    keys = [f"{i:032x}" for i in range(2000)]
    spans = [k for k in keys if sampler.keep("span", k)]
    ui = [k for k in keys if sampler.keep("ui_event", k)]
    assert set(ui) <= set(spans)  # the same point per session: nested rates nest
    assert 800 < len(spans) < 1200 and 120 < len(ui) < 280
    assert spans == [k for k in keys if Sampler({"span": 0.5}).keep("span", k)]


def test_every_event_kind_matches_the_schema(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(capture_transcript="masked")
    with tracker.session.start(
        traceparent="00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    ).turn() as turn:
        turn.set_messages([{"role": "user", "content": "x"}])
        turn.wrap_llm(lambda: iter("ab"), model="m", prompt_id="p")
        list(turn.wrap_llm(lambda: iter("ab"), model="m"))
        turn.record_tool("t", lambda: 1)
        turn.add_retrieval(source="kb", query="q", results=[{"id": "1", "content": "c"}])
    tracker.llm(model="m")(lambda: 1)()
    chat = tracker.chat_input(input_id="main")
    chat.on_input_start()
    chat.on_message_submit("m1", "hello")
    chat.on_input_start()
    chat.on_input_abandoned("draft")
    tracker.identify("u1", {"a": 1})
    sent = _sent(tracker, collector)
    assert {e["type"] for e in sent} == {"turn", "span", "ui_event", "identify"}
    for event in sent:
        jsonschema.validate(event, SCHEMA)


def test_chat_input_never_sends_the_text(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    session = tracker.session.start()
    chat = events.ChatInputTracker(None, session.session_id, tracker=tracker, input_id="box")
    chat.on_input_start()
    chat.on_input_start()  # idempotent while typing
    chat.on_message_submit("msg-1", "a private message")
    chat.on_input_start()
    chat.on_input_abandoned("half a secret")
    sent = _sent(tracker, collector)
    assert [e["name"] for e in sent] == [
        "chat_input_started",
        "chat_message_submitted",
        "chat_input_started",
        "chat_input_abandoned",
    ]
    assert sent[1]["character_count"] == 17 and sent[1]["typing_duration_ms"] >= 0
    assert sent[1]["message_id"] == "msg-1" and {e["input_id"] for e in sent} == {"box"}
    assert {e["session_id"] for e in sent} == {session.session_id}
    assert sent[3]["partial_content_hash"] == events.content_hash("half a secret")
    assert sent[3]["partial_content_hash"].startswith("sha256:")
    body = collector.bodies()
    assert b"private message" not in body and b"half a secret" not in body


def test_module_level_default_tracker(tmp_path: Path, collector: Collector) -> None:
    tracker = events.init(
        endpoint=collector.url, identity_path=tmp_path / "id.json", flush_interval_ms=50
    )
    try:
        assert events.get_tracker() is tracker
        session = events.session.start()
        with session.turn() as turn:
            assert events.current_traceparent() == turn.traceparent
        assert events.current_traceparent() == session.traceparent
        events.identify("u9")
        assert events.get_distinct_id() == "u9" and not events.is_anonymous()
        assert events.flush(timeout=10)
        assert events.stats()["sent"] == 2
        events.reset()
        assert events.is_anonymous()
    finally:
        events.shutdown(timeout=5)


def test_the_wire_check_sees_what_does_not_fit() -> None:
    """The check every test's collector runs on every event (tests/events/wire.py) can fail."""
    from .wire import wire_problems

    tracker = Tracker(persist_identity=False)
    turn = tracker.session.start().turn()
    turn.finish()
    from lumi.events.builders import turn_event
    from lumi.events.privacy import Privacy

    good = turn_event(turn, Privacy(events.CaptureTranscript.FULL, None, print), 1.0)
    good["event_id"] = "5f0c4b8e-3a1d-4c2b-9e7f-0a1b2c3d4e5f"
    assert wire_problems(good) == []
    for broken in (
        {**good, "colour": "red"},  # a key the schema does not have
        {**good, "turn_seq": "1"},  # a wrong type
        {k: v for k, v in good.items() if k != "session_id"},  # a required key missing
        {**good, "status": "maybe"},
        {**good, "type": "unknown"},
    ):
        assert wire_problems(broken), broken


def test_an_event_that_is_not_json_is_refused_alone(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    session = tracker.session.start()
    with session.turn() as bad:
        bad.annotate(score=float("nan"))  # not JSON: a strict receiver would refuse the batch
    with session.turn() as good:
        good.annotate(score=0.5, when=object())  # not JSON either: sent as its text
    sent = _sent(tracker, collector)
    assert [e["turn_id"] for e in sent] == [good.turn_id]
    assert sent[0]["annotations"]["when"].startswith("<object object")
    stats = tracker.stats()
    assert stats["rejected"] == 1 and stats["sent"] == 1 and stats["pending"] == 0


def test_init_again_shuts_the_previous_default_down(tmp_path: Path, collector: Collector) -> None:
    first = events.init(endpoint=collector.url, persist_identity=False, flush_interval_ms=60_000)
    first.session.start().turn().finish()
    second = events.init(endpoint=collector.url, persist_identity=False)
    try:
        assert events.get_tracker() is second
        assert len(collector.events()) == 1  # the first one's event was flushed at once
        first.session.start().turn().finish()
        assert first.stats()["dropped"] == 1  # and it records nothing any more
    finally:
        second.shutdown(timeout=5)
