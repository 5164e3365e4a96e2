"""Sessions (a W3C trace) and turns (a span in it), with the JS SDK's methods in snake_case."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .builders import RetrievalRecord, TurnRecord
from .calls import CallRecord, wrap_call
from .config import EventsConfigError
from .context import current_turn
from .providers import TurnContext
from .tracecontext import (
    format_traceparent,
    new_event_id,
    new_span_id,
    new_trace_id,
    now_ms,
    parse_traceparent,
)

if TYPE_CHECKING:
    from .tracker import Tracker

F = TypeVar("F", bound=Callable[..., Any])


class Session:
    """One conversation: a trace id shared by its turns, which are numbered 1, 2, 3..."""

    def __init__(
        self, tracker: Tracker, trace_id: str | None = None, parent_span_id: str | None = None
    ) -> None:
        self._tracker = tracker
        self.session_id = trace_id or new_trace_id()
        self.parent_span_id = parent_span_id
        self._root_span_id = parent_span_id or new_span_id()
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def trace_id(self) -> str:
        """The W3C trace id (the same value as ``session_id``)."""
        return self.session_id

    @property
    def traceparent(self) -> str:
        """A ``traceparent`` for work done in this session outside any turn."""
        return format_traceparent(self.session_id, self._root_span_id)

    def _next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def turn(self) -> Turn:
        """A new turn (new span id, next sequence number); ``with session.turn() as turn:``
        finishes it on exit and makes it the current turn inside the block."""
        return Turn(self._tracker, self, self._next_seq())

    def __repr__(self) -> str:
        return f"Session(session_id={self.session_id!r}, turns={self._seq})"


class SessionManager:
    """``tracker.session``: start (or continue) the current session, or clear it."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._session: Session | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Session | None:
        """The current session (of the request scope, if any), or None."""
        scope = self._tracker._scope()
        return scope.session if scope is not None else self._session

    def start(self, traceparent: str | None = None) -> Session:
        """The current session, or a new one. An incoming ``traceparent`` continues that trace
        (a new session when it names another trace than the current one)."""
        parent = parse_traceparent(traceparent) if traceparent is not None else None
        scope = self._tracker._scope()
        with self._lock:
            current = scope.session if scope is not None else self._session
            if current is not None and (parent is None or parent.trace_id == current.trace_id):
                return current
            session = Session(
                self._tracker,
                parent.trace_id if parent else None,
                parent.span_id if parent else None,
            )
            if scope is not None:
                scope.session = session
            else:
                self._session = session
            return session

    def clear(self) -> None:
        """Forget the current session; the next ``start()`` begins a new trace."""
        scope = self._tracker._scope()
        with self._lock:
            if scope is not None:
                scope.session = None
            else:
                self._session = None

    def _after_fork(self) -> None:
        # a lock held by another thread at fork() time would stay held in the child forever
        self._lock = threading.Lock()
        if self._session is not None:
            self._session._lock = threading.Lock()


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):  # OpenAI-style content parts: keep the text parts
        parts = [
            str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
            for part in content
        ]
        return "\n".join(p for p in parts if p)
    return str(content)


def _read_message(message: Any, index: int) -> tuple[str, str]:
    if isinstance(message, Mapping):
        role, content = message.get("role"), message.get("content")
    else:
        role, content = getattr(message, "role", None), getattr(message, "content", None)
    if not isinstance(role, str) or not role:
        raise EventsConfigError(f"set_messages: message {index} has no string 'role'")
    return role, _message_text(content)


