"""The retry policy: which requests may be repeated, after which outcomes, and how long to wait.

A request is *repeatable* when sending it twice has the effect of sending it once. The schema says
so per operation (``x-lumi-retry: safe``: reads, deletes, sign-in...) or per request
(``x-lumi-retry-when``: a create whose documents all carry a client-made ``_id``; an update whose
only operators are ``$set``/``$unset``). :func:`is_repeatable` is the one place that reads it.

A repeatable request is retried after a connection error, a timeout, a reply cut short, or HTTP
408/425/429/5xx. Any other request is retried only when it provably never left (connection
refused, DNS failure, connect timeout); once it may have reached the server, a failure is an
:class:`lumi.OutcomeUnknownError` and is not repeated.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import requests
import urllib3.exceptions
from urllib3.util.retry import Retry

from ._generated.operations import Operation
from .config import RetryPolicy

#: HTTP statuses worth another attempt: timeouts, "too early", rate limits, server errors.
#: The one list: the client's retries and the events delivery both use it.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def is_repeatable(operation: Operation, body: Any) -> bool:
    """Whether this request (``operation`` with this JSON-ready ``body``) may be sent again after
    it may have reached the server: the operation is ``safe``, or its ``x-lumi-retry-when`` rule
    holds for this body."""
    if operation.retry == "safe":
        return True
    when = operation.retry_when
    if when is None:
        return False
    if when.rule == "documents-have-id":
        documents = body if isinstance(body, list) else [body]
        return all(
            isinstance(doc, Mapping) and isinstance(doc.get("_id"), str) and doc["_id"] != ""
            for doc in documents
        )
    if when.rule == "idempotent-update":
        update = body.get(when.field) if isinstance(body, Mapping) else None
        return isinstance(update, Mapping) and all(
            isinstance(key, str) and (not key.startswith("$") or key in when.operators)
            for key in update
        )
    return False  # a rule this client does not know: assume the worst


def never_left(exc: BaseException) -> bool:
    """True when the request provably did not leave: DNS failure, refused, connect timeout."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return isinstance(reason, urllib3.exceptions.NewConnectionError)  # DNS errors included
    return False


def is_timeout(exc: BaseException) -> bool:
    """A connect or read timeout (requests reports a read timeout met while streaming the body
    as a ConnectionError around urllib3's ReadTimeoutError)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(reason, (urllib3.exceptions.ReadTimeoutError, TimeoutError))


def should_retry(
    *, repeatable: bool, status: int | None = None, failure: BaseException | None = None
) -> bool:
    """Whether one attempt's outcome (a reply's ``status``, or a transport ``failure``) may be
    followed by another attempt of a request that is (or is not) ``repeatable``."""
    if failure is not None:
        return never_left(failure) or repeatable
    return repeatable and status in RETRY_STATUSES


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


def backoff_seconds(policy: RetryPolicy, retry_number: int, retry_after: float | None) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based)."""
    if retry_after is not None:
        return min(retry_after, policy.retry_after_max)
    base: float = min(policy.backoff_base * 2.0 ** (retry_number - 1), policy.backoff_max)
    return base * (1 - 0.25 * random.random())
