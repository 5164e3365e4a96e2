"""Client-side parity with the JavaScript client: a 5th identical request within 1 s fails (10429)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque

from .config import RateLimit
from .errors import RateLimitError


class IdenticalRequestLimiter:
    """Counts identical requests (same method, path, query and body) over a sliding window."""

    def __init__(self, rule: RateLimit) -> None:
        self._rule = rule
        self._lock = threading.Lock()
        self._seen: dict[bytes, deque[float]] = {}

    def check(self, *key: object) -> None:
        """Record one request with this identity, or raise RateLimitError if over the limit."""
        hasher = hashlib.sha256()
        for part in key:  # bodies are hashed as bytes; a repr() of them would cost far more
            hasher.update(part if isinstance(part, bytes) else repr(part).encode())
            hasher.update(b"\0")
        digest = hasher.digest()
        now = time.monotonic()
        window_start = now - self._rule.per_seconds
        with self._lock:
            stamps = self._seen.setdefault(digest, deque())
            while stamps and stamps[0] <= window_start:
                stamps.popleft()
            if len(stamps) >= self._rule.max_identical:
                raise RateLimitError(
                    f"Too many requests: more than {self._rule.max_identical} identical requests "
                    f"within {self._rule.per_seconds:g} s"
                )
            stamps.append(now)
            if len(self._seen) > 1024:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._seen.items() if not v or v[-1] <= window_start]:
                    del self._seen[stale]
