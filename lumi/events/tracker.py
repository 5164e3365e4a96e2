"""The :class:`Tracker`: the public facade over identity, sessions and the recorder."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from . import lifecycle
from .calls import CallRecord, LLMDecorator, ToolDecorator
from .chat_input import ChatInputTracker
from .config import EventsConfigError, TrackerConfig, build_config
from .context import RequestScope, new_scope_var
from .identity import IdentityState, open_identity
from .pipeline import SenderFactory, http_sender
from .recorder import Recorder
from .session import SessionManager, active_turn, start_call
from .tracecontext import parse_traceparent

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .config import TrackerOptions

logger = logging.getLogger("lumi.events")


class Tracker:
    """Tracks AI conversations: ``tracker.session.start().turn()`` ... ``turn.finish()``.

    Build one with :func:`lumi.events.init` (the module-level default) or directly with the
    same keyword options (:class:`~lumi.events.config.TrackerOptions`). Without an endpoint
    (argument or ``LUMINA_ENDPOINT``) the tracker is disabled: the API works and records
    nothing.
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        /,
        *,
        sender_factory: SenderFactory | None = None,
        **options: Unpack[TrackerOptions],
    ) -> None:
        if config is not None and options:
            raise EventsConfigError("pass either a TrackerConfig or keyword options, not both")
        self.config = config if config is not None else build_config(**options)
        cfg = self.config
        if cfg.debug:
            _enable_debug_logging()
        self._identity = open_identity(cfg.identity_path, cfg.persist_identity)
        self._scope_var = new_scope_var()
        self._recorder = Recorder(
            cfg,
            sender_factory=sender_factory or http_sender,
            distinct_id=self.get_distinct_id,
            current_session=lambda: self.session.start(),
        )
        self.session = SessionManager(self._recorder, self._scope_var, self.get_distinct_id)
        self._closed = False
        if not self.enabled and cfg.enabled:
            logger.info("lumi.events: no endpoint configured (LUMINA_ENDPOINT); tracking is off")
        lifecycle.remember(self, self._exit_flush, self._after_fork_in_child)

    @property
    def enabled(self) -> bool:
        """Whether events are recorded and sent (an endpoint is configured)."""
        return self._recorder.enabled

    @property
    def recorder(self) -> Recorder:
        """What sessions, turns and decorators record through (an internal interface)."""
        return self._recorder

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"Tracker(endpoint={self.config.endpoint!r}, {state})"

    # -- identity --------------------------------------------------------------------------
    def _state(self) -> IdentityState:
        scope = self._scope_var.get()
        return scope.identity if scope is not None else self._identity.state

    def _set_state(self, state: IdentityState) -> None:
        scope = self._scope_var.get()
        if scope is not None:
            scope.identity = state
        else:
            self._identity.set(state)

    def get_distinct_id(self) -> str:
        """The user id after ``identify()``, else the anonymous ``anon_<uuid>``."""
        return self._state().distinct_id

    def is_anonymous(self) -> bool:
        return not self._state().identified

    def identify(
        self,
        user_id: str,
        properties: Mapping[str, object] | None = None,
        new_session: bool = False,
    ) -> None:
        """Switch to ``user_id``: send an identify event linking the anonymous id (flushed at
        once, without waiting) and pass it to the UI provider (PostHog: an alias from the
        anonymous id). The session is cleared when an identified user is replaced by another
        one, or when ``new_session``."""
        if not isinstance(user_id, str) or not user_id.strip():
            raise EventsConfigError("identify: user_id must be a non-empty string")
        if properties is not None and not isinstance(properties, Mapping):
            raise EventsConfigError("identify: properties must be a mapping")
        previous = self._state()
        self._set_state(IdentityState(user_id, previous.anonymous_id, identified=True))
        if new_session or (previous.identified and previous.distinct_id != user_id):
            self.session.clear()
        current = self.session.current
        self._recorder.identified(
            user_id,
            previous.anonymous_id,
            previous.distinct_id,
            None if current is None else current.session_id,
            properties,
        )

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
        """A new anonymous id, no current session, and the UI provider's ``reset()``."""
        self._set_state(IdentityState.anonymous())
        self.session.clear()
        self._recorder.reset()

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
            if scope.session is not None:  # the request's session ends with it
                self._recorder.session_ended(scope.session)

    # -- recording outside turns -----------------------------------------------------------
    def capture_ui_event(
        self,
        name: str,
        properties: Mapping[str, object] | None = None,
        **fields: str | float | None,
    ) -> bool:
        """A UI event (``type: ui_event``), also passed to the UI analytics provider.

        ``fields`` are the schema's UI fields (input_id, message_id, typing_duration_ms,
        character_count, partial_content_hash). Returns False when not recorded (disabled,
        sampled out, buffer full)."""
        session = self.session.current
        turn = active_turn()
        return self._recorder.ui_event(
            name,
            fields,
            properties,
            session_id=None if session is None else session.session_id,
            turn_id=None if turn is None else turn.turn_id,
            provider=self._recorder.ui_provider,
        )

    def chat_input(
        self, session_id: str | None = None, *, input_id: str | None = None
    ) -> ChatInputTracker:
        """A :class:`~lumi.events.ChatInputTracker` on this tracker and its UI provider."""
        return ChatInputTracker(
            self._recorder.ui_provider, session_id, tracker=self, input_id=input_id
        )

    @property
    def llm(self) -> LLMDecorator:
        """Decorator: see :data:`lumi.events.llm`; records into this tracker's turns only
        (outside them: span events of this tracker's session)."""
        return LLMDecorator(self._start_decorated)

    @property
    def tool(self) -> ToolDecorator:
        """Decorator: see :data:`lumi.events.tool` (this tracker's turns only)."""
        return ToolDecorator(self._start_decorated)

    def _start_decorated(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
        return start_call(kind, name, meta, only=self._recorder, fallback=self._recorder)

    # -- delivery --------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Counters (see ``lumi.events.stats.COUNTERS`` for their meaning) and ``pending``
        (events buffered or in flight now)."""
        return self._recorder.snapshot()

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is buffered; True when everything was delivered within ``timeout`` s."""
        return self._recorder.flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush (bounded by ``timeout``), stop the worker, end the session's replay and shut
        the providers down. Events recorded afterwards are counted as dropped."""
        if self._closed:
            return True
        self._closed = True
        self.session.clear()
        ok = self._recorder.shutdown(timeout)
        lifecycle.forget(self)
        return ok

    # -- process life cycle ----------------------------------------------------------------
    def _exit_flush(self) -> None:
        if self._closed or not self.enabled:
            return
        pending = self.stats()["pending"]
        bound = self.config.exit_timeout_s
        if not self.shutdown(timeout=bound):
            where = " (they stay in the spool for the next start)" if self.config.spool_dir else ""
            logger.warning(
                "lumi.events: exit flush gave up after %.1f s (exit_timeout_s); "
                "%d of %d events not delivered%s",
                bound,
                self.stats()["pending"],
                pending,
                where,
            )

    def _after_fork_in_child(self) -> None:
        self._recorder.after_fork_in_child()
        self._identity.after_fork()
        self.session.after_fork()


def _enable_debug_logging() -> None:
    logger.setLevel(logging.DEBUG)
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(logging.StreamHandler())
