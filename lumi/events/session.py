"""Sessions (a W3C trace) and turns (a span in it), with the lumina-sdk's methods in snake_case.

Sessions and turns record through the tracker's :class:`~lumi.events.recorder.Recorder` (a
narrow interface: provider hooks and the delivery pipeline), never through the tracker itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypedDict, TypeVar, overload

from .calls import CallRecord, LLMDecorator, ToolDecorator, call_now, call_options
from .config import EventsConfigError
from .context import RequestScope, current_turn
from .providers import Status, TurnContext
from .tracecontext import (
    format_traceparent,
    new_event_id,
    new_span_id,
    new_trace_id,
    now_ms,
    parse_traceparent,
)

if TYPE_CHECKING:
    from .recorder import Recorder

P = ParamSpec("P")
R = TypeVar("R")


class LLMMeta(TypedDict, total=False):
    """``turn.wrap_llm(fn, {"model": ..., "prompt_id": ...})``: the lumina-sdk's meta object."""

    model: str
    prompt_id: str


class ToolOptions(TypedDict, total=False):
    """``turn.record_tool(name, fn, {"type": ..., "target": ..., "version": ...})``."""

    type: str
    target: str
    version: str


class RetrievalResult(TypedDict, total=False):
    """One retrieved item: ``id`` (required), ``score``, ``content``."""

    id: str | int
    score: float
    content: str


class RetrievalInfo(TypedDict, total=False):
    """``turn.add_retrieval({"source": ..., "query": ..., "results": [...]})``."""

    source: str
    query: str
    results: Iterable[RetrievalResult]


class Retrieval(NamedTuple):
    """A recorded retrieval step: results are ``(id, score, content)``."""

    source: str
    query: str | None
    ts: int
    results: tuple[tuple[str, float | None, str | None], ...]


