"""Calls the configured providers on session, turn, call and identity boundaries, shielding the
caller from them: a provider's exception is logged (rate-limited) and counted, never raised."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..stats import RateLimitedWarning
from . import SpanContext, Status, SystemAnalyticsProvider, TurnContext, UIAnalyticsProvider

if TYPE_CHECKING:
    from ..calls import CallRecord

logger = logging.getLogger("lumi.events")
T = TypeVar("T")

#: The annotation keys a turn gets from the UI provider (the lumina-sdk's names).
UI_SESSION_ID = "ui_session_id"
UI_REPLAY_URL = "ui_replay_url"


class ProviderHub:
    """Fan-out to the UI and system analytics providers (each optional)."""

    def __init__(
        self,
        ui: UIAnalyticsProvider | None,
        system: SystemAnalyticsProvider | None,
        on_error: Callable[[], None],
    ) -> None:
        self.ui = ui
        self.system = system
        self._on_error = on_error
        self._warn = RateLimitedWarning()
        # optional members of a UI provider, looked up once
        self._ui_identify: Callable[..., object] | None = getattr(ui, "identify", None)
        self._ui_reset: Callable[[], object] | None = getattr(ui, "reset", None)
        if ui is not None:
            self._guard(ui.name, ui.init)

    def _guard(self, name: str, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except Exception as exc:  # a provider must never break the caller
            self._on_error()
            self._warn(
                "lumi.events: provider %s failed in %s: %r",
                name,
                getattr(fn, "__name__", "?"),
                exc,
            )
            return None

    # -- sessions and identity -------------------------------------------------------------
    def session_started(self) -> None:
        if self.ui is not None:
            self._guard(self.ui.name, self.ui.start_replay)

    def session_ended(self) -> None:
        if self.ui is not None:
            self._guard(self.ui.name, self.ui.stop_replay)

    def identify(
        self, distinct_id: str, anonymous_id: str | None, properties: Mapping[str, Any] | None
    ) -> None:
        if self.ui is not None and self._ui_identify is not None:
            self._guard(self.ui.name, self._ui_identify, distinct_id, anonymous_id, properties)

    def reset(self) -> None:
        if self.ui is not None and self._ui_reset is not None:
            self._guard(self.ui.name, self._ui_reset)

    # -- turns and calls -------------------------------------------------------------------
    def turn_started(self, ctx: TurnContext) -> str | None:
        if self.ui is not None:
            self._guard(self.ui.name, self.ui.tag_turn, ctx)
        if self.system is not None:
            return self._guard(self.system.name, self.system.start_turn, ctx)
        return None

    def span_started(
        self, record: CallRecord, session_id: str, turn_id: str | None, parent: str | None
    ) -> None:
        if self.system is None:
            return
        ctx = SpanContext(
            kind="llm" if record.kind == "llm" else "tool",
            name=record.name,
            span_id=record.span_id,
            session_id=session_id,
            turn_id=turn_id,
            parent=parent,
            attributes=dict(record.meta),
        )
        record.provider_span = self._guard(self.system.name, self.system.start_span, ctx)

    def span_ended(self, record: CallRecord) -> None:
        if self.system is None or record.provider_span is None:
            return
        meta: dict[str, Any] = {"latency_ms": record.latency_ms, **record.meta}
        if record.error_type is not None:
            meta["error_type"] = record.error_type
        if record.first_token_ms is not None:
            meta["first_token_ms"] = record.first_token_ms
        status: Status = "error" if record.status == "error" else "ok"
        self._guard(self.system.name, self.system.end_span, record.provider_span, status, meta)

    def turn_ended(
        self, handle: str | None, status: Status, calls: tuple[CallRecord, ...]
    ) -> dict[str, str]:
        """Untag, end the turn span; returns the UI session id and replay URL to annotate."""
        annotations: dict[str, str] = {}
        if self.ui is not None:
            session_id = self._guard(self.ui.name, self.ui.get_session_id)
            replay_url = self._guard(self.ui.name, self.ui.get_replay_url)
            if session_id:
                annotations[UI_SESSION_ID] = session_id
            if replay_url:
                annotations[UI_REPLAY_URL] = replay_url
            self._guard(self.ui.name, self.ui.untag_turn)
        if self.system is not None and handle is not None:
            llm = [c for c in calls if c.kind == "llm"]
            meta: dict[str, Any] = {"tool_calls": sum(c.kind == "tool" for c in calls)}
            if llm and "model" in llm[-1].meta:
                meta["model"] = llm[-1].meta["model"]
            self._guard(self.system.name, self.system.end_turn, handle, status, meta)
        return annotations

    def ui_event(
        self, provider: UIAnalyticsProvider | None, name: str, properties: Mapping[str, Any]
    ) -> None:
        """``provider`` (the configured one, or a chat input tracker's own) captures the event."""
        if provider is not None:
            self._guard(provider.name, provider.capture_event, name, properties)

    def shutdown(self) -> None:
        for provider in (self.ui, self.system):
            if provider is not None:
                self._guard(provider.name, provider.shutdown)
