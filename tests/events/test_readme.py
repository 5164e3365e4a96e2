"""The README's "Event tracking" examples run as written against the local emulator (and a
recording server standing in for PostHog), and each one's events are checked at the ingest."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..support.recorder import Recorded, RecordingServer
from .wire import wire_problems

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(section: str) -> list[tuple[str, str]]:
    """``(heading, code)`` of each ```python block of a README section, in order."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- section: {section} -->(.*?)<!-- /section: {section} -->", text, re.S)
    assert match, f"README has no {section} section"
    blocks, heading = [], ""
    for part in re.split(r"(^### [^\n]*$|```python\n.*?```)", match.group(1), flags=re.M | re.S):
        if part.startswith("### "):
            heading = part[4:].strip()
        elif part.startswith("```python\n"):
            blocks.append((heading, part[len("```python\n") : -3]))
    return blocks


def _posthog_events(requests: list[Recorded]) -> list[dict[str, Any]]:
    events = []
    for request in requests:
        body = request.body
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        events.extend(json.loads(body).get("batch", []))
    return events


def test_the_seed_examples_are_in_the_readme() -> None:
    headings = {heading for heading, _ in python_blocks("events")}
    for example in (
        "Quick start",
        "Tools and RAG",
        "Error handling and retries",
        "Identity",
        "Chat input",
        "PostHog",
        "Troubleshooting",
    ):
        assert example in headings


def test_events_section_runs(
    lumi_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lumi.events

    monkeypatch.setenv("LUMINA_ENDPOINT", lumi_emulator.url)
    monkeypatch.setenv("LUMINA_WRITE_KEY", "gi_readme")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the persisted identity goes here

    def accept(_request: Recorded) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"status": 1}'

    with RecordingServer(accept) as posthog_server:
        monkeypatch.setenv("POSTHOG_HOST", posthog_server.url)
        namespace: dict[str, Any] = {}
        try:
            for heading, code in python_blocks("events"):
                try:
                    exec(compile(code, f"README.md ({heading})", "exec"), namespace)  # ours
                except Exception as exc:
                    raise AssertionError(f"README example {heading!r} failed: {exc!r}") from exc
            tracker = namespace["tracker"]
            assert tracker.flush(timeout=10)
            stats = tracker.stats()
        finally:
            lumi.events.shutdown(timeout=5)  # the PostHog client flushes here
        posthog = _posthog_events(posthog_server.requests)

    assert stats["dropped"] == stats["rejected"] == stats["provider_errors"] == 0
    received = lumi_emulator.events()
    ours = [e for e in received if e.get("source") == "lumi-python"]
    for event in ours:
        assert wire_problems(event) == [], event
    turns = {e["prompt_id"]: [] for e in ours if e["type"] == "turn" and "prompt_id" in e}
    for event in ours:
        if event["type"] == "turn" and "prompt_id" in event:
            turns[event["prompt_id"]].append(event)

    # Quick start: masked transcript, the seed's meta dict, the LLM latency at turn level
    (quick,) = turns["geo-v1"]
    assert quick["capture_mode"] == "masked" and "ada@example.com" not in json.dumps(quick)
    assert quick["messages"][0]["content"] == "Capital of France? I'm [EMAIL]"
    assert quick["model"] == "gpt-4o" and quick["annotations"] == {"tokens": 42}
    assert quick["status"] == "ok" and quick["llm_latency_ms"] <= quick["latency_ms"]

    # Tools and RAG
    (rag,) = turns["rag-v1"]
    tool = rag["tool_calls"][0]
    assert (tool["name"], tool["type"], tool["target"], tool["version"]) == (
        "search",
        "http",
        "kb",
        "2",
    )
    assert rag["retrievals"][0]["results"] == [
        {"id": "doc1", "score": 0.92, "content": "Paris is the capital of France."}
    ]

    # Error handling, then retries: the failed turn says so; the retried one is ok
    failed, retried = turns["chat-v1"]
    assert failed["status"] == "error" and failed["error"]["type"] == "ModelUnavailable"
    assert [c["status"] for c in failed["llm_calls"]] == ["error"]
    assert retried["status"] == "ok" and "error" not in retried
    assert [c["status"] for c in retried["llm_calls"]] == ["error", "ok"]
    assert retried["annotations"]["success"] is True
    assert retried["annotations"]["attempt_number"] == 2

    # Decorators and streaming
    streamed = turns["chat-v3"][0]
    assert streamed["llm_calls"][0]["streamed"] and streamed["tool_calls"][0]["name"] == "lookup"

    # Identity: one identify event per identify() call (the README's, then PostHog's)
    identifies = [e for e in ours if e["type"] == "identify"]
    assert [e["distinct_id"] for e in identifies] == ["user-42", "user-42"]
    assert identifies[0]["anonymous_id"].startswith("anon_")
    assert identifies[0]["properties"] == {"plan": "pro"}
    assert (tmp_path / "lumi" / "events-identity.json").exists()

    # Chat input: the seed's tracker, message id recorded, the text never sent
    ui = [e for e in ours if e["type"] == "ui_event"]
    assert [e["name"] for e in ui] == [
        "chat_input_started",
        "chat_message_submitted",
        "chat_input_started",
        "chat_input_abandoned",
        "chat_input_started",
        "chat_message_submitted",
    ]
    assert ui[1]["message_id"] == "msg-1" and ui[1]["character_count"] == len("Hello there")
    assert ui[3]["partial_content_hash"].startswith("sha256:")
    assert "half a thought" not in json.dumps(received)

    # PostHog: the alias, the turn's super properties, the chat events, the replay annotations
    posthog_turn = next(
        e for e in ours if e["type"] == "turn" and e.get("annotations", {}).get("ui_session_id")
    )
    assert posthog_turn["annotations"] == {
        "ui_session_id": "ph-session-1",
        "ui_replay_url": "https://us.posthog.com/project/12345/replay/ph-session-1",
    }
    alias = next(e for e in posthog if e["event"] == "$create_alias")
    assert alias["properties"]["alias"] == "user-42"
    assert alias["properties"]["distinct_id"] == identifies[1]["anonymous_id"]
    chat = {e["event"]: e for e in posthog if e["event"].startswith("chat_")}
    assert set(chat) == {"chat_input_started", "chat_message_submitted"}
    submitted = chat["chat_message_submitted"]
    assert submitted["distinct_id"] == "user-42"
    assert submitted["properties"]["message_id"] == "msg-2"
    assert submitted["properties"]["lumina_session_id"] == posthog_turn["session_id"]
    assert submitted["properties"]["$session_id"] == "ph-session-1"

    # Troubleshooting: the seed's ping, without an event_id, was accepted
    (ping,) = [e for e in received if e.get("source") == "test"]
    assert ping["name"] == "ping" and ping["event_id"]
