"""The lumina-sdk's ChatInputTracker: its constructor and on_* methods, checked at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lumi.events import ChatInputTracker, EventsConfigError, Tracker, content_hash
from lumi.events.providers.posthog import PostHogProvider

from .collector import Collector
from .test_providers import CamelCaseUI, FakePostHog, MinimalUI


def test_the_seeds_constructor_and_methods(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    client = FakePostHog()
    provider = PostHogProvider(client)
    tracker = make_tracker()  # the provider is the chat tracker's own, not the tracker's
    session = tracker.session.start()
    chat = ChatInputTracker(provider, session.session_id, tracker=tracker)
    assert not chat.active
    chat.on_input_start()
    assert chat.active
    chat.on_message_submit("m-1", "héllo wörld")
    chat.on_input_start()
    chat.on_input_abandoned("a private draft")
    assert tracker.flush(timeout=10)
    sent = collector.events()
    assert [e["name"] for e in sent] == [
        "chat_input_started",
        "chat_message_submitted",
        "chat_input_started",
        "chat_input_abandoned",
    ]
    assert sent[1]["message_id"] == "m-1" and sent[1]["character_count"] == 11
    assert sent[3]["partial_content_hash"] == content_hash("a private draft")
    assert {e["session_id"] for e in sent} == {session.session_id}
    assert [c[0] for c in client.captured] == [e["name"] for e in sent]
    assert b"private draft" not in collector.bodies() and "private draft" not in str(
        client.captured
    )


def test_without_a_session_id_the_current_session_is_used(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    chat = ChatInputTracker(None, tracker=tracker)
    chat.on_input_start()  # no session yet: the event has none
    session = tracker.session.start()
    with session.turn() as turn:
        chat.on_message_submit("m-2", "hi")
    assert tracker.flush(timeout=10)
    first, second = [e for e in collector.events() if e["type"] == "ui_event"]
    assert "session_id" not in first
    assert second["session_id"] == session.session_id and second["turn_id"] == turn.turn_id


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (({"capture_event": print}, None), {}, "ui_provider.*JavaScript shape"),
        ((CamelCaseUI(), None), {}, "ui_provider.*snake_case"),
        ((None, "not-a-session"), {}, "session_id must be a Lumina session id"),
        ((None, "A" * 32), {}, "session_id must be a Lumina session id"),
        ((None, 12345), {}, "session_id must be a Lumina session id"),
        ((None, None), {"tracker": "default"}, "tracker must be a lumi.events.Tracker"),
        ((None, None), {"input_id": ""}, "input_id must be a non-empty string"),
    ],
)
def test_bad_arguments_fail_at_construction(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventsConfigError, match=message):
        ChatInputTracker(*args, **kwargs)


def test_bad_method_arguments_are_refused_by_name(make_tracker: Callable[..., Tracker]) -> None:
    chat = ChatInputTracker(MinimalUI(), tracker=make_tracker())
    with pytest.raises(EventsConfigError, match="message_id must be a non-empty string"):
        chat.on_message_submit("", "text")
    with pytest.raises(EventsConfigError, match="value must be the message text"):
        chat.on_message_submit("m", None)  # type: ignore[arg-type]
    with pytest.raises(EventsConfigError, match="value must be the unsent text"):
        chat.on_input_abandoned(b"bytes")  # type: ignore[arg-type]


def test_ui_event_fields_are_checked(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker()
    with pytest.raises(EventsConfigError, match=r"unknown field\(s\) colour"):
        tracker.capture_ui_event("clicked", colour="red")
    with pytest.raises(EventsConfigError, match="name must be a non-empty string"):
        tracker.capture_ui_event("")
    with pytest.raises(EventsConfigError, match="properties must be a mapping"):
        tracker.capture_ui_event("x", ["not", "a", "mapping"])  # type: ignore[arg-type]
