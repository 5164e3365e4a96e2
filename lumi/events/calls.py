"""Timing LLM and tool calls: sync, async, and streamed (first-token and total latency).

A wrapped function's result passes through unchanged, except that an iterator result (a
generator, an SDK's stream object) is handed back inside a transparent proxy that notes the
first chunk and the end of the stream. Exceptions are recorded and re-raised.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar, cast

from .tracecontext import new_span_id, now_ms

F = TypeVar("F", bound=Callable[..., Any])


class CallRecord:
    """One LLM or tool call. Mutable while the call runs; :meth:`snapshot` freezes a copy."""

    __slots__ = (
        "chunk_count",
        "error_message",
        "error_type",
        "first_token_ms",
        "kind",
        "latency_ms",
        "meta",
        "name",
        "owner",
        "provider_span",
        "span_id",
        "start_ts",
        "status",
        "streamed",
        "t0",
    )

    def __init__(self, kind: str, name: str, meta: dict[str, str]) -> None:
        self.kind = kind  # "llm" or "tool"
        self.name = name
        self.meta = meta  # llm: model, prompt_id; tool: type, target, version
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
        #: who ends it: the turn, or the tracker for a call outside any turn
        self.owner: Any = None

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000

    def complete(self, error: BaseException | None = None, status: str | None = None) -> None:
        self.latency_ms = self.elapsed_ms()
        if error is not None:
            self.status = "error"
            self.error_type = type(error).__name__
            self.error_message = str(error)
        else:
            self.status = status or "ok"

    @property
    def done(self) -> bool:
        return self.latency_ms is not None

    def snapshot(self) -> CallRecord:
        copy = CallRecord.__new__(CallRecord)
        for slot in CallRecord.__slots__:
            setattr(copy, slot, getattr(self, slot))
        if copy.latency_ms is None:
            copy.latency_ms = self.elapsed_ms()
        return copy


Start = Callable[[], "CallRecord | None"]
End = Callable[[CallRecord], None]


def is_stream(value: object) -> bool:
    """An iterator (not a container): a generator or an SDK's stream object."""
    return isinstance(value, (Iterator, AsyncIterator)) and not isinstance(
        value, (str, bytes, bytearray, memoryview)
    )


class _StreamBase:
    def __init__(self, inner: Any, record: CallRecord, end: End) -> None:
        self._inner = inner
        self._record = record
        self._end = end
        record.streamed = True

    def _chunk(self) -> None:
        record = self._record
        if record.chunk_count == 0:
            record.first_token_ms = record.elapsed_ms()
        record.chunk_count += 1

    def _finish(self, error: BaseException | None = None, status: str | None = None) -> None:
        if not self._record.done:
            self._record.complete(error, status)
            self._end(self._record)

    def __getattr__(self, name: str) -> Any:
        # Anything else (an SDK stream's .response, .close...) is the wrapped object's.
        return getattr(self._inner, name)


class StreamProxy(_StreamBase):
    """Wraps a sync iterator; the call ends when it is exhausted, fails, or is closed."""

    def __init__(self, inner: Any, record: CallRecord, end: End) -> None:
        super().__init__(inner, record, end)
        self._iterator = iter(inner)

    def __iter__(self) -> StreamProxy:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._iterator)
        except StopIteration:
            self._finish()
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._chunk()
        return item

    def close(self) -> None:
        self._finish(status="incomplete")
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

    def __init__(self, inner: Any, record: CallRecord, end: End) -> None:
        super().__init__(inner, record, end)
        self._iterator = inner.__aiter__()

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._finish()
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._chunk()
        return item

    async def aclose(self) -> None:
        self._finish(status="incomplete")
        closer = getattr(self._inner, "aclose", None) or getattr(self._inner, "close", None)
        if callable(closer):
            result = closer()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> AsyncStreamProxy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _settle(result: Any, record: CallRecord, end: End, streams: bool) -> Any:
    if streams and is_stream(result):
        if isinstance(result, AsyncIterator):
            return AsyncStreamProxy(result, record, end)
        return StreamProxy(result, record, end)
    record.complete()
    end(record)
    return result


def wrap_call(fn: F, start: Start, end: End, *, streams: bool = True) -> F:
    """``fn`` timed: ``start()`` makes the record before each call (None: not recorded, the
    call goes straight through), ``end(record)`` runs when the call (or its stream) is over."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            record = start()
            if record is None:
                return await cast(Callable[..., Awaitable[Any]], fn)(*args, **kwargs)
            try:
                result = await cast(Callable[..., Awaitable[Any]], fn)(*args, **kwargs)
            except BaseException as exc:
                record.complete(exc)
                end(record)
                raise
            return _settle(result, record, end, streams)

        return cast(F, async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        record = start()
        if record is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            record.complete(exc)
            end(record)
            raise
        return _settle(result, record, end, streams)

    return cast(F, wrapper)
