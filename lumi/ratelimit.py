"""Client-side parity with the JavaScript client: a 5th identical request within 1 s fails (10429)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Hashable

from .config import RateLimit
from .errors import RateLimitError

#: Distinct requests remembered at most. Only requests seen within the last window are kept, so
#: this bound matters only above this many distinct requests per window.
MAX_KEYS = 65_536


class IdenticalRequestLimiter:
    """Counts identical requests over a sliding window; O(1) per check, bounded memory.

    Keys are kept in the order they were last checked, so the ones idle for a whole window are
    always at the front and each check forgets them there (every key is forgotten once).
    """

    def __init__(self, rule: RateLimit, max_keys: int = MAX_KEYS) -> None:
        self._rule = rule
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._seen: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def check(self, key: Hashable) -> None:
        """Record one request with this identity, or raise RateLimitError if over the limit."""
        now = time.monotonic()
        window_start = now - self._rule.per_seconds
        seen = self._seen
        with self._lock:
            while seen:
                oldest = next(iter(seen.values()))
                if oldest and oldest[-1] > window_start and len(seen) < self._max_keys:
                    break
                seen.popitem(last=False)
            stamps = seen.get(key)
            if stamps is None:
                stamps = seen[key] = deque()
            else:
                seen.move_to_end(key)
                while stamps and stamps[0] <= window_start:
                    stamps.popleft()
            if len(stamps) >= self._rule.max_identical:
                raise RateLimitError(
                    f"Too many requests: more than {self._rule.max_identical} identical requests "
                    f"within {self._rule.per_seconds:g} s"
                )
            stamps.append(now)
