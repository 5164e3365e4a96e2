"""Timing LLM and tool calls: sync, async, and streamed (first-token and total latency).

Two shapes share this module: :func:`call_now` runs a zero-argument function at once and
returns its result (``turn.wrap_llm(fn)``, the lumina-sdk's shape), :func:`wrap_call` returns
a wrapper that records each later call (the decorators). A result passes through unchanged,
except that an iterator (a generator, an SDK's stream object) is handed back inside a
transparent proxy that notes the first chunk and the end of the stream, and an awaitable is
handed back as an awaitable that records when it completes. Exceptions are recorded and
re-raised.
"""

from __future__ import annotations

import functools
import inspect
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar, cast, overload

from .config import EventsConfigError
from .tracecontext import new_span_id, now_ms

P = ParamSpec("P")
R = TypeVar("R")


class Decorator(Protocol):
    """A decorator that keeps the decorated function's signature and result type."""

    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...


class CallRecord:
    """One LLM or tool call. Mutable while the call runs; :meth:`snapshot` freezes a copy.

    ``on_end(record)`` runs once, when the call (or its stream) is over."""

    __slots__ = (
        "chunk_count",
        "error_message",
        "error_type",
        "first_token_ms",
        "kind",
        "latency_ms",
        "meta",
        "name",
        "on_end",
        "provider_span",
        "span_id",
        "start_ts",
        "status",
        "streamed",
        "t0",
    )

    def __init__(
        self, kind: str, name: str, meta: dict[str, str], on_end: Callable[[CallRecord], None]
    ) -> None:
        self.kind = kind  # "llm" or "tool"
        self.name = name
        self.meta = meta  # llm: model, prompt_id; tool: type, target, version
        self.on_end = on_end
        self.span_id = new_span_id()
        self.start_ts = now_ms()
        self.t0 = time.perf_counter()
        self.latency_ms: float | None = None
        self.first_token_ms: float | None = None
        self.streamed = False
        self.chunk_count = 0
        self.status = "incomplete"
        self.error_type: str | None = None
        self.error_message: str | None = None
        self.provider_span: str | None = None

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000

    @property
    def done(self) -> bool:
        return self.latency_ms is not None

    def complete(self, error: BaseException | None = None, status: str | None = None) -> None:
        """End the call (once; later calls do nothing) and tell its owner."""
        if self.latency_ms is not None:
            return
        self.latency_ms = self.elapsed_ms()
        if error is not None:
            self.status = "error"
            self.error_type = type(error).__name__
            self.error_message = str(error)
        else:
            self.status = status or "ok"
        self.on_end(self)

    def snapshot(self) -> CallRecord:
        """A frozen copy (a running call is copied as ``incomplete``, timed until now)."""
        copy = CallRecord.__new__(CallRecord)
        for slot in CallRecord.__slots__:
            setattr(copy, slot, getattr(self, slot))
        if copy.latency_ms is None:
            copy.latency_ms = self.elapsed_ms()
        return copy


Start = Callable[[], "CallRecord | None"]


def is_stream(value: object) -> bool:
    """An iterator (not a container): a generator or an SDK's stream object."""
    return isinstance(value, (Iterator, AsyncIterator)) and not isinstance(
        value, (str, bytes, bytearray, memoryview)
    )


class _StreamBase:
    def __init__(self, inner: Any, record: CallRecord) -> None:
        self._inner = inner
        self._record = record
        record.streamed = True

    def _chunk(self) -> None:
        record = self._record
        if record.chunk_count == 0:
            record.first_token_ms = record.elapsed_ms()
        record.chunk_count += 1

    def __getattr__(self, name: str) -> Any:
        # Anything else (an SDK stream's .response, .close...) is the wrapped object's.
        return getattr(self._inner, name)


