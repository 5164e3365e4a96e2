"""Draining the buffer: batches, retries with backoff and jitter, Retry-After, re-queueing.

The worker thread (or the caller in ``sync_mode``, or the exit hook) calls
:meth:`Delivery.drain`, which builds and encodes the batches and keeps up to ``concurrency`` of
them on the wire at once (each sent, with its retries, by a short-lived thread): the time a
batch waits for its answer is spent preparing and sending the next one. Undelivered batches go
back to the front of the buffer in their original order. With ``concurrency=1`` (or when no
thread can start: interpreter exit) batches are sent one by one in the draining thread.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

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
        concurrency: int = 1,
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
        self.concurrency = concurrency

    # -- public --------------------------------------------------------------------------------
    def drain(self, deadline: float | None = None) -> bool:
        """Send until the buffer is empty (True) or a batch fails / the deadline passes (False)."""
        if not self._lock.acquire(timeout=-1 if deadline is None else self._remaining(deadline)):
            return False
        sending: deque[tuple[list[Pending], Future[list[Pending]]]] = deque()
        undelivered: list[Pending] = []
        try:
            while True:
                if not undelivered:  # after a failure: let what is on the wire finish, no more
                    batch = self.buffer.take_batch(self.max_batch_bytes, self._unencodable)
                    if batch:
                        self.in_flight += len(batch)
                        sending.append((batch, self._send(batch, deadline)))
                        if len(sending) < self.concurrency:
                            continue
                if not sending:
                    return not undelivered
                undelivered += self._outcome(*sending.popleft())
        finally:
            while sending:  # only when something above raised
                undelivered += self._outcome(*sending.popleft())
            self.buffer.requeue(undelivered)  # in the order the batches were taken
            self._lock.release()

    def _send(self, batch: list[Pending], deadline: float | None) -> Future[list[Pending]]:
        """``_deliver`` on a thread of its own (daemon: a batch still retrying against a dead
        endpoint must not hold the interpreter's exit, which the exit flush bounds), or here
        when concurrency is 1 or no thread can start."""
        outcome: Future[list[Pending]] = Future()

        def deliver() -> None:
            try:
                outcome.set_result(self._deliver(batch, deadline))
            except BaseException as exc:
                outcome.set_exception(exc)

        if self.concurrency > 1:
            try:
                threading.Thread(target=deliver, name="lumi-events-send", daemon=True).start()
                return outcome
            except RuntimeError:  # interpreter shutting down
                pass
        deliver()
        return outcome

    def _outcome(self, batch: list[Pending], sent: Future[list[Pending]]) -> list[Pending]:
        """What is left of a batch once it is over (all of it, if sending it failed oddly)."""
        try:
            return sent.result()
        except Exception:  # a bug: the events are kept for a later round, never lost
            logger.exception("lumi.events: unexpected error while sending a batch; kept")
            return batch
        finally:
            self.in_flight -= len(batch)

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
