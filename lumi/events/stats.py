"""Delivery counters (``tracker.stats()``) and a rate-limited warning."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("lumi.events")

#: The counters and their meaning, in the order ``stats()`` returns them.
COUNTERS: dict[str, str] = {
    "enqueued": "events accepted into the buffer (finish(), identify(), ...)",
    "sent": "events the endpoint acknowledged (2xx)",
    "retried": "retry attempts of a batch after a failed send",
    "failed": "events in batches that exhausted their retries (put back in the buffer, not lost)",
    "dropped": "events refused because the buffer was full (lost)",
    "rejected": "events the endpoint refused for good (4xx other than 408/429; lost)",
    "sampled_out": "events not kept by sampling (never enqueued, not a loss)",
    "mask_failures": "contents redacted because mask_fn raised or returned a non-str",
    "recovered": "events read back from the spool of an earlier process",
    "spool_errors": "events that could not be written to the spool (kept in memory only)",
    "batches": "batches acknowledged",
    "provider_errors": "exceptions raised by a UI or system analytics provider (logged, never raised)",
}


class Stats:
    """Thread-safe counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(COUNTERS, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def get(self, name: str) -> int:
        with self._lock:
            return self._values[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class RateLimitedWarning:
    """Logs a warning at most once per ``interval_s``, with the number of occurrences since."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self._interval = interval_s
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._suppressed = 0

    def __call__(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._interval:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        if suppressed:
            logger.warning(message + " (%d more since the last warning)", *args, suppressed)
        else:
            logger.warning(message, *args)