class Session:
    """One conversation: a trace id shared by its turns, which are numbered 1, 2, 3..."""

    def __init__(
        self,
        recorder: Recorder,
        distinct_id: Callable[[], str],
        trace_id: str | None = None,
        parent_span_id: str | None = None,
    ) -> None:
        self._recorder = recorder
        self._distinct_id = distinct_id
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

    def turn(self) -> Turn:
        """A new turn (new span id, next sequence number); ``with session.turn() as turn:``
        finishes it on exit and makes it the current turn inside the block."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        return Turn(self._recorder, self, seq, self._distinct_id())

    def after_fork(self) -> None:
        """In a forked child: fresh locks."""
        # a lock held by another thread at fork() time would stay held in the child forever
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Session(session_id={self.session_id!r}, turns={self._seq})"


class SessionManager:
    """``tracker.session``: start (or continue) the current session, or clear it.

    The current session is the request scope's inside ``tracker.request_context()``, else the
    process's. Starting a new session starts the UI provider's replay; clearing it stops it."""

    def __init__(
        self,
        recorder: Recorder,
        scope: ContextVar[RequestScope | None],
        distinct_id: Callable[[], str],
    ) -> None:
        self._recorder = recorder
        self._scope = scope
        self._distinct_id = distinct_id
        self._session: Session | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Session | None:
        """The current session (of the request scope, if any), or None."""
        scope = self._scope.get()
        return scope.session if scope is not None else self._session

    def start(self, traceparent: str | None = None) -> Session:
        """The current session, or a new one. An incoming ``traceparent`` continues that trace
        (a new session when it names another trace than the current one)."""
        parent = parse_traceparent(traceparent) if traceparent is not None else None
        scope = self._scope.get()
        with self._lock:
            current = scope.session if scope is not None else self._session
            if current is not None and (parent is None or parent.trace_id == current.trace_id):
                return current
            session = Session(
                self._recorder,
                self._distinct_id,
                parent.trace_id if parent else None,
                parent.span_id if parent else None,
            )
            if scope is not None:
                scope.session = session
            else:
                self._session = session
        if current is not None:
            self._recorder.session_ended(current)
        self._recorder.session_started(session)
        return session

    def clear(self) -> None:
        """Forget the current session; the next ``start()`` begins a new trace."""
        scope = self._scope.get()
        with self._lock:
            if scope is not None:
                ended, scope.session = scope.session, None
            else:
                ended, self._session = self._session, None
        if ended is not None:
            self._recorder.session_ended(ended)

    def after_fork(self) -> None:
        """In a forked child (the tracker calls it): fresh locks."""
        self._lock = threading.Lock()
        if self._session is not None:
            self._session.after_fork()


def _message_text(content: object) -> str:
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


def _read_message(message: object, index: int) -> tuple[str, str]:
    if isinstance(message, Mapping):
        role, content = message.get("role"), message.get("content")
    else:
        role, content = getattr(message, "role", None), getattr(message, "content", None)
    if not isinstance(role, str) or not role:
        raise EventsConfigError(f"set_messages: message {index} has no string 'role'")
    return role, _message_text(content)


def _retrieval_results(results: object) -> tuple[tuple[str, float | None, str | None], ...]:
    if results is None:
        return ()
    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Iterable):
        raise EventsConfigError("add_retrieval: results must be a list of {id, score?, content?}")
    items = []
    for index, result in enumerate(results):
        if not isinstance(result, Mapping) or result.get("id") is None:
            raise EventsConfigError(f"add_retrieval: result {index} needs an 'id'")
        score = result.get("score")
        if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool)):
            raise EventsConfigError(f"add_retrieval: result {index} has a non-numeric score")
        content = result.get("content")
        items.append(
            (
                str(result["id"]),
                None if score is None else float(score),
                None if content is None else str(content),
            )
        )
    return tuple(items)


def _finished_error(where: str) -> EventsConfigError:
    return EventsConfigError(
        f"{where}: the turn is finished; record into it before finish() (or inside its with block)"
    )


class Turn:
    """One exchange. Records LLM calls, tool calls, retrievals, annotations and the transcript;
    ``finish()`` (or leaving ``with session.turn() as turn:``) enqueues it, once. After that
    the turn is read-only: recording into it raises :class:`EventsConfigError`.

    Status: ``error`` when the turn ended with an exception, or when its last LLM call failed
    (a failed attempt followed by a successful one leaves the turn ``ok``; both are recorded).
    """

    def __init__(self, recorder: Recorder, session: Session, seq: int, distinct_id: str) -> None:
        self._recorder = recorder
        self.session = session
        self.seq = seq
        self.turn_id = new_span_id()
        self.start_ts = now_ms()
        self._t0 = time.perf_counter()
        self.distinct_id = distinct_id
        #: the event's unique id, set by finish()
        self.event_id = ""
        self._messages: tuple[tuple[str, str], ...] = ()
        self._calls: list[CallRecord] = []
        self._frozen_calls: tuple[CallRecord, ...] | None = None
        self._retrievals: list[Retrieval] = []
        self._annotations: dict[str, Any] = {}
        self._error: tuple[str, str | None] | None = None
        self._latency_ms: float | None = None
        self._finished = False
        self._lock = threading.Lock()
        self._tokens: list[Token[Turn | None]] = []
        self._provider_span = recorder.turn_started(self)

    # -- what was recorded (read-only) -----------------------------------------------------
    @property
    def traceparent(self) -> str:
        """``00-<session trace id>-<turn span id>-01``: pass it to downstream services."""
        return format_traceparent(self.session.session_id, self.turn_id)

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def latency_ms(self) -> float:
        """The whole turn, start to finish (so far, before ``finish()``)."""
        if self._latency_ms is not None:
            return self._latency_ms
        return (time.perf_counter() - self._t0) * 1000

    @property
    def end_ts(self) -> int:
        return self.start_ts + round(self.latency_ms)

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        """LLM and tool calls in the order they started (frozen at ``finish()``)."""
        frozen = self._frozen_calls
        return frozen if frozen is not None else tuple(self._calls)

    @property
    def llm_latency_ms(self) -> float | None:
        """Time spent in the turn's LLM calls, added up (what the lumina-sdk calls a turn's
        latency); None without LLM calls."""
        llm = [c.latency_ms or 0.0 for c in self.calls if c.kind == "llm"]
        return sum(llm) if llm else None

    @property
    def error(self) -> tuple[str, str | None] | None:
        """``(type, message)`` of the turn's exception, else of its last LLM call if that
        failed; None when the turn is ok."""
        if self._error is not None:
            return self._error
        for call in reversed(self.calls):
            if call.kind == "llm":
                if call.status == "error" and call.error_type is not None:
                    return (call.error_type, call.error_message)
                return None
        return None

    @property
    def status(self) -> Status:
        """``ok`` or ``error`` (see the class docstring)."""
        return "ok" if self.error is None else "error"

    @property
    def messages(self) -> tuple[tuple[str, str], ...]:
        """The transcript as ``(role, text)`` pairs, as recorded (before any masking)."""
        return self._messages

    @property
    def retrievals(self) -> tuple[Retrieval, ...]:
        return tuple(self._retrievals)

    @property
    def annotations(self) -> Mapping[str, Any]:
        """The annotations so far (read-only; ``annotate()`` adds to them)."""
        return MappingProxyType(self._annotations)

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
    def _try_start_call(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
        """A new call of this turn, or None when the turn is finished."""
        record = CallRecord(kind, name, meta, self._recorder.call_ended)
        with self._lock:
            if self._finished:
                return None
            self._calls.append(record)
        self._recorder.call_started(record, self.session, self.turn_id, self._provider_span)
        return record

    def _start_call(self, where: str, kind: str, name: str, meta: dict[str, str]) -> CallRecord:
        record = self._try_start_call(kind, name, meta)
        if record is None:
            raise _finished_error(where)
        return record

    @overload
    def wrap_llm(
        self,
        fn: Callable[[], Awaitable[R]],
        meta: LLMMeta | None = None,
        *,
        model: str | None = None,
        prompt_id: str | None = None,
    ) -> Awaitable[R]: ...

    @overload
    def wrap_llm(
        self,
        fn: Callable[[], R],
        meta: LLMMeta | None = None,
        *,
        model: str | None = None,
        prompt_id: str | None = None,
    ) -> R: ...

    def wrap_llm(
        self,
        fn: Callable[[], Any],
        meta: LLMMeta | None = None,
        *,
        model: str | None = None,
        prompt_id: str | None = None,
    ) -> Any:
        """Call ``fn()`` now and return its result, recording latency, model, prompt id and
        error (re-raised): ``turn.wrap_llm(lambda: client.chat(...), model="gpt-4o")``.

        ``meta`` is the lumina-sdk's ``{"model": ..., "prompt_id": ...}`` (or use the
        keywords). An ``async def`` (or a function returning an awaitable) gives an awaitable
        to ``await``; an iterator result (a stream) comes back wrapped, timing the first chunk
        and the whole stream. To record later calls of a function, use :meth:`llm`."""
        options = call_options("wrap_llm", meta, model=model, prompt_id=prompt_id)
        name = options.get("model") or str(getattr(fn, "__name__", "llm"))
        return call_now(
            fn, lambda: self._start_call("wrap_llm", "llm", name, options), where="wrap_llm"
        )

    @overload
    def record_tool(
        self,
        name: str,
        fn: Callable[[], Awaitable[R]],
        opts: ToolOptions | None = None,
        *,
        type: str | None = None,
        target: str | None = None,
        version: str | None = None,
    ) -> Awaitable[R]: ...

    @overload
    def record_tool(
        self,
        name: str,
        fn: Callable[[], R],
        opts: ToolOptions | None = None,
        *,
        type: str | None = None,
        target: str | None = None,
        version: str | None = None,
    ) -> R: ...

    def record_tool(
        self,
        name: str,
        fn: Callable[[], Any],
        opts: ToolOptions | None = None,
        *,
        type: str | None = None,  # the lumina-sdk's option name
        target: str | None = None,
        version: str | None = None,
    ) -> Any:
        """Call ``fn()`` now and return its result, recording success/failure and latency as
        a tool call (only when the tracker has ``enable_tool_wrapping``; otherwise ``fn()`` is
        just called). ``opts`` is the lumina-sdk's ``{"type", "target", "version"}``. To
        record later calls of a function, use :meth:`tool`."""
        if not isinstance(name, str) or not name:
            raise EventsConfigError("record_tool: name must be a non-empty string")
        options = call_options("record_tool", opts, type=type, target=target, version=version)
        if not self._recorder.records_tools:
            if self._finished:
                raise _finished_error("record_tool")
            return call_now(fn, lambda: None, where="record_tool")
        return call_now(
            fn,
            lambda: self._start_call("record_tool", "tool", name, options),
            where="record_tool",
        )

    @property
    def llm(self) -> LLMDecorator:
        """Decorator: each later call of the function is an LLM call of this turn
        (``ask = turn.llm(model="gpt-4o")(ask)``; ``@turn.llm``), for turns used without
        ``with``. After ``finish()`` the calls are sent as span events of the session."""
        return LLMDecorator(self._start_decorated)

    @property
    def tool(self) -> ToolDecorator:
        """Decorator: each later call of the function is a tool call of this turn (the name
        defaults to the function's)."""
        return ToolDecorator(self._start_decorated)

    def _start_decorated(self, kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
        recorder = self._recorder
        if kind == "tool" and not recorder.records_tools:
            return None
        record = self._try_start_call(kind, name, meta)
        return record if record is not None else recorder.start_span_call(kind, name, meta)

    # -- content ---------------------------------------------------------------------------
    def add_retrieval(
        self,
        info: RetrievalInfo | Mapping[str, object] | None = None,
        /,
        *,
        source: str | None = None,
        query: str | None = None,
        results: Iterable[RetrievalResult] | Iterable[Mapping[str, object]] | None = None,
    ) -> None:
        """A retrieval step: the lumina-sdk's ``{"source", "query", "results": [{"id",
        "score", "content"}]}``, or the same as keywords."""
        if info is not None and not isinstance(info, Mapping):
            raise EventsConfigError(
                "add_retrieval: expected a mapping {source, query, results} or the keywords "
                f"source=, query=, results=; got {type(info).__name__}"
            )
        given = dict(info or {})
        unknown = sorted(str(k) for k in given if k not in ("source", "query", "results"))
        if unknown:
            raise EventsConfigError(f"add_retrieval: unknown key(s) {', '.join(unknown)}")
        for key, keyword in (("source", source), ("query", query), ("results", results)):
            if keyword is not None:
                if given.get(key) is not None:
                    raise EventsConfigError(f"add_retrieval: {key} given twice")
                given[key] = keyword
        where = given.get("source")
        if not isinstance(where, str) or not where:
            raise EventsConfigError("add_retrieval: source must be a non-empty string")
        text = given.get("query")
        if text is not None and not isinstance(text, str):
            raise EventsConfigError("add_retrieval: query must be a string")
        record = Retrieval(where, text, now_ms(), _retrieval_results(given.get("results")))
        with self._lock:
            if self._finished:
                raise _finished_error("add_retrieval")
            self._retrievals.append(record)

    def annotate(self, data: Mapping[str, object] | None = None, /, **fields: object) -> None:
        """Free-form facts (token counts, flags...), merged; sent as given."""
        if data is not None and not isinstance(data, Mapping):
            raise EventsConfigError(f"annotate: expected a mapping, got {type(data).__name__}")
        merged = {**data, **fields} if data else fields
        for key in merged:
            if not isinstance(key, str):
                raise EventsConfigError(f"annotate: keys must be strings, got {key!r}")
        with self._lock:
            if self._finished:
                raise _finished_error("annotate")
            self._annotations.update(merged)

    def set_messages(self, messages: Iterable[object]) -> None:
        """The transcript (``[{role, content}, ...]``); it is sent according to the capture mode."""
        if isinstance(messages, (str, bytes, Mapping)):
            raise EventsConfigError("set_messages: expected a list of {role, content} messages")
        copied = tuple([_read_message(m, i) for i, m in enumerate(messages)])
        with self._lock:
            if self._finished:
                raise _finished_error("set_messages")
            self._messages = copied

    def add_message(self, role: str, content: object) -> None:
        """Append one message to the transcript."""
        message = _read_message({"role": role, "content": content}, len(self._messages))
        with self._lock:
            if self._finished:
                raise _finished_error("add_message")
            self._messages = (*self._messages, message)

    # -- end -------------------------------------------------------------------------------
    def finish(self, error: BaseException | None = None) -> None:
        """Enqueue the turn (idempotent: later calls do nothing). Never blocks on the network.

        ``error``: the exception that ended the turn (the ``with`` block passes it)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._latency_ms = (time.perf_counter() - self._t0) * 1000
            # a stream still running keeps its own record; the turn keeps a frozen copy
            self._frozen_calls = tuple(c if c.done else c.snapshot() for c in self._calls)
            if error is not None:
                self._error = (type(error).__name__, str(error))
        self.event_id = new_event_id()
        recorder = self._recorder
        annotations = recorder.turn_ended(self._provider_span, self.status, self._frozen_calls)
        for key, value in annotations.items():
            self._annotations.setdefault(key, value)
        recorder.emit_turn(self)

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


def active_turn() -> Turn | None:
    """The turn the calling code runs in, if it is not finished."""
    turn = current_turn.get()
    return turn if turn is not None and not turn.finished else None


def start_call(
    kind: str,
    name: str,
    meta: dict[str, str],
    *,
    only: Recorder | None,
    fallback: Recorder | None,
) -> CallRecord | None:
    """For the decorators: a call of the current turn (only if it records through ``only``,
    when given), else a span call of ``fallback``'s current session; None when not recorded
    (no tracker, or tool recording switched off)."""
    turn = current_turn.get()
    if turn is not None and (only is None or turn._recorder is only):
        if kind == "tool" and not turn._recorder.records_tools:
            return None
        record = turn._try_start_call(kind, name, meta)
        if record is not None:
            return record
        fallback = fallback or turn._recorder  # finished inside its with block
    if fallback is None or (kind == "tool" and not fallback.records_tools):
        return None
    return fallback.start_span_call(kind, name, meta)


__all__ = [
    "LLMMeta",
    "Retrieval",
    "RetrievalInfo",
    "RetrievalResult",
    "Session",
    "SessionManager",
    "ToolOptions",
    "Turn",
    "active_turn",
    "start_call",
]
