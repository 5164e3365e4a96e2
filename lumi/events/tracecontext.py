"""W3C Trace Context ids: trace id (32 hex) = session, span id (16 hex) = turn or call."""

from __future__ import annotations

import os
import random
import re
import time

import attrs

from .config import EventsConfigError

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16

# Ids need uniqueness, not secrecy: a private generator seeded from os.urandom costs a fraction
# of os.urandom + uuid.uuid4() per id (three ids a turn, on the caller's thread). Private, so
# that an application's random.seed() never repeats our ids; re-seeded in a forked child, so
# that parent and child never share them.
_RNG = random.Random(os.urandom(32))
_bits = _RNG.getrandbits


def _reseed() -> None:
    _RNG.seed(os.urandom(32))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed)

#: UUID version 4 and RFC 4122 variant bits
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


def new_trace_id() -> str:
    """A random, valid (non-zero) W3C trace id."""
    while True:
        value = f"{_bits(128):032x}"
        if value != _INVALID_TRACE:
            return value


def new_span_id() -> str:
    """A random, valid (non-zero) W3C span id."""
    while True:
        value = f"{_bits(64):016x}"
        if value != _INVALID_SPAN:
            return value


def new_event_id() -> str:
    """A unique event id in the UUID version 4 form: the receiver's de-duplication key."""
    h = f"{_bits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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