class Turn:
    """One exchange. Records LLM calls, tool calls, retrievals, annotations and the transcript;
    ``finish()`` (or leaving ``with session.turn() as turn:``) enqueues it, once."""

    def __init__(self, tracker: Tracker, session: Session, seq: int) -> None:
        self._tracker = tracker
        self.session = session
        self.seq = seq
        self.turn_id = new_span_id()
        self.start_ts = now_ms()
        self._t0 = time.perf_counter()
        self.distinct_id = tracker.get_distinct_id()
        self._messages: tuple[tuple[str, str], ...] = ()
        self._calls: list[CallRecord] = []
        self._retrievals: list[RetrievalRecord] = []
        self._annotations: dict[str, Any] = {}
        self._error: tuple[str, str] | None = None
        self._finished = False
        self._lock = threading.Lock()
        self._tokens: list[Token[Turn | None]] = []
        self._provider_span = tracker._providers.turn_started(self.context())

    # -- identity --------------------------------------------------------------------------
    @property
    def traceparent(self) -> str:
        """``00-<session trace id>-<turn span id>-01``: pass it to downstream services."""
        return format_traceparent(self.session.session_id, self.turn_id)

    @property
    def finished(self) -> bool:
        return self._finished

    def context(self) -> TurnContext:
        return TurnContext(
            session_id=self.session.session_id,
            turn_id=self.turn_id,
            turn_seq=self.seq,
            start_ts=self.start_ts,
            distinct_id=self.distinct_id,
            traceparent=self.traceparent,
            session_traceparent=self.session.traceparent,
            parent_span_id=self.session.parent_span_id,
        )

    # -- calls -----------------------------------------------------------------------------
    def _start_call(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord:
        record = CallRecord(kind, name, meta)
        record.owner = self
        with self._lock:
            self._calls.append(record)
        record.provider_span = self._tracker._providers.span_started(
            record, self.session.session_id, self.turn_id, self._provider_span
        )
        return record

    def _end_call(self, record: CallRecord) -> None:
        self._tracker._providers.span_ended(record)

    def wrap_llm(
        self,
        fn: F,
        *,
        model: str | None = None,
        prompt_id: str | None = None,
        stream: bool = True,
    ) -> F:
        """``fn`` wrapped: each call records latency, model, prompt id and error (re-raised).
        An iterator result (a stream) is wrapped too: first-chunk and total latency."""
        meta = _meta(model=model, prompt_id=prompt_id)
        name = model or str(getattr(fn, "__name__", "llm"))
        return wrap_call(
            fn, lambda: self._start_call("llm", name, meta), _end_record, streams=stream
        )

    def record_tool(
        self,
        name: str,
        fn: F,
        *,
        type: str | None = None,  # the JS SDK's option name
        target: str | None = None,
        version: str | None = None,
    ) -> F:
        """``fn`` wrapped to record success/failure and latency as a tool call (when the tracker
        has ``enable_tool_wrapping``; otherwise ``fn`` itself is returned)."""
        if not isinstance(name, str) or not name:
            raise EventsConfigError("record_tool: name must be a non-empty string")
        if not self._tracker.config.enable_tool_wrapping:
            return fn
        meta = _meta(type=type, target=target, version=version)
        return wrap_call(fn, lambda: self._start_call("tool", name, meta), _end_record)

    # -- content ---------------------------------------------------------------------------
    def add_retrieval(
        self, source: str, query: str | None = None, results: Iterable[Any] = ()
    ) -> None:
        """A retrieval step; ``results`` items are ``{id, score?, content?}`` mappings."""
        if not isinstance(source, str) or not source:
            raise EventsConfigError("add_retrieval: source must be a non-empty string")
        if query is not None and not isinstance(query, str):
            raise EventsConfigError("add_retrieval: query must be a string")
        items = []
        for index, result in enumerate(results):
            if not isinstance(result, Mapping) or result.get("id") is None:
                raise EventsConfigError(f"add_retrieval: result {index} needs an 'id'")
            score = result.get("score")
            if score is not None and (
                not isinstance(score, (int, float)) or isinstance(score, bool)
            ):
                raise EventsConfigError(f"add_retrieval: result {index} has a non-numeric score")
            content = result.get("content")
            items.append(
                (
                    str(result["id"]),
                    None if score is None else float(score),
                    None if content is None else str(content),
                )
            )
        record = RetrievalRecord(source=source, query=query, ts=now_ms(), results=tuple(items))
        with self._lock:
            self._retrievals.append(record)

    def annotate(self, data: Mapping[str, Any] | None = None, /, **fields: Any) -> None:
        """Free-form facts (replay URLs, token counts, flags), merged; sent as given."""
        if data is not None and not isinstance(data, Mapping):
            raise EventsConfigError(f"annotate: expected a mapping, got {type(data).__name__}")
        merged = {**(data or {}), **fields}
        for key in merged:
            if not isinstance(key, str):
                raise EventsConfigError(f"annotate: keys must be strings, got {key!r}")
        with self._lock:
            self._annotations.update(merged)

    def set_messages(self, messages: Iterable[Any]) -> None:
        """The transcript (``[{role, content}, ...]``); it is sent according to the capture mode."""
        if isinstance(messages, (str, bytes, Mapping)):
            raise EventsConfigError("set_messages: expected a list of {role, content} messages")
        copied = tuple(_read_message(m, i) for i, m in enumerate(messages))
        with self._lock:
            self._messages = copied

    def add_message(self, role: str, content: Any) -> None:
        """Append one message to the transcript."""
        message = _read_message({"role": role, "content": content}, len(self._messages))
        with self._lock:
            self._messages = (*self._messages, message)

    # -- end -------------------------------------------------------------------------------
    def finish(self, error: BaseException | None = None) -> None:
        """Enqueue the turn (idempotent: later calls do nothing). Never blocks on the network."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            if error is not None:
                self._error = (type(error).__name__, str(error))
            calls = tuple(c.snapshot() for c in self._calls)
            retrievals = tuple(self._retrievals)
            annotations = dict(self._annotations)
            messages = self._messages
        latency = (time.perf_counter() - self._t0) * 1000
        tracker = self._tracker
        annotations = tracker._providers.turn_ended(
            self._provider_span, self._error is None, annotations, calls
        )
        tracker._emit_turn(
            TurnRecord(
                event_id=new_event_id(),
                timestamp=now_ms(),
                distinct_id=self.distinct_id,
                session_id=self.session.session_id,
                turn_id=self.turn_id,
                turn_seq=self.seq,
                parent_span_id=self.session.parent_span_id,
                traceparent=self.traceparent,
                start_ts=self.start_ts,
                end_ts=self.start_ts + round(latency),
                latency_ms=latency,
                error=self._error,
                messages=messages,
                calls=calls,
                retrievals=retrievals,
                annotations=annotations,
                sample_rate=tracker._sampler.rate("turn"),
            ),
            estimate=512 + sum(len(c) for _, c in messages) + 200 * len(calls),
        )

    def __enter__(self) -> Turn:
        """Inside the block this is the current turn: the ``llm``/``tool`` decorators record
        into it."""
        self._tokens.append(current_turn.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tokens:
            try:
                current_turn.reset(self._tokens.pop())
            except ValueError:  # left in another context than entered (rare async hand-off)
                current_turn.set(None)
        self.finish(error=exc)

    def __repr__(self) -> str:
        return f"Turn(turn_id={self.turn_id!r}, seq={self.seq}, finished={self._finished})"


def _meta(**values: str | None) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise EventsConfigError(f"{key} must be a string, got {type(value).__name__}")
        out[key] = value
    return out


def _end_record(record: CallRecord) -> None:
    owner = record.owner
    if owner is not None:
        owner._end_call(record)


def active_turn() -> Turn | None:
    """The turn the calling code runs in, if it is not finished."""
    turn = current_turn.get()
    return turn if turn is not None and not turn.finished else None
