"""Client settings as small immutable values: timeouts, retries, the rate-limit parity rule."""

from __future__ import annotations

from typing import Any

import attrs

from .errors import ValidationError


def _positive(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(
            f"Timeout.{attribute.name} must be a positive number of seconds, got {value!r:.40}"
        )


def _positive_or_none(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive(instance, attribute, value)


@attrs.frozen
class Timeout:
    """Seconds to wait: to connect, between two reads of the reply, and for the whole call.

    ``total`` is the call's deadline: connecting, sending, every retry and the waits between
    them, and reading the whole reply (for a stream: until it is open) end by then, whatever the
    server does (a reply that drips one byte at a time included), with
    :class:`lumi.APITimeoutError`. ``None`` means no deadline.
    """

    connect: float = attrs.field(default=5.0, validator=_positive)
    read: float = attrs.field(default=60.0, validator=_positive)
    total: float | None = attrs.field(default=120.0, validator=_positive_or_none)


@attrs.frozen
class RetryPolicy:
    """How a failed call is repeated.

    ``max_attempts`` counts the first try. The wait before retry ``n`` (1-based) is
    ``min(backoff_base * 2**(n-1), backoff_max)`` scaled by a random factor in [0.75, 1],
    or the server's ``Retry-After`` (capped at ``retry_after_max``). No retry starts if its wait
    would cross the call's deadline (``Timeout.total``).
    """

    max_attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0

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
