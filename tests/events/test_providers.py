"""Providers: the PostHog adapter (a fake client, and posthog-python itself against a local
recording server) and the OpenTelemetry adapter (in-memory exporter)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lumi.events import SystemAnalyticsProvider, Tracker, UIAnalyticsProvider
from lumi.events.providers.otel import OpenTelemetryProvider
from lumi.events.providers.posthog import SUPER_PROPERTIES, PostHogProvider

from .collector import Collector


class FakePostHog:
    def __init__(self) -> None:
        self.captured: list[tuple[str, Any, dict[str, Any]]] = []
        self.aliases: list[tuple[str, str | None]] = []
        self.people: list[tuple[str | None, dict[str, Any]]] = []
        self.flushed = 0

    def capture(self, event: str, distinct_id: Any = None, properties: Any = None) -> None:
        self.captured.append((event, distinct_id, dict(properties or {})))

    def alias(self, previous_id: str, distinct_id: str | None) -> None:
        self.aliases.append((previous_id, distinct_id))

    def set(self, *, distinct_id: str | None = None, properties: Any = None) -> None:
        self.people.append((distinct_id, dict(properties or {})))

    def flush(self) -> None:
        self.flushed += 1

    def shutdown(self) -> None:
        self.flushed += 1


def test_posthog_super_properties_live_for_the_turn(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    client = FakePostHog()
    provider = PostHogProvider(client, project_id="4242")
    assert isinstance(provider, UIAnalyticsProvider)
    tracker = make_tracker(ui_analytics=provider)
    assert provider.super_properties() == {}
    provider.set_session_id("ph-session-1")
    session = tracker.session.start()
    with session.turn() as turn:
        props = provider.super_properties()
        assert props == {
            "lumina_session_id": session.session_id,
            "lumina_turn_id": turn.turn_id,
            "lumina_turn_seq": 1,
            "lumina_turn_start_ts": turn.start_ts,
        }
        # the app's own PostHog events get them through before_send
        app_event = provider.before_send({"event": "clicked", "properties": {"x": 1}})
        assert (
            set(SUPER_PROPERTIES) <= set(app_event["properties"])
            and app_event["properties"]["x"] == 1
        )
        tracker.capture_ui_event("copied_answer", {"length": 3})
    assert provider.super_properties() == {}  # removed at finish
    assert provider.before_send({"event": "later"}) == {"event": "later"}
    name, distinct_id, properties = client.captured[0]
    assert (name, distinct_id) == ("copied_answer", tracker.get_distinct_id())
    assert properties["lumina_turn_id"] == turn.turn_id and properties["length"] == 3
    assert properties["$session_id"] == "ph-session-1"
    assert tracker.flush(timeout=10)
    turn_event = next(e for e in collector.events() if e["type"] == "turn")
    assert turn_event["annotations"] == {
        "ui_session_id": "ph-session-1",
        "ui_replay_url": "https://us.posthog.com/project/4242/replay/ph-session-1",
    }
    tracker.shutdown(timeout=5)
    assert client.flushed == 1


def test_posthog_chat_input_events_reach_posthog(make_tracker: Callable[..., Tracker]) -> None:
    client = FakePostHog()
    tracker = make_tracker(ui_analytics=PostHogProvider(client))
    session = tracker.session.start()
    chat = tracker.chat_input(session.session_id, input_id="box")
    chat.on_input_start()
    chat.on_message_submit("m-1", "hello")
    assert [c[0] for c in client.captured] == ["chat_input_started", "chat_message_submitted"]
    properties = client.captured[1][2]
    assert properties["character_count"] == 5 and "hello" not in str(client.captured)
    assert (
        properties["message_id"] == "m-1" and properties["lumina_session_id"] == session.session_id
    )


def test_a_failing_provider_never_breaks_the_caller(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    class Broken(FakePostHog):
        def capture(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("posthog down")

    provider = PostHogProvider(Broken())
    provider.tag_turn = lambda ctx: 1 / 0  # type: ignore[method-assign, assignment, misc, return-value]
    tracker = make_tracker(ui_analytics=provider)
    with tracker.session.start().turn():
        tracker.capture_ui_event("x")
    assert tracker.flush(timeout=10)
    assert {e["type"] for e in collector.events()} == {"turn", "ui_event"}
    assert tracker.stats()["provider_errors"] == 2  # tag_turn and capture_event, counted


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_otel_turn_and_calls_follow_gen_ai_conventions(
    make_tracker: Callable[..., Tracker], spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    tracer_provider, exporter = spans
    otel = OpenTelemetryProvider(tracer_provider=tracer_provider)
    assert isinstance(otel, SystemAnalyticsProvider)
    tracker = make_tracker(system_analytics=otel)
    session = tracker.session.start()
    with session.turn() as turn:
        turn.record_tool("web_search", lambda: 1, type="function")
        turn.wrap_llm(lambda: "a", model="gpt-4o")
        with pytest.raises(ValueError):
            turn.record_tool("broken", lambda: int("x"))
    finished = {s.name: s for s in exporter.get_finished_spans()}
    assert set(finished) == {"chat gpt-4o", "execute_tool web_search", "execute_tool broken"}
    turn_span = next(
        s
        for s in exporter.get_finished_spans()
        if s.attributes["lumina.turn_id"] == turn.turn_id
        and s.attributes.get("gen_ai.conversation.id")
    )  # type: ignore[index]
    assert turn_span.attributes["gen_ai.operation.name"] == "chat"  # type: ignore[index]
    assert turn_span.attributes["gen_ai.request.model"] == "gpt-4o"  # type: ignore[index]
    assert turn_span.attributes["lumina.turn_seq"] == 1  # type: ignore[index]
    tool = finished["execute_tool web_search"]
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"  # type: ignore[index]
    assert tool.attributes["gen_ai.tool.name"] == "web_search"  # type: ignore[index]
    assert tool.attributes["gen_ai.tool.type"] == "function"  # type: ignore[index]
    assert tool.parent is not None and tool.parent.span_id == turn_span.context.span_id  # type: ignore[union-attr]
    broken = finished["execute_tool broken"]
    assert broken.status.status_code == trace.StatusCode.ERROR
    assert broken.attributes["error.type"] == "ValueError"  # type: ignore[index]
    # no span was current: the turn joins the session's own trace
    assert format(turn_span.context.trace_id, "032x") == session.session_id  # type: ignore[union-attr]


def test_otel_turn_is_parented_to_the_current_span(
    make_tracker: Callable[..., Tracker], spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    tracer_provider, exporter = spans
    tracker = make_tracker(system_analytics=OpenTelemetryProvider(tracer_provider=tracer_provider))
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("POST /chat") as request_span, tracker.session.start().turn():
        pass
    by_name = {s.name: s for s in exporter.get_finished_spans()}
    assert by_name["chat"].parent is not None
    assert by_name["chat"].parent.span_id == request_span.get_span_context().span_id
    assert by_name["chat"].context.trace_id == request_span.get_span_context().trace_id  # type: ignore[union-attr]


def test_a_real_posthog_client_sends_the_turn_properties(
    make_tracker: Callable[..., Tracker],
) -> None:
    """posthog-python itself (sync mode) against a local recording server: the bytes it sends
    carry the turn's lumina_* properties, for the provider's events and the app's own."""
    import gzip
    import json

    import posthog

    from ..support.recorder import RecordingServer

    def accept(_request: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"status": 1}'

    with RecordingServer(accept) as server:
        provider = PostHogProvider(project_id="4242")
        client = posthog.Posthog(
            "phc_test", host=server.url, sync_mode=True, before_send=provider.before_send
        )
        provider.client = client
        tracker = make_tracker(ui_analytics=provider)
        with tracker.session.start().turn() as turn:
            tracker.capture_ui_event("copied_answer", {"length": 3})
            client.capture("app_clicked", distinct_id="u1", properties={"x": 1})
        client.capture("after_the_turn", distinct_id="u1")
        sent: dict[str, dict[str, Any]] = {}
        for request in server.requests:
            body = request.body
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            for event in json.loads(body).get("batch", []):
                sent[event["event"]] = event["properties"]
    assert set(sent) == {"copied_answer", "app_clicked", "after_the_turn"}
    for name in ("copied_answer", "app_clicked"):
        assert sent[name]["lumina_turn_id"] == turn.turn_id
        assert sent[name]["lumina_turn_seq"] == 1
    assert sent["copied_answer"]["length"] == 3 and sent["app_clicked"]["x"] == 1
    assert not any(key.startswith("lumina_") for key in sent["after_the_turn"])


