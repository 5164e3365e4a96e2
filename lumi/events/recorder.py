"""The recorder: what sessions, turns, decorators and the chat input tracker record through.

It is the narrow interface between them and the tracker's machinery: the provider hub, the
sampler, privacy, the counters and the delivery pipeline. Each recorded thing leaves here as a
:class:`~lumi.events.buffer.Pending` whose wire dict is built on the delivery worker
(:mod:`lumi.events.builders`) and encoded once. Identity and the current session belong to the
tracker; the recorder reads them through the two functions it is given.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import builders
from .buffer import Pending
from .calls import CallRecord
from .config import EventsConfigError, TrackerConfig
from .pipeline import Pipeline, SenderFactory
from .privacy import Privacy
from .providers import Status, UIAnalyticsProvider
from .providers.hub import ProviderHub
from .sampling import Sampler
from .stats import RateLimitedWarning, Stats
from .tracecontext import new_event_id, now_ms

if TYPE_CHECKING:
    from .session import Session, Turn

logger = logging.getLogger("lumi.events")


class Recorder:
    """Records turns, calls, identity and UI events of one tracker (see the module docstring)."""

    def __init__(
        self,
        config: TrackerConfig,
        *,
        sender_factory: SenderFactory,
        distinct_id: Callable[[], str],
        current_session: Callable[[], Session],
    ) -> None:
        self.enabled = config.enabled and config.endpoint is not None
        #: whether tool calls are recorded (``enable_tool_wrapping``)
        self.records_tools = config.enable_tool_wrapping
        self._distinct_id = distinct_id
        self._current_session = current_session
        self.stats = Stats()
        self._mask_warning = RateLimitedWarning()
        self._privacy = Privacy(config.capture_transcript, config.mask_fn, self._mask_failed)
        self._sampler = Sampler(config.sampling)
        self._providers = ProviderHub(
            config.ui_analytics, config.system_analytics, self._provider_failed
        )
        self.pipeline = (
            Pipeline(config, stats=self.stats, sender_factory=sender_factory)
            if self.enabled
            else None
        )

    @property
    def ui_provider(self) -> UIAnalyticsProvider | None:
        """The configured UI analytics provider."""
        return self._providers.ui

    # -- counters --------------------------------------------------------------------------
    def _provider_failed(self) -> None:
        self.stats.add("provider_errors")

    def _mask_failed(self, reason: str) -> None:
        self.stats.add("mask_failures")
        self._mask_warning("lumi.events: %s; the content was redacted", reason)

    def _sampled(self, kind: str, key: str) -> bool:
        if self._sampler.keep(kind, key):
            return True
        self.stats.add("sampled_out")
        return False

    def _submit(self, event_id: str, builder: Callable[[], dict[str, Any]], estimate: int) -> bool:
        pipeline = self.pipeline
        return pipeline is not None and pipeline.submit(
            Pending(event_id, builder=builder, estimate=estimate)
        )

    # -- sessions and identity -------------------------------------------------------------
    def session_started(self, session: Session) -> None:
        self._providers.session_started()

    def session_ended(self, session: Session) -> None:
        self._providers.session_ended()

    def identified(
        self,
        user_id: str,
        anonymous_id: str | None,
        previous_id: str,
        session_id: str | None,
        properties: Mapping[str, Any] | None,
    ) -> None:
        """Tell the UI provider, and send the identify event at once (not sampled)."""
        self._providers.identify(user_id, anonymous_id, properties)
        event_id = new_event_id()
        builder = functools.partial(
            builders.identify_event,
            event_id=event_id,
            timestamp=now_ms(),
            distinct_id=user_id,
            anonymous_id=anonymous_id,
            previous_id=previous_id,
            session_id=session_id,
            properties=dict(properties) if properties else None,
        )
        if self._submit(event_id, builder, 512) and self.pipeline is not None:
            self.pipeline.request_flush()

    def reset(self) -> None:
        self._providers.reset()

    # -- turns and calls -------------------------------------------------------------------
    def turn_started(self, turn: Turn) -> str | None:
        """Tag the UI provider, start the tracing span; returns the span handle."""
        providers = self._providers
        if providers.ui is None and providers.system is None:
            return None
        return providers.turn_started(turn.context())

    def call_started(
        self, record: CallRecord, session: Session, turn_id: str | None, parent: str | None
    ) -> None:
        self._providers.span_started(record, session.session_id, turn_id, parent)

    def call_ended(self, record: CallRecord) -> None:
        self._providers.span_ended(record)

    def turn_ended(
        self, handle: str | None, status: Status, calls: tuple[CallRecord, ...]
    ) -> dict[str, str]:
        """Untag and end the tracing span; returns the UI session id and replay URL to add to
        the turn's annotations."""
        providers = self._providers
        if providers.ui is None and providers.system is None:
            return {}
        return providers.turn_ended(handle, status, calls)

    def emit_turn(self, turn: Turn) -> None:
        """Enqueue a finished turn; its wire dict is built on the worker."""
        if self.pipeline is None or not self._sampled("turn", turn.session.session_id):
            return
        estimate = 600 + 250 * len(turn.calls) + sum(len(text) for _, text in turn.messages)
        builder = functools.partial(
            builders.turn_event, turn, self._privacy, self._sampler.rate("turn")
        )
        self._submit(turn.event_id, builder, estimate)

    def start_span_call(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
        """A call outside any turn: sent as a span event of the current session when over."""
        if not self.enabled:
            return None
        session = self._current_session()
        distinct_id = self._distinct_id()

        def ended(record: CallRecord) -> None:
            self._providers.span_ended(record)
            if self.pipeline is None or not self._sampled("span", session.session_id):
                return
            event_id = new_event_id()
            builder = functools.partial(
                builders.span_event,
                event_id=event_id,
                timestamp=now_ms(),
                distinct_id=distinct_id,
                session_id=session.session_id,
                parent_span_id=session.parent_span_id,
                call=record,
                privacy=self._privacy,
                sample_rate=self._sampler.rate("span"),
            )
            self._submit(event_id, builder, 600)

        record = CallRecord(kind, name, meta, ended)
        self._providers.span_started(record, session.session_id, None, None)
        return record

    # -- UI events -------------------------------------------------------------------------
    def ui_event(
        self,
        name: str,
        fields: Mapping[str, Any],
        properties: Mapping[str, Any] | None,
        *,
        session_id: str | None,
        turn_id: str | None,
        provider: UIAnalyticsProvider | None,
    ) -> bool:
        """A UI event to the ingest and to ``provider`` (the configured :attr:`ui_provider`,
        or a chat input tracker's own); False when not recorded (disabled, sampled out,
        buffer full)."""
        if not isinstance(name, str) or not name:
            raise EventsConfigError("ui event: name must be a non-empty string")
        unknown = sorted(set(fields) - set(builders.UI_FIELDS))
        if unknown:
            raise EventsConfigError(
                f"ui event: unknown field(s) {', '.join(unknown)} "
                f"(known: {', '.join(builders.UI_FIELDS)}; put anything else in properties)"
            )
        if properties is not None and not isinstance(properties, Mapping):
            raise EventsConfigError("ui event: properties must be a mapping")
        distinct_id = self._distinct_id()
        if provider is not None:
            forwarded = {**(properties or {}), **fields, "distinct_id": distinct_id}
            if session_id is not None:
                forwarded["lumina_session_id"] = session_id
            self._providers.ui_event(provider, name, forwarded)
        key = session_id if session_id is not None else distinct_id
        if self.pipeline is None or not self._sampled("ui_event", key):
            return False
        event_id = new_event_id()
        builder = functools.partial(
            builders.ui_event,
            event_id=event_id,
            name=name,
            timestamp=now_ms(),
            distinct_id=distinct_id,
            session_id=session_id,
            turn_id=turn_id,
            fields=dict(fields),
            properties=dict(properties) if properties else None,
            sample_rate=self._sampler.rate("ui_event"),
        )
        return self._submit(event_id, builder, 400)

    # -- delivery and life cycle -----------------------------------------------------------
    def snapshot(self) -> dict[str, int]:
        """The counters and ``pending`` (events buffered or in flight now)."""
        values = self.stats.snapshot()
        values["pending"] = 0 if self.pipeline is None else self.pipeline.pending()
        return values

    def flush(self, timeout: float | None) -> bool:
        return True if self.pipeline is None else self.pipeline.flush(timeout)

    def shutdown(self, timeout: float | None) -> bool:
        ok = True if self.pipeline is None else self.pipeline.shutdown(timeout)
        self._providers.shutdown()
        return ok

    def after_fork_in_child(self) -> None:
        """A forked child starts with empty counters and its own pipeline."""
        self.stats = Stats()
        self._mask_warning = RateLimitedWarning()
        if self.pipeline is not None:
            self.pipeline = self.pipeline.for_child(self.stats)
