"""Draining the buffer: batches, retries with backoff and jitter, Retry-After, re-queueing.

No threads here: the worker thread (or the caller in ``sync_mode``, or the exit hook) calls
:meth:`Delivery.drain`. Keeping it thread-free is what lets the property tests drive every
interleaving of sends, failures and re-queues deterministically.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from .buffer import EventBuffer, Pending
from .stats import RateLimitedWarning, Stats
from .transport import Sender, SendResult

logger = logging.getLogger("lumi.events")


class Delivery:
    """Sends what the buffer holds; a batch that still fails after its retries goes back."""

    def __init__(
        self,
        buffer: EventBuffer,
        sender: Sender,
        stats: Stats,
        *,
        max_batch_bytes: int,
        retry_delays_s: tuple[float, ...],
        jitter: float,
        max_retry_after_s: float,
        connect_timeout_s: float,
        read_timeout_s: float,
        on_done: Callable[[list[Pending]], None],
        wait: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.buffer = buffer
        self.sender = sender
        self.stats = stats
        self.max_batch_bytes = max_batch_bytes
        self.retry_delays_s = retry_delays_s
        self.jitter = jitter
        self.max_retry_after_s = max_retry_after_s
        self.timeouts = (connect_timeout_s, read_timeout_s)
        self._on_done = on_done
        self._wait = wait
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._warn = RateLimitedWarning()
        #: an outside deadline (flush/shutdown) that also bounds a drain already running
        self.deadline: float | None = None
        #: events taken out of the buffer and not yet delivered or put back
        self.in_flight = 0

    # -- public --------------------------------------------------------------------------------
    def drain(self, deadline: float | None = None) -> bool:
        """Send until the buffer is empty (True) or a batch fails / the deadline passes (False)."""
        if not self._lock.acquire(timeout=-1 if deadline is None else self._remaining(deadline)):
            return False
        try:
            while True:
                batch = self.buffer.take_batch(self.max_batch_bytes, self._unencodable)
                if not batch:
                    return True
                self.in_flight = len(batch)
                try:
                    undelivered = self._deliver(batch, deadline)
                finally:
                    self.in_flight = 0
                if undelivered:
                    self.buffer.requeue(undelivered)
                    return False
        finally:
            self._lock.release()

    # -- internals -----------------------------------------------------------------------------
    def _remaining(self, deadline: float) -> float:
        return max(0.0, deadline - self._clock())

    def _deadline(self, own: float | None) -> float | None:
        outside = self.deadline
        if own is None:
            return outside
        return own if outside is None else min(own, outside)

    def _unencodable(self, item: Pending, exc: Exception) -> None:
        self.stats.add("rejected")
        logger.error("event %s could not be encoded (%s); it was not sent", item.event_id, exc)
        self._on_done([item])

    def _pause(self, seconds: float, deadline: float | None) -> bool:
        """Sleep ``seconds``; False when that would pass the deadline (checked on each wake)."""
        end = self._clock() + seconds
        while True:
            current = self._deadline(deadline)
            if current is not None and end > current:
                return False
            remaining = end - self._clock()
            if remaining <= 0:
                return True
            self._wait(remaining)

    def _delay(self, attempt: int, result: SendResult) -> float:
        delay = self.retry_delays_s[attempt - 1]
        delay *= 1 + self._rng.uniform(-self.jitter, self.jitter)
        if result.retry_after_s is not None:
            delay = max(delay, min(result.retry_after_s, self.max_retry_after_s))
        return delay

    def _deliver(self, batch: list[Pending], deadline: float | None) -> list[Pending]:
        """Deliver one batch with retries; return what is still undelivered."""
        body = b"".join(item.data() + b"\n" for item in batch)
        result = SendResult(ok=False, detail="not attempted")
        for attempt in range(len(self.retry_delays_s) + 1):
            if attempt:
                if not self._pause(self._delay(attempt, result), deadline):
                    break
                self.stats.add("retried")
            current = self._deadline(deadline)
            if current is not None and current - self._clock() <= 0:
                break
            connect, read = self.timeouts
            if current is not None:
                remaining = current - self._clock()
                connect, read = min(connect, remaining), min(read, remaining)
            result = self.sender.send(body, (connect, read))
            if result.ok:
                self.stats.add("sent", len(batch))
                self.stats.add("batches")
                logger.debug("delivered %d events (%d bytes)", len(batch), len(body))
                self._on_done(batch)
                return []
            if not result.retryable:
                return self._refused(batch, result, deadline)
        self.stats.add("failed", len(batch))
        self._warn(
            "lumi.events: could not deliver %d events (%s); kept for a later attempt",
            len(batch),
            result.detail,
        )
        return batch

    def _refused(
        self, batch: list[Pending], result: SendResult, deadline: float | None
    ) -> list[Pending]:
        if result.status == 413 and len(batch) > 1:
            # Too large for the receiver: halve until it fits; a single event is refused below.
            half = len(batch) // 2
            rest = self._deliver(batch[:half], deadline)
            if rest:
                return rest + batch[half:]
            return self._deliver(batch[half:], deadline)
        self.stats.add("rejected", len(batch))
        logger.error(
            "lumi.events: the endpoint refused %d events for good (%s); they were discarded",
            len(batch),
            result.detail,
        )
        self._on_done(batch)
        return []
