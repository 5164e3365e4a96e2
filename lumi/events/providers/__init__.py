"""Provider interfaces (the JS SDK's, in snake_case) and the contexts passed to them.

* :class:`UIAnalyticsProvider`: product analytics / session replay (adapter: PostHog).
* :class:`SystemAnalyticsProvider`: tracing (adapter: OpenTelemetry).

The tracker calls providers in the caller's thread (tracing needs the caller's context) and
never lets a provider's exception reach the caller: it is logged on ``lumi.events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

Status = Literal["ok", "error"]


@attrs.frozen(kw_only=True)
class TurnContext:
    """What a provider learns when a turn starts."""

    session_id: str
    turn_id: str
    turn_seq: int
    start_ts: int
    distinct_id: str
    traceparent: str
    #: the session's own traceparent: the incoming one, or the session's root span
    session_traceparent: str
    parent_span_id: str | None = None


@attrs.frozen(kw_only=True)
class SpanContext:
    """What a provider learns when a tool or LLM call starts (``kind`` "tool" or "llm")."""

    kind: Literal["tool", "llm"]
    name: str
    span_id: str
    session_id: str
    turn_id: str | None
    parent: str | None  # the provider's handle of the enclosing turn, if any
    attributes: Mapping[str, str] = attrs.field(factory=dict)


@runtime_checkable
class UIAnalyticsProvider(Protocol):
    """Product analytics: tags events with the current turn, builds replay URLs."""

    name: str

    def init(self) -> None: ...

    def get_session_id(self) -> str | None: ...

    def get_replay_url(self) -> str | None: ...

    def tag_turn(self, ctx: TurnContext) -> None: ...

    def untag_turn(self) -> None: ...

    def start_replay(self) -> None: ...

    def stop_replay(self) -> None: ...

    def capture_event(self, name: str, properties: Mapping[str, Any] | None = None) -> None: ...

    def shutdown(self) -> None: ...


@runtime_checkable
class SystemAnalyticsProvider(Protocol):
    """Tracing: a span per turn and per tool/LLM call. ``start_*`` return a handle (span id)."""

    name: str

    def start_turn(self, ctx: TurnContext) -> str | None: ...

    def end_turn(self, span_id: str, status: Status, meta: Mapping[str, Any]) -> None: ...

    def start_span(self, ctx: SpanContext) -> str | None: ...

    def end_span(self, span_id: str, status: Status, meta: Mapping[str, Any]) -> None: ...

    def shutdown(self) -> None: ...


__all__ = [
    "SpanContext",
    "Status",
    "SystemAnalyticsProvider",
    "TurnContext",
    "UIAnalyticsProvider",
]