# -- providers are checked at init -------------------------------------------------------------


class MinimalUI:
    """A UI provider with exactly the seed's members (no identify/reset)."""

    name = "minimal"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def init(self) -> None:
        self.calls.append(("init", None))

    def get_session_id(self) -> str | None:
        return None

    def get_replay_url(self) -> str | None:
        return None

    def tag_turn(self, ctx: Any) -> None:
        self.calls.append(("tag_turn", ctx.turn_id))

    def untag_turn(self) -> None:
        self.calls.append(("untag_turn", None))

    def start_replay(self) -> None:
        self.calls.append(("start_replay", None))

    def stop_replay(self) -> None:
        self.calls.append(("stop_replay", None))

    def capture_event(self, name: str, properties: Any = None) -> None:
        self.calls.append(("capture_event", name))

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))


class IdentityUI(MinimalUI):
    def identify(self, distinct_id: str, anonymous_id: str | None, properties: Any) -> None:
        self.calls.append(("identify", (distinct_id, anonymous_id, properties)))

    def reset(self) -> None:
        self.calls.append(("reset", None))


class CamelCaseUI:
    """The JavaScript SDK's provider, transliterated without renaming."""

    name = "camel"

    def init(self) -> None: ...
    def getSessionId(self) -> None: ...
    def getReplayUrl(self) -> None: ...
    def tagTurn(self, ctx: Any) -> None: ...
    def untagTurn(self) -> None: ...
    def startReplay(self) -> None: ...
    def stopReplay(self) -> None: ...
    def captureEvent(self, name: str, properties: Any = None) -> None: ...
    def shutdown(self) -> None: ...