class StreamProxy(_StreamBase):
    """Wraps a sync iterator; the call ends when it is exhausted, fails, or is closed."""

    def __init__(self, inner: Any, record: CallRecord) -> None:
        super().__init__(inner, record)
        self._iterator = iter(inner)

    def __iter__(self) -> StreamProxy:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._iterator)
        except StopIteration:
            self._record.complete()
            raise
        except BaseException as exc:
            self._record.complete(exc)
            raise
        self._chunk()
        return item

    def close(self) -> None:
        self._record.complete(status="incomplete")
        closer = getattr(self._inner, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> StreamProxy:
        enter = getattr(self._inner, "__enter__", None)
        if callable(enter):
            enter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncStreamProxy(_StreamBase):
    """Wraps an async iterator (``async for``)."""

    def __init__(self, inner: Any, record: CallRecord) -> None:
        super().__init__(inner, record)
        self._iterator = inner.__aiter__()

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._record.complete()
            raise
        except BaseException as exc:
            self._record.complete(exc)
            raise
        self._chunk()
        return item

    async def aclose(self) -> None:
        self._record.complete(status="incomplete")
        closer = getattr(self._inner, "aclose", None) or getattr(self._inner, "close", None)
        if callable(closer):
            result = closer()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> AsyncStreamProxy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


#: Results that are certainly neither streams nor awaitables (checked first: the ABC checks
#: cost more than the rest of a recorded call).
_PLAIN = frozenset({str, bytes, dict, list, tuple, int, float, bool, type(None)})


def _settle(result: Any, record: CallRecord, streams: bool) -> Any:
    if type(result) in _PLAIN:
        record.complete()
        return result
    if streams and is_stream(result):
        if isinstance(result, AsyncIterator):
            return AsyncStreamProxy(result, record)
        return StreamProxy(result, record)
    record.complete()
    return result


async def _settle_awaited(awaitable: Awaitable[Any], record: CallRecord, streams: bool) -> Any:
    try:
        result = await awaitable
    except BaseException as exc:
        record.complete(exc)
        raise
    return _settle(result, record, streams)


def needs_arguments(fn: Callable[..., object]) -> bool:
    """Whether ``fn`` has a parameter without a default (it cannot be called as ``fn()``).

    Functions and methods are read from their code object (fast: this runs on every
    ``wrap_llm``); other callables through :func:`inspect.signature`, and a callable whose
    signature cannot be read is assumed to need nothing."""
    function, bound = fn, 0
    if isinstance(fn, types.MethodType):
        function, bound = fn.__func__, 1
    if isinstance(function, types.FunctionType):
        code = function.__code__
        positional = code.co_argcount - bound - len(function.__defaults__ or ())
        keyword = code.co_kwonlyargcount - len(function.__kwdefaults__ or {})
        return positional > 0 or keyword > 0
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return any(p.default is p.empty and p.kind not in kinds for p in parameters)


def call_now(fn: Callable[[], Any], start: Start, *, where: str, streams: bool = True) -> Any:
    """Call ``fn()`` now, timed into the record ``start()`` makes (None: not recorded), and
    return its result.

    A function that needs arguments is refused by name (``where``): before this shape, the
    same method returned a wrapper to call later, and such a call must not pass unnoticed."""
    if not callable(fn):
        raise EventsConfigError(f"{where}: fn must be callable, got {type(fn).__name__}")
    if needs_arguments(fn):
        name = getattr(fn, "__name__", type(fn).__name__)
        raise EventsConfigError(
            f"{where}(fn, ...) calls fn now, without arguments, and returns its result; "
            f"{name} needs arguments: pass `lambda: {name}(...)`, or use the decorator form "
            f"to record later calls"
        )
    record = start()
    if record is None:
        return fn()
    try:
        result = fn()
    except BaseException as exc:
        record.complete(exc)
        raise
    if type(result) not in _PLAIN and inspect.isawaitable(result):
        return _settle_awaited(result, record, streams)
    return _settle(result, record, streams)


def wrap_call(fn: Callable[P, R], start: Start, *, streams: bool = True) -> Callable[P, R]:
    """``fn`` timed: ``start()`` makes the record before each call (None: not recorded, the
    call goes straight through); the record ends when the call (or its stream) is over."""
    if inspect.iscoroutinefunction(fn):
        coroutine_fn = fn

        @functools.wraps(fn)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            record = start()
            if record is None:
                return await coroutine_fn(*args, **kwargs)
            try:
                awaitable = coroutine_fn(*args, **kwargs)
            except BaseException as exc:  # e.g. a TypeError for wrong arguments
                record.complete(exc)
                raise
            return await _settle_awaited(awaitable, record, streams)

        return cast(Callable[P, R], async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        record = start()
        if record is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            record.complete(exc)
            raise
        return cast(R, _settle(result, record, streams))

    return wrapper


def call_options(where: str, given: object, **keywords: str | None) -> dict[str, str]:
    """The seed's options object merged with the keywords of the same names.

    ``given`` must be a mapping with only those keys; a key given both ways with two values,
    or a value that is not a string, is refused by name."""
    if given is None:  # the keywords alone: the common case, on every wrap_llm
        only = {k: v for k, v in keywords.items() if v is not None}
        for key, text in only.items():
            if not isinstance(text, str):
                raise EventsConfigError(
                    f"{where}: {key} must be a string, got {type(text).__name__}"
                )
        return only
    if not isinstance(given, Mapping):
        raise EventsConfigError(
            f"{where}: options must be a mapping with {', '.join(keywords)}, "
            f"got {type(given).__name__}"
        )
    unknown = sorted(str(k) for k in given if k not in keywords)
    if unknown:
        raise EventsConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)} (known: {', '.join(keywords)})"
        )
    out: dict[str, str] = {}
    for key, keyword in keywords.items():
        value: object = given.get(key)
        if keyword is not None:
            if value is not None and value != keyword:
                raise EventsConfigError(f"{where}: {key} given twice, {value!r} and {keyword!r}")
            value = keyword
        if value is None:
            continue
        if not isinstance(value, str):
            raise EventsConfigError(f"{where}: {key} must be a string, got {type(value).__name__}")
        out[key] = value
    return out


