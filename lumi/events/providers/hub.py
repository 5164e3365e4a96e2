"""Calls the configured providers on turn and call boundaries, shielding the caller from them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..stats import RateLimitedWarning
from . import SpanContext, SystemAnalyticsProvider, TurnContext, UIAnalyticsProvider

if TYPE_CHECKING:
    from ..calls import CallRecord

logger = logging.getLogger("lumi.events")
T = TypeVar("T")


class ProviderHub:
    """Fan-out to the UI and system analytics providers; a provider error is logged, not raised."""

    def __init__(
        self, ui: UIAnalyticsProvider | None, system: SystemAnalyticsProvider | None
    ) -> None:
        self.ui = ui
        self.system = system
        self._warn = RateLimitedWarning()
        if ui is not None:
            self._guard(ui.name, ui.init)

    def _guard(self, name: str, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except Exception as exc:  # a provider must never break the caller
            self._warn("lumi.events: provider %s failed in %s: %r", name, fn.__name__, exc)
            return None

    def turn_started(self, ctx: TurnContext) -> str | None:
        if self.ui is not None:
            self._guard(self.ui.name, self.ui.tag_turn, ctx)
        if self.system is not None:
            return self._guard(self.system.name, self.system.start_turn, ctx)
        return None

    def span_started(
        self, record: CallRecord, session_id: str, turn_id: str | None, parent: str | None
    ) -> str | None:
        if self.system is None:
            return None
        ctx = SpanContext(
            kind="llm" if record.kind == "llm" else "tool",
            name=record.name,
            span_id=record.span_id,
            session_id=session_id,
            turn_id=turn_id,
            parent=parent,
            attributes=dict(record.meta),
        )
        return self._guard(self.system.name, self.system.start_span, ctx)

    def span_ended(self, record: CallRecord) -> None:
        if self.system is None or record.provider_span is None:
            return
        meta: dict[str, Any] = {"latency_ms": record.latency_ms, **record.meta}
        if record.error_type is not None:
            meta["error_type"] = record.error_type
        if record.first_token_ms is not None:
            meta["first_token_ms"] = record.first_token_ms
        status = "error" if record.status == "error" else "ok"
        self._guard(self.system.name, self.system.end_span, record.provider_span, status, meta)

    def turn_ended(
        self,
        handle: str | None,
        ok: bool,
        annotations: dict[str, Any],
        calls: tuple[CallRecord, ...],
    ) -> dict[str, Any]:
        """Untag, end the turn span; returns the annotations with the UI session/replay added."""
        if self.ui is not None:
            session_id = self._guard(self.ui.name, self.ui.get_session_id)
            replay_url = self._guard(self.ui.name, self.ui.get_replay_url)
            if session_id:
                annotations.setdefault("ui_session_id", session_id)
            if replay_url:
                annotations.setdefault("replay_url", replay_url)
            self._guard(self.ui.name, self.ui.untag_turn)
        if self.system is not None and handle is not None:
            llm = [c for c in calls if c.kind == "llm"]
            meta: dict[str, Any] = {"tool_calls": sum(c.kind == "tool" for c in calls)}
            if llm and "model" in llm[-1].meta:
                meta["model"] = llm[-1].meta["model"]
            self._guard(
                self.system.name, self.system.end_turn, handle, "ok" if ok else "error", meta
            )
        return annotations

    def ui_event(self, name: str, properties: Mapping[str, Any]) -> None:
        if self.ui is not None:
            self._guard(self.ui.name, self.ui.capture_event, name, properties)

    def shutdown(self) -> None:
        for provider in (self.ui, self.system):
            if provider is not None:
                self._guard(provider.name, provider.shutdown)
