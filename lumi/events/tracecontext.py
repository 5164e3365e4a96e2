"""W3C Trace Context ids: trace id (32 hex) = session, span id (16 hex) = turn or call."""

from __future__ import annotations

import os
import re
import time
import uuid

import attrs

from .config import EventsConfigError

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16


def new_trace_id() -> str:
    """A random, valid (non-zero) W3C trace id."""
    while True:
        value = os.urandom(16).hex()
        if value != _INVALID_TRACE:
            return value


def new_span_id() -> str:
    """A random, valid (non-zero) W3C span id."""
    while True:
        value = os.urandom(8).hex()
        if value != _INVALID_SPAN:
            return value


def new_event_id() -> str:
    """A unique event id (UUID4): the receiver's de-duplication key."""
    return str(uuid.uuid4())


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def format_traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    """``00-<trace>-<span>-01`` (or ``-00`` when not sampled)."""
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


@attrs.frozen
class TraceParent:
    """A parsed ``traceparent`` header."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def sampled(self) -> bool:
        return bool(int(self.flags, 16) & 1)

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def parse_traceparent(value: str) -> TraceParent:
    """Parse an incoming ``traceparent``; a malformed one raises EventsConfigError naming it."""
    if not isinstance(value, str):
        raise EventsConfigError(f"traceparent must be a string, got {type(value).__name__}")
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        raise EventsConfigError(
            f"invalid traceparent {value!r:.80}: expected 00-<32 hex>-<16 hex>-<2 hex>"
        )
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        raise EventsConfigError(f"invalid traceparent {value!r:.80}: unsupported version field")
    if trace_id == _INVALID_TRACE or span_id == _INVALID_SPAN:
        raise EventsConfigError(f"invalid traceparent {value!r:.80}: all-zero trace or span id")
    return TraceParent(trace_id, span_id, flags)
