"""Client settings as small immutable values: timeouts, retries, the rate-limit parity rule."""

from __future__ import annotations

import attrs


@attrs.frozen
class Timeout:
    """Seconds to wait to connect, and between bytes of the reply."""

    connect: float = 5.0
    read: float = 60.0

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


@attrs.frozen
class RetryPolicy:
    """How a failed call is repeated.

    ``max_attempts`` counts the first try. The wait before retry ``n`` (1-based) is
    ``min(backoff_base * 2**(n-1), backoff_max)`` scaled by a random factor in [0.75, 1],
    or the server's ``Retry-After`` (capped at ``retry_after_max``). No retry starts once
    ``total_timeout`` seconds have passed since the first try, or if its wait would cross it.
    """

    max_attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    total_timeout: float = 120.0

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


@attrs.frozen
class RateLimit:
    """The JavaScript client's rule: at most ``max_identical`` identical requests per ``per_seconds``;
    one more fails with code 10429 before it is sent."""

    max_identical: int = 4
    per_seconds: float = 1.0


DEFAULT_TIMEOUT = Timeout()
DEFAULT_RETRY = RetryPolicy()
DEFAULT_RATE_LIMIT = RateLimit()
