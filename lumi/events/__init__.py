"""AI-conversation event tracking (the Python twin of the JS ``lumina-sdk``).

::

    import lumi.events as events

    tracker = events.init(write_key="gi_...", endpoint="https://ingest.example.com")
    session = tracker.session.start()
    with session.turn() as turn:
        turn.set_messages([{"role": "user", "content": question}])
        answer = turn.wrap_llm(lambda: call_model(question), model="gpt-4o", prompt_id="qa-v1")

``finish()`` only enqueues: a background worker batches events as NDJSON and delivers them with
retries; see the README section "Event tracking" for identity, privacy, sampling, delivery
guarantees, the spool, providers and the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from .chat_input import ChatInputTracker, content_hash
from .config import CaptureTranscript, EventsConfigError, TrackerConfig, TrackerOptions
from .context import RequestScope
from .decorators import llm, tool
from .privacy import mask_pii
from .providers import (
    SpanContext,
    Status,
    SystemAnalyticsProvider,
    TurnContext,
    UIAnalyticsProvider,
)
from .session import (
    LLMMeta,
    RetrievalInfo,
    RetrievalResult,
    Session,
    SessionManager,
    ToolOptions,
    Turn,
    active_turn,
)
from .tracecontext import TraceParent, format_traceparent, parse_traceparent
from .tracker import Tracker

if TYPE_CHECKING:
    from typing_extensions import Unpack

_default: Tracker | None = None
_default_lock = threading.Lock()


def init(**options: Unpack[TrackerOptions]) -> Tracker:
    """Create the module-level default tracker and return it. The options
    (:class:`TrackerOptions`) are :class:`Tracker`'s; the write key and endpoint default to
    LUMINA_WRITE_KEY / LUMINA_ENDPOINT. Providers are checked here: one missing a member is
    refused with :class:`EventsConfigError` naming it. A previous default tracker is shut down
    (flushed within its ``exit_timeout_s``)."""
    global _default
    tracker = Tracker(**options)
    with _default_lock:
        previous, _default = _default, tracker
    if previous is not None:  # one default: its worker and providers must not run on
        previous.shutdown(timeout=previous.config.exit_timeout_s)
    return tracker


def get_tracker() -> Tracker:
    """The default tracker; created from the environment on first use if ``init`` was not called."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Tracker()
        return _default


def _default_if_initialised() -> Tracker | None:
    return _default


class _DefaultSession:
    """``lumi.events.session``: the default tracker's session manager."""

    def start(self, traceparent: str | None = None) -> Session:
        return get_tracker().session.start(traceparent=traceparent)

    @property
    def current(self) -> Session | None:
        return get_tracker().session.current

    def clear(self) -> None:
        get_tracker().session.clear()


session = _DefaultSession()


def identify(
    user_id: str, properties: Mapping[str, object] | None = None, new_session: bool = False
) -> None:
    """See :meth:`Tracker.identify` (default tracker)."""
    get_tracker().identify(user_id, properties, new_session)


def reset() -> None:
    """See :meth:`Tracker.reset` (default tracker)."""
    get_tracker().reset()


def get_distinct_id() -> str:
    return get_tracker().get_distinct_id()


def is_anonymous() -> bool:
    return get_tracker().is_anonymous()


def request_context(
    distinct_id: str | None = None,
    *,
    anonymous_id: str | None = None,
    traceparent: str | None = None,
) -> AbstractContextManager[RequestScope]:
    """See :meth:`Tracker.request_context` (default tracker)."""
    return get_tracker().request_context(
        distinct_id, anonymous_id=anonymous_id, traceparent=traceparent
    )


def current_traceparent() -> str | None:
    """The ``traceparent`` to pass downstream: the current turn's, else the current session's."""
    turn = active_turn()
    if turn is not None:
        return turn.traceparent
    current = get_tracker().session.current
    return None if current is None else current.traceparent


def flush(timeout: float | None = None) -> bool:
    return get_tracker().flush(timeout)


def shutdown(timeout: float | None = None) -> bool:
    return get_tracker().shutdown(timeout)


def stats() -> dict[str, int]:
    return get_tracker().stats()


def chat_input(session_id: str | None = None, *, input_id: str | None = None) -> ChatInputTracker:
    """See :meth:`Tracker.chat_input` (default tracker)."""
    return get_tracker().chat_input(session_id, input_id=input_id)


__all__ = [
    "CaptureTranscript",
    "ChatInputTracker",
    "EventsConfigError",
    "LLMMeta",
    "RequestScope",
    "RetrievalInfo",
    "RetrievalResult",
    "Session",
    "SessionManager",
    "SpanContext",
    "Status",
    "SystemAnalyticsProvider",
    "ToolOptions",
    "TraceParent",
    "Tracker",
    "TrackerConfig",
    "TrackerOptions",
    "Turn",
    "TurnContext",
    "UIAnalyticsProvider",
    "active_turn",
    "chat_input",
    "content_hash",
    "current_traceparent",
    "flush",
    "format_traceparent",
    "get_distinct_id",
    "get_tracker",
    "identify",
    "init",
    "is_anonymous",
    "llm",
    "mask_pii",
    "parse_traceparent",
    "request_context",
    "reset",
    "session",
    "shutdown",
    "stats",
    "tool",
]
