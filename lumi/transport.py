"""The one code path every request takes: serialise once, sign those bytes, send with retries.

``Transport`` owns the ``requests.Session`` (connection pool, keep-alive) and is shared by a client
and every client derived from it; per-call state (token, timeouts, retry policy) is passed in.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import attrs
import requests
import requests.adapters

from ._version import __version__
from .config import DEFAULT_RETRY, DEFAULT_TIMEOUT, RetryPolicy, Timeout
from .envelope import decode_envelope, excerpt
from .errors import ConnectionError, LumiError, TimeoutError, TransportError
from .jsonenc import dumps_bytes
from .ratelimit import IdenticalRequestLimiter
from .retry import backoff_seconds, retry_after_seconds, should_retry
from .signing import js_string, sign_headers

logger = logging.getLogger("lumi")

USER_AGENT = f"lumi-python/{__version__}"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-top-access", "x-sign", "x-api-key", "cookie", "set-cookie"}
)
STREAM_HEADERS = {
    "Accept": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}

#: A multipart part as requests takes it: (field, (file name, content, content type)).
FilePart = tuple[str, tuple[str, Any, str]]


class OperationLike(Protocol):
    @property
    def operation_id(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def retry(self) -> str: ...
    @property
    def enveloped(self) -> bool: ...
    @property
    def signed(self) -> bool: ...


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log: secret values replaced by ``'<redacted>'``."""
    return {k: ("<redacted>" if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def wire_query(query: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query values as JavaScript writes them (``true``, not ``True``); lists stay repeated keys."""
    if not query:
        return None
    out: dict[str, Any] = {}
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out[key] = [js_string(item) for item in value]
        else:
            out[key] = js_string(value)
    return out


def format_path(template: str, **params: str) -> str:
    """Fill a path template; each value is one percent-encoded path segment."""
    return template.format(**{k: quote(str(v), safe="") for k, v in params.items()})


@attrs.frozen
class Request:
    """One call, prepared once: the body is serialised here and these bytes are signed and sent."""

    operation: OperationLike
    path: str
    query: dict[str, Any] | None = None
    body: bytes | None = None
    files: Callable[[], list[FilePart]] | None = None
    files_identity: tuple[Any, ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict)
    stream: bool = False

    @classmethod
    def build(
        cls,
        operation: OperationLike,
        path_params: Mapping[str, str] | None = None,
        *,
        json: Any = None,
        query: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Request:
        path = format_path(operation.path, **(path_params or {}))
        body = None if json is None else dumps_bytes(json)
        return cls(operation=operation, path=path, query=wire_query(query), body=body, **kwargs)

    @property
    def description(self) -> str:
        return f"{self.operation.method.upper()} {self.path}"


@attrs.frozen
class CallSettings:
    """Per-client (and per-call, via ``with_options``) settings used by the transport."""

    timeout: Timeout = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    token: str | None = attrs.field(default=None, repr=False)
    limiter: IdenticalRequestLimiter | None = attrs.field(default=None, repr=False, eq=False)


class Transport:
    """Sends :class:`Request` objects to one base URL over one pooled ``requests.Session``."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        pool_maxsize: int = 32,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._sleep = sleep
        self.session = session or self._new_session(pool_maxsize)

    @staticmethod
    def _new_session(pool_maxsize: int) -> requests.Session:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Clients derived for different users share this session: never let a cookie cross.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        session.headers["User-Agent"] = USER_AGENT
        return session

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    # -- public entry points ------------------------------------------------------------------
    def call(self, request: Request, settings: CallSettings) -> Any:
        """Send an enveloped request and return the envelope's ``data``."""
        response = self.send(request, settings)
        return decode_envelope(
            response.status_code, response.reason or "", response.content, request.description
        )

    def open_stream(self, request: Request, settings: CallSettings) -> requests.Response:
        """Send a streaming request; the caller owns (and must close) the returned response.

        A non-2xx status, or a JSON envelope instead of a stream, raises the matching error.
        """
        response = self.send(attrs.evolve(request, stream=True), settings)
        content_type = response.headers.get("Content-Type", "")
        if not 200 <= response.status_code < 300 or "json" in content_type:
            try:
                body = response.content
            finally:
                response.close()
            decode_envelope(response.status_code, response.reason or "", body, request.description)
            raise TransportError(f"{request.description}: expected an event stream, got JSON")
        return response

    def send(self, request: Request, settings: CallSettings) -> requests.Response:
        """Send with signing and retries; returns the final response (any status)."""
        op = request.operation
        if settings.limiter is not None:
            settings.limiter.check(
                op.method, request.path, request.query, request.body, request.files_identity
            )
        policy = settings.retry
        retry_kind: Literal["safe", "unsafe"] = "safe" if op.retry == "safe" else "unsafe"
        started = time.monotonic()
        attempt = 1
        while True:
            outcome: requests.Response | requests.RequestException
            try:
                outcome = self._send_once(request, settings)
            except requests.RequestException as exc:
                outcome = exc
            if not self._retry(request, policy, retry_kind, outcome, attempt, started):
                break
            attempt += 1
        if isinstance(outcome, requests.RequestException):
            raise _transport_error(request, outcome, attempt) from None
        return outcome

    # -- internals ---------------------------------------------------------------------------
    def _retry(
        self,
        request: Request,
        policy: RetryPolicy,
        kind: Literal["safe", "unsafe"],
        outcome: requests.Response | requests.RequestException,
        attempt: int,
        started: float,
    ) -> bool:
        if attempt >= policy.max_attempts or not should_retry(outcome, kind):
            return False
        response = outcome if isinstance(outcome, requests.Response) else None
        wait = backoff_seconds(policy, attempt, retry_after_seconds(response))
        if time.monotonic() - started + wait > policy.total_timeout:
            return False
        if response is not None:
            reason = f"HTTP {response.status_code}"
            response.close()
        else:
            reason = _describe(outcome)  # type: ignore[arg-type]
        logger.warning(
            "lumi: retrying %s (attempt %d of %d) in %.2f s after %s",
            request.description,
            attempt + 1,
            policy.max_attempts,
            wait,
            reason,
        )
        (self._sleep or time.sleep)(wait)
        return True

    def _send_once(self, request: Request, settings: CallSettings) -> requests.Response:
        op = request.operation
        headers: dict[str, str] = {}
        if op.enveloped:
            headers["Accept"] = "application/json"
            if request.body is not None:
                headers["Content-Type"] = "application/json"
            if settings.token:
                headers["Authorization"] = f"Bearer {settings.token}"
            top_access = os.environ.get("TOP_ACCESS_KEY")
            if top_access:
                headers["X-Top-Access"] = top_access
        if request.stream:
            headers.update(STREAM_HEADERS)
        headers.update(request.headers)
        if op.signed:
            headers.update(sign_headers(request.query, request.body))
        files = request.files() if request.files is not None else None
        started = time.perf_counter()
        response = self.session.request(
            op.method.upper(),
            self.base_url + request.path,
            params=request.query,
            data=request.body,
            files=files,
            headers=headers,
            timeout=settings.timeout.as_requests(),
            stream=request.stream,
            allow_redirects=False,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "lumi: %s -> %d in %.1f ms; headers %s",
                request.description,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                redact_headers(headers),
            )
        return response


def _describe(exc: BaseException) -> str:
    """A short reason for a transport failure, without the URL (whose query may hold secrets)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timeout"
    inner: BaseException = exc
    seen = 0
    while seen < 8:
        seen += 1
        nxt = getattr(inner, "reason", None) or (inner.args[0] if inner.args else None)
        if isinstance(nxt, BaseException):
            inner = nxt
            continue
        cause = inner.__cause__ or inner.__context__
        if cause is None:
            break
        inner = cause
    text = str(inner)
    if ": " in text and (
        "Connection" in type(inner).__name__ or "Resolution" in type(inner).__name__
    ):
        text = text.rsplit(": ", 1)[-1]
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


def _transport_error(request: Request, exc: requests.RequestException, attempts: int) -> LumiError:
    host = urlsplit(exc.request.url if exc.request is not None and exc.request.url else "").netloc
    where = f" ({host})" if host else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    message = f"{request.description}{where} failed{tries}: {_describe(exc)}"
    if isinstance(exc, requests.exceptions.Timeout):
        return TimeoutError(message)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ConnectionError(message)
    return TransportError(message)


__all__ = [
    "CallSettings",
    "Request",
    "Transport",
    "excerpt",
    "format_path",
    "redact_headers",
    "wire_query",
]
