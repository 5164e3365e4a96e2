"""The :class:`Tracker`: configuration, identity, sessions, sampling and the delivery pipeline."""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from .buffer import Pending
from .builders import TurnRecord, identify_event, span_event, turn_event, ui_event
from .calls import CallRecord
from .config import EventsConfigError, TrackerConfig, build_config
from .context import RequestScope, new_scope_var
from .identity import IdentityState, open_identity
from .pipeline import Pipeline, SenderFactory, _http_sender
from .privacy import Privacy
from .providers.hub import ProviderHub
from .sampling import Sampler
from .session import SessionManager
from .stats import RateLimitedWarning
from .tracecontext import new_event_id, now_ms, parse_traceparent

logger = logging.getLogger("lumi.events")
F = TypeVar("F", bound=Callable[..., Any])

# Strong references: a tracker dropped by its owner must still flush at exit (its worker may
# hold events); shutdown() removes it.
_TRACKERS: set[Tracker] = set()
_HOOKS_INSTALLED = False
_HOOKS_LOCK = threading.Lock()


class Tracker:
    """Tracks AI conversations: ``tracker.session.start().turn()`` ... ``turn.finish()``.

    Build one with :func:`lumi.events.init` (the module-level default) or directly with the
    same keyword options. Without an endpoint (argument or ``LUMINA_ENDPOINT``) the tracker is
    disabled: the API works and records nothing.
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        *,
        sender_factory: SenderFactory | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise EventsConfigError("pass either a TrackerConfig or keyword options, not both")
        self.config = config if config is not None else build_config(**options)
        cfg = self.config
        self.enabled = cfg.enabled and cfg.endpoint is not None
        if cfg.debug:
            _enable_debug_logging()
        self._mask_warning = RateLimitedWarning()
        self._pipeline = (
            Pipeline(
                cfg,
                sender_factory=sender_factory or _http_sender,
                start_worker=self.enabled,
                recover=self.enabled,
            )
            if self.enabled
            else None
        )
        self._privacy = Privacy(cfg.capture_transcript, cfg.mask_fn, self._mask_failed)
        self._sampler = Sampler(cfg.sampling)
        self._providers = ProviderHub(cfg.ui_analytics, cfg.system_analytics)
        self._identity = open_identity(cfg.identity_path, cfg.persist_identity)
        self._scope_var = new_scope_var()
        self.session = SessionManager(self)
        self._closed = False
        if not self.enabled and cfg.enabled:
            logger.info("lumi.events: no endpoint configured (LUMINA_ENDPOINT); tracking is off")
        _register(self)

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"Tracker(endpoint={self.config.endpoint!r}, {state})"

    # -- identity --------------------------------------------------------------------------
    def _scope(self) -> RequestScope | None:
        return self._scope_var.get()

    def _state(self) -> IdentityState:
        scope = self._scope_var.get()
        return scope.identity if scope is not None else self._identity.state

    def get_distinct_id(self) -> str:
        """The user id after ``identify()``, else the anonymous ``anon_<uuid>``."""
        return self._state().distinct_id

    def is_anonymous(self) -> bool:
        return not self._state().identified

    def identify(
        self,
        user_id: str,
        properties: Mapping[str, Any] | None = None,
        new_session: bool = False,
    ) -> None:
        """Switch to ``user_id`` and send an identify event linking the anonymous id (flushed at
        once, without waiting). The session is cleared when an identified user is replaced by
        another one, or when ``new_session``."""
        if not isinstance(user_id, str) or not user_id.strip():
            raise EventsConfigError("identify: user_id must be a non-empty string")
        if properties is not None and not isinstance(properties, Mapping):
            raise EventsConfigError("identify: properties must be a mapping")
        previous = self._state()
        state = IdentityState(user_id, previous.anonymous_id, identified=True)
        scope = self._scope_var.get()
        if scope is not None:
            scope.identity = state
        else:
            self._identity.set(state)
        if new_session or (previous.identified and previous.distinct_id != user_id):
            self.session.clear()
        current = self.session.current
        event_id = new_event_id()
        builder = functools.partial(
            identify_event,
            event_id=event_id,
            timestamp=now_ms(),
            distinct_id=user_id,
            anonymous_id=previous.anonymous_id,
            previous_id=previous.distinct_id,
            session_id=None if current is None else current.session_id,
            properties=dict(properties) if properties else None,
        )
        if self._submit(event_id, builder, 512) and self._pipeline:
            self._pipeline.request_flush()

    def set_request_user(self, user_id: str) -> None:
        """Name the signed-in user of the current request scope, without an identify event.

        For servers, where the user is known from the request's token on every request: an
        identify event each time would only link throwaway anonymous ids. Needs an open
        :meth:`request_context`."""
        if not isinstance(user_id, str) or not user_id.strip():
            raise EventsConfigError("set_request_user: user_id must be a non-empty string")
        scope = self._scope_var.get()
        if scope is None:
            raise EventsConfigError("set_request_user: call it inside tracker.request_context()")
        scope.identity = IdentityState(user_id, scope.identity.anonymous_id, identified=True)

    def reset(self) -> None:
        """A new anonymous id, and no current session."""
        state = IdentityState.anonymous()
        scope = self._scope_var.get()
        if scope is not None:
            scope.identity = state
        else:
            self._identity.set(state)
        self.session.clear()

    @contextlib.contextmanager
    def request_context(
        self,
        distinct_id: str | None = None,
        *,
        anonymous_id: str | None = None,
        traceparent: str | None = None,
    ) -> Iterator[RequestScope]:
        """Scope identity and session to the current request (thread or asyncio task).

        ``distinct_id``: the signed-in user (or the visitor's ``anon_...`` id from a cookie);
        none: a fresh anonymous id. ``traceparent``: the incoming header; the session continues
        that trace."""
        if distinct_id is not None and (not isinstance(distinct_id, str) or not distinct_id):
            raise EventsConfigError("request_context: distinct_id must be a non-empty string")
        if distinct_id is None:
            identity = IdentityState.anonymous(anonymous_id)
        else:
            anonymous = distinct_id.startswith("anon_")
            identity = IdentityState(
                distinct_id, distinct_id if anonymous else anonymous_id, identified=not anonymous
            )
        if traceparent is not None:
            parse_traceparent(traceparent)  # a malformed header is refused here, by name
        scope = RequestScope(identity, None)
        token = self._scope_var.set(scope)
        try:
            if traceparent is not None:
                self.session.start(traceparent=traceparent)
            yield scope
        finally:
            self._scope_var.reset(token)

    # -- recording -------------------------------------------------------------------------
    def _mask_failed(self, reason: str) -> None:
        if self._pipeline is not None:
            self._pipeline.stats.add("mask_failures")
        self._mask_warning("lumi.events: %s; the content was redacted", reason)

    def _submit(self, event_id: str, builder: Callable[[], dict[str, Any]], estimate: int) -> bool:
        if self._pipeline is None:
            return False
        return self._pipeline.submit(Pending(event_id, builder=builder, estimate=estimate))

    def _sampled(self, kind: str, key: str) -> bool:
        if self._sampler.keep(kind, key):
            return True
        if self._pipeline is not None:
            self._pipeline.stats.add("sampled_out")
        return False

    def _emit_turn(self, record: TurnRecord, estimate: int) -> None:
        if self._pipeline is None or not self._sampled("turn", record.session_id):
            return
        privacy = self._privacy
        self._submit(record.event_id, lambda: turn_event(record, privacy), estimate)

    # calls outside any turn become span events
    def _start_call(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
        if not self.enabled or (kind == "tool" and not self.config.enable_tool_wrapping):
            return None
        session = self.session.start()
        record = CallRecord(kind, name, meta)
        record.owner = self
        record.provider_span = self._providers.span_started(record, session.session_id, None, None)
        return record

    def _end_call(self, record: CallRecord) -> None:
        self._providers.span_ended(record)
        session = self.session.start()
        if self._pipeline is None or not self._sampled("span", session.session_id):
            return
        event_id = new_event_id()
        builder = functools.partial(
            span_event,
            event_id=event_id,
            timestamp=now_ms(),
            distinct_id=self.get_distinct_id(),
            session_id=session.session_id,
            parent_span_id=session.parent_span_id,
            call=record.snapshot(),
            privacy=self._privacy,
            sample_rate=self._sampler.rate("span"),
        )
        self._submit(event_id, builder, 600)

    def capture_ui_event(
        self,
        name: str,
        properties: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """A UI event (``type: ui_event``), also passed to the UI analytics provider.

        ``fields`` are the schema's UI fields (input_id, typing_duration_ms, character_count,
        partial_content_hash). Returns False when not recorded (disabled, sampled out, full)."""
        if not isinstance(name, str) or not name:
            raise EventsConfigError("capture_ui_event: name must be a non-empty string")
        self._providers.ui_event(
            name, {**(properties or {}), **fields, "distinct_id": self.get_distinct_id()}
        )
        session = self.session.current
        key = session.session_id if session is not None else self.get_distinct_id()
        if self._pipeline is None or not self._sampled("ui_event", key):
            return False
        from .session import active_turn

        turn = active_turn()
        event_id = new_event_id()
        builder = functools.partial(
            ui_event,
            event_id=event_id,
            name=name,
            timestamp=now_ms(),
            distinct_id=self.get_distinct_id(),
            session_id=None if session is None else session.session_id,
            turn_id=None if turn is None else turn.turn_id,
            fields=dict(fields),
            properties=dict(properties) if properties else None,
            sample_rate=self._sampler.rate("ui_event"),
        )
        return self._submit(event_id, builder, 400)

    def chat_input(self, input_id: str | None = None) -> Any:
        """A :class:`~lumi.events.chat_input.ChatInputTracker` bound to this tracker."""
        from .chat_input import ChatInputTracker

        return ChatInputTracker(self, input_id)

    def llm(
        self, fn: F | None = None, *, model: str | None = None, prompt_id: str | None = None
    ) -> Any:
        """Decorator: see :func:`lumi.events.llm` (bound to this tracker)."""
        from .decorators import llm

        return llm(fn, model=model, prompt_id=prompt_id, tracker=self)

    def tool(self, name: str | None = None, **options: Any) -> Any:
        """Decorator: see :func:`lumi.events.tool` (bound to this tracker)."""
        from .decorators import tool

        return tool(name, tracker=self, **options)

    # -- delivery --------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Counters (see ``lumi.events.stats.COUNTERS`` for their meaning) and ``pending``
        (events buffered or in flight now)."""
        if self._pipeline is None:
            return {"pending": 0}
        values = self._pipeline.stats.snapshot()
        values["pending"] = self._pipeline.pending()
        return values

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is buffered; True when everything was delivered within ``timeout`` s."""
        return True if self._pipeline is None else self._pipeline.flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush (bounded by ``timeout``), stop the worker, shut the providers down. Events
        recorded afterwards are counted as dropped."""
        if self._closed:
            return True
        self._closed = True
        ok = True if self._pipeline is None else self._pipeline.shutdown(timeout)
        self._providers.shutdown()
        with _HOOKS_LOCK:
            _TRACKERS.discard(self)
        return ok

    # -- process life cycle ----------------------------------------------------------------
    def _exit_flush(self) -> None:
        if self._closed or self._pipeline is None:
            return
        pending = self._pipeline.pending()
        bound = self.config.exit_timeout_s
        if not self.shutdown(timeout=bound):
            where = " (they stay in the spool for the next start)" if self.config.spool_dir else ""
            logger.warning(
                "lumi.events: exit flush gave up after %.1f s (exit_timeout_s); "
                "%d of %d events not delivered%s",
                bound,
                self._pipeline.pending(),
                pending,
                where,
            )

    def _after_fork_in_child(self) -> None:
        if self._pipeline is not None:
            self._pipeline = self._pipeline.for_child()
        self._identity.after_fork()
        self.session._after_fork()
        self._mask_warning = RateLimitedWarning()


def _enable_debug_logging() -> None:
    logger.setLevel(logging.DEBUG)
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(logging.StreamHandler())


def _at_exit() -> None:
    for tracker in list(_TRACKERS):
        try:
            tracker._exit_flush()
        except Exception:  # the exit hook must never raise
            logger.exception("lumi.events: exit flush failed")


def _after_fork_in_child() -> None:
    global _HOOKS_LOCK
    _HOOKS_LOCK = threading.Lock()
    for tracker in list(_TRACKERS):
        tracker._after_fork_in_child()


def _register(tracker: Tracker) -> None:
    global _HOOKS_INSTALLED
    with _HOOKS_LOCK:
        _TRACKERS.add(tracker)
        if not _HOOKS_INSTALLED:
            atexit.register(_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_after_fork_in_child)
            _HOOKS_INSTALLED = True