def _ui_with(**overrides: Any) -> Any:
    """A MinimalUI whose instance attributes ``overrides`` shadow the class's members."""
    provider = MinimalUI()
    provider.__dict__.update(overrides)
    return provider


@pytest.mark.parametrize(
    ("option", "provider", "message"),
    [
        ("ui_analytics", {"name": "posthog", "init": lambda: None}, "not a dict|JavaScript shape"),
        (
            "ui_analytics",
            CamelCaseUI(),
            r"missing capture_event, get_replay_url, .*JavaScript names captureEvent, getReplayUrl",
        ),
        ("ui_analytics", object(), r"missing capture_event, get_replay_url, .*, untag_turn"),
        ("ui_analytics", _ui_with(tag_turn="not callable"), r"not callable: tag_turn"),
        ("ui_analytics", _ui_with(name=42), r"name must be a string"),
        ("ui_analytics", _ui_with(identify="x"), r"not callable: identify"),
        ("system_analytics", MinimalUI(), r"missing end_span, end_turn, start_span, start_turn"),
        ("system_analytics", {"start_turn": print}, "JavaScript shape"),
    ],
)
def test_providers_are_checked_at_init(option: str, provider: Any, message: str) -> None:
    import lumi.events

    with pytest.raises(lumi.events.EventsConfigError, match=message) as caught:
        lumi.events.init(persist_identity=False, **{option: provider})
    assert option in str(caught.value)
    with pytest.raises(lumi.events.EventsConfigError, match=message):
        Tracker(persist_identity=False, **{option: provider})


def test_a_provider_with_the_seeds_members_is_accepted(
    make_tracker: Callable[..., Tracker],
) -> None:
    ui = MinimalUI()
    tracker = make_tracker(ui_analytics=ui)
    tracker.identify("user-1")  # no identify member: nothing to call, nothing fails
    tracker.reset()
    assert ("init", None) in ui.calls and tracker.stats()["provider_errors"] == 0


