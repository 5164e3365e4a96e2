"""The delivery pipeline of one tracker: buffer -> (spool) -> worker thread -> endpoint.

``submit`` is all a caller pays: an optional spool write, an append to the bounded buffer, and
(first time only) starting the worker. The worker wakes every ``flush_interval_ms``, when the
buffer reaches ``max_batch_bytes``, or on ``flush()``. ``sync_mode`` sends in the caller instead.
After ``os.fork()`` the child calls :meth:`Pipeline.for_child`: a fresh buffer, worker, HTTP
session and spool directory (the parent still owns, and delivers, what it had buffered).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .buffer import EventBuffer, Pending
from .config import TrackerConfig
from .delivery import Delivery
from .spool import Spool
from .stats import RateLimitedWarning, Stats
from .transport import HttpSender, Sender

logger = logging.getLogger("lumi.events")

SenderFactory = Callable[[TrackerConfig], Sender]

#: Batches on the wire at once: while one waits for its answer (a round trip to the ingest)
#: the next is sent. More would reorder events further for little gain.
CONCURRENT_BATCHES = 2


def http_sender(config: TrackerConfig) -> Sender:
    assert config.url is not None
    return HttpSender(config.url, config.write_key, connections=CONCURRENT_BATCHES)


class Pipeline:
    """Owns the buffer, the delivery loop, the worker thread and the spool of one process."""

    def __init__(
        self,
        config: TrackerConfig,
        *,
        stats: Stats | None = None,
        sender_factory: SenderFactory = http_sender,
        start_worker: bool = True,
        recover: bool = True,
    ) -> None:
        self.config = config
        self._sender_factory = sender_factory
        self._start_worker = start_worker and not config.sync_mode
        self.stats = stats if stats is not None else Stats()
        self.buffer = EventBuffer(config.max_queue_events, config.max_batch_bytes)
        self._kick = threading.Event()
        self.sender = sender_factory(config)
        self.delivery = Delivery(
            self.buffer,
            self.sender,
            self.stats,
            max_batch_bytes=config.max_batch_bytes,
            retry_delays_s=tuple(d / 1000 for d in config.retry_delays_ms),
            jitter=config.retry_jitter,
            max_retry_after_s=config.max_retry_after_s,
            connect_timeout_s=config.connect_timeout_s,
            read_timeout_s=config.read_timeout_s,
            on_done=self._acknowledged,
            wait=self._interruptible_wait,
            concurrency=CONCURRENT_BATCHES,
        )
        self.spool = Spool(config.spool_dir, fsync=config.spool_fsync) if config.spool_dir else None
        self._drop_warning = RateLimitedWarning()
        self._spool_warning = RateLimitedWarning()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._stopping = False
        self.closed = False
        self._flush_requested = 0
        self._flush_done = 0
        self._flush_ok = True
        self._backoff_until = 0.0
        self._behind_bytes = 2 * config.max_batch_bytes
        if self.spool is not None and recover:
            self._recover()

    # -- caller side ---------------------------------------------------------------------------
    def submit(self, item: Pending) -> bool:
        """Accept one event without blocking; False (counted as dropped) when the buffer is full."""
        if self.closed or not self.buffer.has_room():
            self.stats.add("dropped")
            self._drop_warning(
                "lumi.events: %s; an event was dropped",
                "the tracker is shut down" if self.closed else "the event buffer is full",
            )
            return False
        if self.spool is not None:
            self._spool(item)
        self.buffer.push(item, force=True)
        self.stats.add("enqueued")
        if self.config.sync_mode:
            self.delivery.drain()
        elif self._thread is None:
            if self._start_worker:
                self._ensure_worker()
        elif self.buffer.approx_bytes >= self._behind_bytes:
            # The worker is more than two batches behind. A caller that records without pause
            # (a loop) holds the interpreter lock for whole switch intervals, and the worker,
            # which gives the lock up at each socket call, gets it back only after one: hand it
            # over now. This yields the lock; it never waits for the network.
            time.sleep(0)
        return True

    def _spool(self, item: Pending) -> None:
        assert self.spool is not None
        try:
            line = item.data()
        except Exception as exc:  # a builder bug: delivery would fail the same way later
            logger.error("lumi.events: event %s could not be encoded (%s)", item.event_id, exc)
            return
        try:
            item.ack_token = self.spool.append(line)
        except OSError as exc:  # disk full, permissions: keep the event in memory at least
            self.stats.add("spool_errors")
            self._spool_warning(
                "lumi.events: could not write to the spool (%s); in memory only", exc
            )

    def pending(self) -> int:
        """Events accepted and not yet delivered (buffered or in flight)."""
        return len(self.buffer) + self.delivery.in_flight

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver what is buffered; True when everything got out within ``timeout`` seconds."""
        if self.pending() == 0:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._worker_alive():
            return self.delivery.drain(deadline)
        cond = self.buffer.cond
        with cond:
            self._flush_requested += 1
            ticket = self._flush_requested
            if deadline is not None:
                current = self.delivery.deadline
                self.delivery.deadline = deadline if current is None else min(current, deadline)
            cond.notify_all()
        self._kick.set()
        with cond:
            while self._flush_done < ticket:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                cond.wait(remaining)
            return self._flush_ok and self.pending() == 0

    def request_flush(self) -> None:
        """Wake the worker to send now, without waiting for it."""
        if not self._worker_alive():
            return
        with self.buffer.cond:
            self._flush_requested += 1
            self.buffer.cond.notify_all()

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush within ``timeout`` seconds, then stop the worker and close the spool."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = self.flush(timeout)
        self.closed = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            with self.buffer.cond:
                self._stopping = True
                self.buffer.cond.notify_all()
            self._kick.set()
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self.spool is not None and not (thread is not None and thread.is_alive()):
            self.spool.close()
        if not (thread is not None and thread.is_alive()):
            self.sender.close()
        return ok and self.pending() == 0

    def for_child(self, stats: Stats | None = None) -> Pipeline:
        """The pipeline a forked child continues with (nothing shared with the parent)."""
        if self.spool is not None:
            self.spool.abandon_after_fork()
        child = Pipeline(
            self.config,
            stats=stats,
            sender_factory=self._sender_factory,
            start_worker=self._start_worker,
            recover=False,
        )
        child.closed = self.closed
        return child

    # -- worker side ---------------------------------------------------------------------------
    def _worker_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _ensure_worker(self) -> None:
        with self._thread_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="lumi-events-worker", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: flush()/the exit hook drain inline
                return
            self._thread = thread

    def _interruptible_wait(self, seconds: float) -> None:
        # Backoff sleeps end early on flush()/shutdown() so a new deadline is honoured at once.
        if self._kick.wait(seconds):
            self._kick.clear()

    def _should_wake(self, next_tick: float) -> bool:
        if self._stopping or self._flush_requested > self._flush_done:
            return True
        now = time.monotonic()
        if now < self._backoff_until:
            return False
        return now >= next_tick or self.buffer.approx_bytes >= self.config.max_batch_bytes

    def _run(self) -> None:
        interval = self.config.flush_interval_ms / 1000
        next_tick = time.monotonic() + interval
        cond = self.buffer.cond
        while True:
            with cond:
                while not self._should_wake(next_tick):
                    wake_at = max(next_tick, self._backoff_until)
                    cond.wait(max(0.0, wake_at - time.monotonic()))
                ticket = self._flush_requested
                stopping = self._stopping
            try:
                ok = self.delivery.drain()
            except Exception:  # never let the worker die: the buffer would grow forever
                logger.exception("lumi.events: unexpected error in the delivery worker")
                ok = False
            with cond:
                if ticket >= self._flush_done:
                    self._flush_done = ticket
                    self._flush_ok = ok
                if self._flush_done >= self._flush_requested:
                    self.delivery.deadline = None
                cond.notify_all()
            next_tick = time.monotonic() + interval
            self._backoff_until = 0.0 if ok else next_tick
            if stopping:
                return

    # -- spool ---------------------------------------------------------------------------------
    def _acknowledged(self, items: list[Pending]) -> None:
        if self.spool is None:
            return
        for item in items:
            if item.ack_token is not None:
                self.spool.ack(item.ack_token)

    def _recover(self) -> None:
        assert self.spool is not None
        count = 0
        for line, token in self.spool.recover():
            item = Pending(_event_id_of(line), data=line)
            item.ack_token = token
            self.buffer.push(item, force=True)  # accepted before: never dropped for capacity
            count += 1
        if count:
            self.stats.add("recovered", count)
            logger.info("lumi.events: recovered %d undelivered events from the spool", count)
            if self._start_worker:
                self._ensure_worker()


def _event_id_of(line: bytes) -> str:
    import json

    try:
        value = json.loads(line).get("event_id")
    except (ValueError, AttributeError):
        return "?"
    return value if isinstance(value, str) else "?"
