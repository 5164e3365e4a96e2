"""The bounded in-memory buffer between the callers and the delivery worker.

``push`` never blocks the caller: when the buffer holds ``capacity`` events, the event is refused
(the caller counts it as dropped). A batch that could not be delivered goes back to the *front*
with ``requeue``, in its original order, regardless of capacity: it was accepted already.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

#: Builds an event's wire dict. Runs on the worker (masking and serialisation off the caller).
Builder = Callable[[], dict[str, Any]]


def _json_fallback(value: object) -> str:
    # Annotations and properties are free-form: something JSON cannot hold is sent as text
    # rather than failing the whole batch.
    return str(value)


# One encoder, built once (json.dumps with options builds a new one per call). NaN and
# Infinity are not JSON: an event holding one is refused alone (counted as rejected) rather
# than making a strict receiver refuse its whole batch.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_json_fallback, allow_nan=False
)


def encode_event(wire: dict[str, Any]) -> bytes:
    """One NDJSON line (without the newline)."""
    return _ENCODER.encode(wire).encode("utf-8")


class Pending:
    """One accepted event on its way out: lazily encoded, acknowledged to the spool when done."""

    __slots__ = ("_builder", "_data", "ack_token", "estimate", "event_id")

    def __init__(
        self,
        event_id: str,
        *,
        builder: Builder | None = None,
        data: bytes | None = None,
        estimate: int = 512,
    ) -> None:
        if (builder is None) == (data is None):
            raise ValueError("Pending needs exactly one of builder or data")
        self.event_id = event_id
        self._builder = builder
        self._data = data
        self.estimate = len(data) if data is not None else estimate
        #: the spool's handle for this event (None without a spool)
        self.ack_token: object | None = None

    @property
    def encoded(self) -> bool:
        return self._data is not None

    def data(self) -> bytes:
        """The NDJSON line; built (masked, serialised) on first use and then kept."""
        if self._data is None:
            assert self._builder is not None
            self._data = encode_event(self._builder())
            self._builder = None
            self.estimate = len(self._data)
        return self._data

    def __repr__(self) -> str:
        return f"Pending({self.event_id!r})"


class EventBuffer:
    """A deque of :class:`Pending` guarded by one condition (the worker waits on it)."""

    def __init__(self, capacity: int, wake_bytes: int) -> None:
        self.capacity = capacity
        self.wake_bytes = wake_bytes
        self.cond = threading.Condition(threading.Lock())
        self._items: deque[Pending] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def approx_bytes(self) -> int:
        return self._bytes

    def has_room(self) -> bool:
        return len(self._items) < self.capacity

    def push(self, item: Pending, *, force: bool = False) -> bool:
        """Append; False (nothing stored) when full unless ``force``. Wakes the worker when the
        buffered bytes reach ``wake_bytes``."""
        with self.cond:
            if not force and len(self._items) >= self.capacity:
                return False
            before = self._bytes
            self._items.append(item)
            self._bytes += item.estimate
            if before < self.wake_bytes <= self._bytes:
                self.cond.notify_all()
            return True

    def requeue(self, items: list[Pending]) -> None:
        """Put undelivered items back at the front, keeping their order."""
        if not items:
            return
        with self.cond:
            self._items.extendleft(reversed(items))
            self._bytes += sum(item.estimate for item in items)

    def pop(self) -> Pending | None:
        with self.cond:
            if not self._items:
                return None
            item = self._items.popleft()
            self._bytes -= item.estimate
            return item

    def take_batch(
        self, max_bytes: int, on_unencodable: Callable[[Pending, Exception], None]
    ) -> list[Pending]:
        """Up to ``max_bytes`` of NDJSON (at least one item, even a larger one: it is sent alone).

        Encoding happens here, on the worker, outside the lock. An item whose builder raises
        is handed to ``on_unencodable`` (which counts it) instead of stopping delivery."""
        batch: list[Pending] = []
        size = 0
        while True:
            item = self.pop()
            if item is None:
                return batch
            try:
                line = len(item.data()) + 1
            except Exception as exc:  # a bug in a builder must not stop the worker
                on_unencodable(item, exc)
                continue
            if batch and size + line > max_bytes:
                self.requeue([item])
                return batch
            batch.append(item)
            size += line
            if size >= max_bytes:
                return batch

    def clear(self) -> list[Pending]:
        with self.cond:
            items = list(self._items)
            self._items.clear()
            self._bytes = 0
            return items

    def snapshot_ids(self) -> list[str]:
        with self.cond:
            return [item.event_id for item in self._items]