CallStarter = Callable[[str, str, dict[str, str]], "CallRecord | None"]
"""Starts the record of one call: ``(kind, name, meta)``; None when it is not recorded."""


class LLMDecorator:
    """``@llm`` or ``@llm(model=..., prompt_id=...)``: records each call of the function as an
    LLM call (where: see the object it comes from). The function keeps its signature."""

    def __init__(self, start: CallStarter) -> None:
        self._start = start

    @overload
    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def __call__(
        self, fn: None = None, /, *, model: str | None = None, prompt_id: str | None = None
    ) -> Decorator: ...

    def __call__(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        model: str | None = None,
        prompt_id: str | None = None,
    ) -> Any:
        options = call_options("llm", None, model=model, prompt_id=prompt_id)
        start = self._start

        def decorate(function: Callable[P, R]) -> Callable[P, R]:
            name = options.get("model") or str(getattr(function, "__name__", "llm"))
            return wrap_call(function, functools.partial(start, "llm", name, options))

        return decorate if fn is None else decorate(fn)


class ToolDecorator:
    """``@tool``, ``@tool("name", type=..., target=..., version=...)``: records each call of the
    function as a tool call (the name defaults to the function's). The function keeps its
    signature."""

    def __init__(self, start: CallStarter) -> None:
        self._start = start

    @overload
    def __call__(self, name: Callable[P, R], /) -> Callable[P, R]: ...

    @overload
    def __call__(
        self,
        name: str | None = None,
        /,
        *,
        type: str | None = None,
        target: str | None = None,
        version: str | None = None,
    ) -> Decorator: ...

    def __call__(
        self,
        name: str | Callable[..., Any] | None = None,
        /,
        *,
        type: str | None = None,  # the lumina-sdk's option name
        target: str | None = None,
        version: str | None = None,
    ) -> Any:
        if name is not None and not isinstance(name, str) and not callable(name):
            raise EventsConfigError("tool: name must be a string")
        options = call_options("tool", None, type=type, target=target, version=version)
        given = name if isinstance(name, str) else None
        start = self._start

        def decorate(function: Callable[P, R]) -> Callable[P, R]:
            resolved = given or getattr(function, "__name__", None)
            if not resolved:
                raise EventsConfigError("tool: a name is needed for this callable")
            return wrap_call(function, functools.partial(start, "tool", resolved, options))

        return decorate(name) if callable(name) else decorate
