"""Provider interfaces (the JS SDK's, in snake_case), the contexts passed to them, and the check
that a configured provider has them.

* :class:`UIAnalyticsProvider`: product analytics / session replay (adapter: PostHog).
* :class:`SystemAnalyticsProvider`: tracing (adapter: OpenTelemetry).

A UI provider may also have ``identify(distinct_id, anonymous_id, properties)`` and ``reset()``
(the PostHog adapter has both): the tracker calls them from ``identify()`` and ``reset()``.

The tracker calls providers in the caller's thread (tracing needs the caller's context) and
never lets a provider's exception reach the caller: it is logged on ``lumi.events`` and counted
in ``stats()["provider_errors"]``. A provider missing a member is refused at ``init``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

import attrs

from ..config import EventsConfigError

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

    def capture_event(self, name: str, properties: Mapping[str, object] | None = None) -> None: ...

    def shutdown(self) -> None: ...


@runtime_checkable
class SystemAnalyticsProvider(Protocol):
    """Tracing: a span per turn and per tool/LLM call. ``start_*`` return a handle (span id)."""

    name: str

    def start_turn(self, ctx: TurnContext) -> str | None: ...

    def end_turn(self, span_id: str, status: Status, meta: Mapping[str, object]) -> None: ...

    def start_span(self, ctx: SpanContext) -> str | None: ...

    def end_span(self, span_id: str, status: Status, meta: Mapping[str, object]) -> None: ...

    def shutdown(self) -> None: ...


#: Members a UI provider may have besides the interface's; called when present.
UI_OPTIONAL_MEMBERS = ("identify", "reset")


def protocol_members(protocol: type) -> tuple[str, ...]:
    """The attributes and methods a provider interface declares (read from the class itself,
    so the interface above is the only list of them)."""
    names = set(getattr(protocol, "__annotations__", {}))
    names.update(
        key for key, value in vars(protocol).items() if callable(value) and not key.startswith("_")
    )
    return tuple(sorted(names))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_provider(value: object, protocol: type, option: str) -> None:
    """Raise :class:`EventsConfigError` naming what ``value`` lacks to be a ``protocol``.

    Refused: a mapping (the JS SDK's object literal), a missing or non-callable method, a
    ``name`` that is not a string; a provider with the JS SDK's camelCase names is told so."""
    interface = protocol.__name__
    if isinstance(value, Mapping):
        raise EventsConfigError(
            f"{option} must be a provider object with the {interface} methods, not a "
            f"{type(value).__name__} (a dict of functions is the JavaScript shape)"
        )
    members = protocol_members(protocol)
    missing = [m for m in members if not hasattr(value, m)]
    optional = UI_OPTIONAL_MEMBERS if protocol is UIAnalyticsProvider else ()
    present = [m for m in (*members, *optional) if m != "name" and hasattr(value, m)]
    not_callable = [m for m in present if not callable(getattr(value, m))]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
        camel = [_camel(m) for m in missing if _camel(m) != m and hasattr(value, _camel(m))]
        if camel:
            problems.append(
                f"it has the JavaScript names {', '.join(camel)}: use snake_case in Python"
            )
    if not_callable:
        problems.append(f"not callable: {', '.join(not_callable)}")
    if "name" not in missing and not isinstance(getattr(value, "name", None), str):
        problems.append("name must be a string")
    if problems:
        raise EventsConfigError(
            f"{option}: {type(value).__name__} is not a {interface} ({'; '.join(problems)})"
        )


__all__ = [
    "UI_OPTIONAL_MEMBERS",
    "SpanContext",
    "Status",
    "SystemAnalyticsProvider",
    "TurnContext",
    "UIAnalyticsProvider",
    "check_provider",
    "protocol_members",
]