class ExplodingUI(IdentityUI):
    name = "exploding"

    def __getattribute__(self, item: str) -> Any:
        value = object.__getattribute__(self, item)
        if callable(value) and not item.startswith("_"):

            def explode(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError(f"{item} exploded")

            explode.__name__ = item
            return explode
        return value


class ExplodingSystem:
    name = "exploding-system"

    def start_turn(self, ctx: Any) -> str | None:
        raise RuntimeError("start_turn")

    def end_turn(self, span_id: str, status: str, meta: Any) -> None:
        raise RuntimeError("end_turn")

    def start_span(self, ctx: Any) -> str | None:
        raise RuntimeError("start_span")

    def end_span(self, span_id: str, status: str, meta: Any) -> None:
        raise RuntimeError("end_span")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown")


def test_providers_that_raise_are_logged_and_counted_never_raised(
    make_tracker: Callable[..., Tracker], collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = make_tracker(ui_analytics=ExplodingUI(), system_analytics=ExplodingSystem())
    tracker.identify("user-9", {"plan": "pro"})
    session = tracker.session.start()
    with session.turn() as turn:
        turn.wrap_llm(lambda: "ok", model="m")
        tracker.capture_ui_event("clicked")
    chat = tracker.chat_input(session.session_id)
    chat.on_input_start()
    tracker.reset()
    assert tracker.flush(timeout=10)
    assert {e["type"] for e in collector.events()} == {"identify", "turn", "ui_event"}
    # init, identify, start_replay, tag_turn, start_turn, start_span, capture_event,
    # get_session_id, get_replay_url, untag_turn, capture_event, stop_replay, reset
    # (end_turn, end_span: no span handle to end)
    assert tracker.stats()["provider_errors"] == 13
    assert "provider exploding failed in init" in caplog.text
    assert tracker.shutdown(timeout=5)
    assert tracker.stats()["provider_errors"] == 15  # shutdown of both


# -- identity, replay and reset reach the UI provider ------------------------------------------


def test_identity_and_replay_reach_the_ui_provider(make_tracker: Callable[..., Tracker]) -> None:
    ui = IdentityUI()
    tracker = make_tracker(ui_analytics=ui)
    anonymous = tracker.get_distinct_id()
    session = tracker.session.start()
    tracker.session.start()  # the same session: no second replay start
    tracker.identify("user-1", {"plan": "pro"})  # signing in keeps the session
    tracker.identify("user-2")  # another user: the session ends
    tracker.session.start()
    tracker.reset()
    with tracker.request_context(traceparent="00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"):
        pass
    tracker.shutdown(timeout=5)
    names = [name for name, _ in ui.calls]
    assert names == [
        "init",
        "start_replay",  # session 1
        "identify",
        "stop_replay",  # user-2 replaced user-1: session 1 ends
        "identify",
        "start_replay",  # session 2
        "stop_replay",  # reset()
        "reset",
        "start_replay",  # the request's session
        "stop_replay",  # ...ends with the request
        "shutdown",
    ]
    identifies = [args for name, args in ui.calls if name == "identify"]
    assert identifies == [("user-1", anonymous, {"plan": "pro"}), ("user-2", anonymous, None)]
    assert session.session_id != tracker.session.current


def test_posthog_identify_aliases_the_anonymous_id_and_reset_forgets(
    make_tracker: Callable[..., Tracker],
) -> None:
    client = FakePostHog()
    provider = PostHogProvider(client, project_id="1")
    tracker = make_tracker(ui_analytics=provider)
    anonymous = tracker.get_distinct_id()
    tracker.identify("user-1", {"plan": "pro"})
    assert client.aliases == [(anonymous, "user-1")]
    assert client.people == [("user-1", {"plan": "pro"})]
    tracker.identify("user-1")  # already that user: the alias is the same link again
    provider.set_session_id("ph-1")
    assert provider.get_replay_url() == "https://us.posthog.com/project/1/replay/ph-1"
    tracker.reset()
    assert provider.get_session_id() is None and provider.get_replay_url() is None


def test_posthog_python_sends_the_alias_and_the_person_properties(
    make_tracker: Callable[..., Tracker],
) -> None:
    """posthog-python itself (sync mode) against a local recording server."""
    import gzip
    import json

    import posthog

    from ..support.recorder import RecordingServer

    def accept(_request: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, b'{"status": 1}'

    with RecordingServer(accept) as server:
        provider = PostHogProvider(project_id="4242")
        provider.client = posthog.Posthog(
            "phc_test", host=server.url, sync_mode=True, before_send=provider.before_send
        )
        tracker = make_tracker(ui_analytics=provider)
        anonymous = tracker.get_distinct_id()
        tracker.identify("user-77", {"plan": "team"})
        sent = []
        for request in server.requests:
            body = request.body
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            sent.extend(json.loads(body).get("batch", []))
    by_event = {e["event"]: e for e in sent}
    alias = by_event["$create_alias"]["properties"]
    assert (alias["distinct_id"], alias["alias"]) == (anonymous, "user-77")
    person = by_event["$set"]
    assert person["distinct_id"] == "user-77" and person["$set"] == {"plan": "team"}
