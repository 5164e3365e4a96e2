"""The one retry decision and the one backoff function.

An operation is *safe* (repeatable: GET, PUT, DELETE and the POSTs that only read) or *unsafe*;
the schema says which (``x-lumi-retry``). Safe calls retry on connection errors, timeouts, and
HTTP 408/429/5xx. Unsafe calls retry only when the request provably never reached the server:
the connection was refused, the name did not resolve, or the connect phase timed out.
"""

from __future__ import annotations

import random
from typing import Literal

import requests
import urllib3.exceptions
from urllib3.util.retry import Retry

from .config import RetryPolicy

#: HTTP statuses worth another attempt: timeouts, "too early", rate limits, server errors.
#: The one list: the client's retries and the events delivery both use it.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

Outcome = requests.Response | requests.RequestException


def never_reached_server(exc: requests.RequestException) -> bool:
    """True when the request provably did not leave: DNS failure, refused, connect timeout."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return isinstance(reason, urllib3.exceptions.NewConnectionError)  # DNS errors included
    return False


def should_retry(outcome: Outcome, retry: Literal["safe", "unsafe"]) -> bool:
    """Whether this outcome of one attempt may be retried for an operation of this kind."""
    if isinstance(outcome, requests.RequestException):
        if never_reached_server(outcome):
            return True
        return retry == "safe" and isinstance(
            outcome, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
        )
    return retry == "safe" and outcome.status_code in RETRY_STATUSES


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` value in seconds (delay or HTTP date; urllib3 parses it), or None when
    absent or malformed. The one parser: the client and the events delivery both use it."""
    if not value:
        return None
    try:
        seconds: float = Retry().parse_retry_after(value.strip())
    except (urllib3.exceptions.InvalidHeader, ValueError, OverflowError):
        return None
    return max(0.0, seconds)


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """The ``Retry-After`` header of ``response`` in seconds, if any."""
    return None if response is None else parse_retry_after(response.headers.get("Retry-After"))


def backoff_seconds(policy: RetryPolicy, retry_number: int, retry_after: float | None) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based)."""
    if retry_after is not None:
        return min(retry_after, policy.retry_after_max)
    base: float = min(policy.backoff_base * 2.0 ** (retry_number - 1), policy.backoff_max)
    return base * (1 - 0.25 * random.random())
