"""The one code path every request takes: serialise once, sign those bytes, send with retries.

``Transport`` owns the ``requests.Session`` (connection pool, keep-alive) and is shared by a client
and every client derived from it; per-call state (token, timeouts, retry policy) is passed in.
Whatever happens on the wire, only :class:`lumi.LumiError` subclasses leave it, each carrying the
call's method, path, status, attempt count and request id.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from http.cookiejar import DefaultCookiePolicy
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import attrs
import requests
import urllib3.exceptions

from ._deadline import WATCHDOG, DeadlineAdapter
from ._generated.operations import Operation
from ._version import __version__
from .config import DEFAULT_RETRY, DEFAULT_TIMEOUT, RetryPolicy, Timeout
from .envelope import decode_envelope, excerpt
from .errors import (
    APIConnectionError,
    APITimeoutError,
    InvalidResponseError,
    LumiError,
    OutcomeUnknownError,
    OutcomeUnknownTimeoutError,
    ValidationError,
    with_context,
)
from .jsonenc import dumps_bytes
from .ratelimit import IdenticalRequestLimiter
from .retry import backoff_seconds, is_repeatable, is_timeout, never_left, parse_retry_after
from .retry import should_retry as _should_retry
from .signing import EMPTY_HASH, canonical_query, js_string, payload_hash, signed_headers

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
#: Reply headers read as the server's request id, first found wins.
REQUEST_ID_HEADERS = ("X-Request-Id", "Request-Id", "X-Correlation-Id")

#: Everything one attempt can raise from the HTTP stack, whatever the server sends.
ATTEMPT_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)

#: What requests raises for a request it cannot send at all (the caller's mistake).
_UNSENDABLE: tuple[type[BaseException], ...] = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)

#: A multipart part as requests takes it: (field, (file name, content, content type)).
FilePart = tuple[str, tuple[str, Any, str]]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` safe to log: secret values replaced by ``'<redacted>'``."""
    return {k: ("<redacted>" if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


#: The user-info part of a URL: after an optional scheme, up to the last "@" of the authority.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")


def redact_url(url: str) -> str:
    """``url`` without credentials (``http://user:pw@host`` -> ``http://***@host``), also when
    it is malformed (``user:pw@host``, no scheme): what an error message may show of a URL."""
    return _USERINFO.sub(r"\1***@", url, count=1)


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
    return out or None


def format_path(template: str, **params: str) -> str:
    """Fill a path template; each value is one percent-encoded path segment."""
    return _fill(template, params)


def _fill(template: str, params: Mapping[str, Any]) -> str:
    segments = {}
    for name, value in params.items():
        text = str(value)
        # Ids and names are mostly plain ASCII letters and digits: nothing to encode.
        segments[name] = text if text.isascii() and text.isalnum() else quote(text, safe="")
    return template.format_map(segments)


@attrs.define
class Request:
    """One call, prepared once: the body is serialised and hashed here, and these bytes are
    signed, counted by the rate limiter and sent by every attempt. Not changed after it is
    built (not frozen only because a frozen class costs microseconds on every call)."""

    operation: Operation
    path: str
    query: dict[str, Any] | None = None
    body: bytes | None = None
    repeatable: bool = False
    """Whether sending it twice is harmless (:func:`lumi.retry.is_repeatable`)."""
    query_text: str = ""
    """The canonical query (docs/protocol.md §2), for the signature and the limiter."""
    body_hash: str = EMPTY_HASH
    files: Callable[[], list[FilePart]] | None = None
    files_identity: tuple[Any, ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict)
    stream: bool = False

    @classmethod
    def build(
        cls,
        operation: Operation,
        path_params: Mapping[str, str] | None = None,
        *,
        json: Any = None,
        content: bytes | None = None,
        query: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Request:
        """``json`` (serialised here) or ``content`` (bytes as they are) is the body."""
        path = _fill(operation.path, path_params or {})
        body = content if json is None else dumps_bytes(json)
        wire = wire_query(query)
        return cls(
            operation=operation,
            path=path,
            query=wire,
            body=body,
            repeatable=is_repeatable(operation, json),
            query_text=canonical_query(wire),
            body_hash=payload_hash(body),
            **kwargs,
        )

    @property
    def description(self) -> str:
        return f"{self.operation.method.upper()} {self.path}"

    @property
    def identity(self) -> tuple[Any, ...]:
        """What makes two requests identical for the rate limiter."""
        op = self.operation
        return (op.method, self.path, self.query_text, self.body_hash, self.files_identity)


@attrs.frozen
class CallSettings:
    """Per-client settings used by the transport (built once per client)."""

    timeout: Timeout = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    limiter: IdenticalRequestLimiter | None = attrs.field(default=None, repr=False, eq=False)
    top_access: str | None = attrs.field(default=None, repr=False)
    """``TOP_ACCESS_KEY`` as read when the client was made (sent as ``X-Top-Access``)."""


@attrs.frozen
class Exchange:
    """A finished exchange: the response (body read unless it is an open stream) and how many
    attempts it took."""

    response: requests.Response
    attempts: int

    @property
    def request_id(self) -> str | None:
        return request_id(self.response)

    def locate(self, error: LumiError, method: str, path: str) -> LumiError:
        """``error`` with this exchange's context: the call, its status, attempts, request id."""
        return with_context(
            error,
            method=method,
            path=path,
            attempts=self.attempts,
            status=self.response.status_code,
            request_id=self.request_id,
        )


def request_id(response: requests.Response) -> str | None:
    """The server's request id from ``response``'s headers, if it sent one."""
    headers = response.headers
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value[:200]
    return None


class _Failure(Exception):
    """One attempt that did not produce a usable reply (internal to the transport)."""

    def __init__(self, cause: BaseException, response: requests.Response | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.response = response


class Transport:
    """Sends :class:`Request` objects to one base URL over one pooled ``requests.Session``.

    On a session it creates, the call deadline (``Timeout.total``) is enforced on the socket (see
    :mod:`lumi._deadline`); on a session passed in, it bounds each connect and read and is checked
    between attempts only.
    """

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
        self._watched = session is None
        self.session = session or self._new_session(self.base_url, pool_maxsize)
        host = urlsplit(self.base_url).netloc.rsplit("@", 1)[-1]
        self._where = f" ({host})" if host else ""

    @staticmethod
    def _new_session(base_url: str, pool_maxsize: int) -> requests.Session:
        session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_maxsize)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Clients derived for different users share this session: never let a cookie cross.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        session.headers["User-Agent"] = USER_AGENT
        # requests reads the environment (proxies, CA bundle, ~/.netrc) on every request; read it
        # once here instead. A ~/.netrc entry must never replace the bearer token either.
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle and base_url.startswith("https:"):  # (requests stats the path on every call)
            session.verify = bundle
        session.trust_env = False
        return session

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"Transport(base_url={redact_url(self.base_url)!r})"

    # -- public entry points ------------------------------------------------------------------
    def call(
        self,
        request: Request,
        settings: CallSettings,
        token: str | None = None,
        read: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Send an enveloped request and return the envelope's ``data``, passed through ``read``
        when given (whose LumiErrors, like every other, carry the call's method, path...)."""
        done = self.send(request, settings, token)
        response = done.response
        try:
            data = decode_envelope(
                response.status_code, response.reason or "", response.content, request.description
            )
            return data if read is None else read(data)
        except LumiError as error:
            raise self._located(error, request, done) from None

    def open_stream(
        self, request: Request, settings: CallSettings, token: str | None = None
    ) -> Exchange:
        """Send a streaming request; the caller owns (and must close) the open response.

        A non-2xx status, or a JSON envelope instead of a stream, raises the matching error.
        """
        done = self.send(request, settings, token)
        response = done.response
        if not _leave_open(request, response):  # an error status or an envelope: read in full
            try:
                decode_envelope(
                    response.status_code,
                    response.reason or "",
                    response.content,
                    request.description,
                )
                short = excerpt(response.content)
                raise InvalidResponseError(
                    response.status_code,
                    f"{request.description}: expected an event stream, got a JSON envelope",
                    short,
                )
            except LumiError as error:
                raise self._located(error, request, done) from None
        return done

    def send(self, request: Request, settings: CallSettings, token: str | None = None) -> Exchange:
        """Send with signing, retries and the deadline; the final reply (any status).

        The body is read in full, except for a 2xx reply to a ``stream`` request (not a JSON
        envelope) which is left open for the caller.
        """
        if settings.limiter is not None:
            try:
                settings.limiter.check(request.identity)
            except LumiError as error:
                raise self._located(error, request, None) from None
        policy = settings.retry
        total = settings.timeout.total
        deadline = None if total is None else time.monotonic() + total
        attempt = 0
        sent = False
        while True:
            attempt += 1
            try:
                response = self._attempt(request, settings, token, deadline)
            except _Failure as failure:
                sent = sent or not never_left(failure.cause)
                if failure.response is not None and isinstance(
                    failure.cause, requests.exceptions.ContentDecodingError
                ):
                    self._undecodable(request, failure, attempt)
                expired = deadline is not None and time.monotonic() >= deadline
                if expired or not _should_retry(
                    repeatable=request.repeatable, failure=failure.cause
                ):
                    self._fail(request, failure, attempt, sent, total if expired else None)
                wait = backoff_seconds(policy, attempt, None)
                if not self._may_retry(policy, attempt, wait, deadline):
                    self._fail(request, failure, attempt, sent, None)
                self._before_retry(request, policy, attempt, wait, _describe(failure.cause))
                continue
            sent = True
            status = response.status_code
            if _should_retry(repeatable=request.repeatable, status=status):
                wait = backoff_seconds(
                    policy, attempt, parse_retry_after(response.headers.get("Retry-After"))
                )
                if self._may_retry(policy, attempt, wait, deadline):
                    response.close()
                    self._before_retry(request, policy, attempt, wait, f"HTTP {status}")
                    continue
            return Exchange(response, attempt)

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _may_retry(policy: RetryPolicy, attempt: int, wait: float, deadline: float | None) -> bool:
        if attempt >= policy.max_attempts:
            return False
        return deadline is None or time.monotonic() + wait < deadline

    def _before_retry(
        self, request: Request, policy: RetryPolicy, attempt: int, wait: float, reason: str
    ) -> None:
        logger.warning(
            "lumi: retrying %s (attempt %d of %d) in %.2f s after %s",
            request.description,
            attempt + 1,
            policy.max_attempts,
            wait,
            reason,
        )
        (self._sleep or time.sleep)(wait)

    def _headers(
        self, request: Request, settings: CallSettings, token: str | None
    ) -> dict[str, str]:
        op = request.operation
        headers: dict[str, str] = {}
        if op.enveloped:
            headers["Accept"] = "application/json"
            if request.body is not None:
                headers["Content-Type"] = "application/json"
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if settings.top_access:
                headers["X-Top-Access"] = settings.top_access
        if request.stream:
            headers.update(STREAM_HEADERS)
        if request.headers:
            headers.update(request.headers)
        if op.signed:
            headers.update(signed_headers(request.query_text, request.body_hash))
        return headers

    def _attempt(
        self, request: Request, settings: CallSettings, token: str | None, deadline: float | None
    ) -> requests.Response:
        """One attempt: the response with its body read (unless an open stream), or _Failure."""
        headers = self._headers(request, settings, token)
        timeout = settings.timeout
        connect, read = timeout.connect, timeout.read
        watch = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            connect, read = min(connect, remaining), min(read, remaining)
            if self._watched:
                watch = WATCHDOG.start(deadline)
        response: requests.Response | None = None
        try:
            files = request.files() if request.files is not None else None
            started = time.perf_counter()
            response = self.session.request(
                request.operation.method,
                self.base_url + request.path,
                params=request.query,
                data=request.body,
                files=files,
                headers=headers,
                timeout=(max(connect, 0.001), max(read, 0.001)),
                stream=True,
                allow_redirects=False,
            )
            if not _leave_open(request, response):
                response.content  # noqa: B018 - read the whole body while the deadline watches
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "lumi: %s -> %d in %.1f ms; headers %s",
                    request.description,
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                    redact_headers(headers),
                )
            return response
        except _UNSENDABLE as exc:  # the request itself cannot be sent: nothing left
            # Not the exception's text: it quotes the bad header value, which may be a token.
            error = ValidationError(
                f"{request.description}: the request cannot be sent: {type(exc).__name__} "
                "(a header or the URL is not valid HTTP)"
            )
            raise self._located(error, request, None) from None
        except ATTEMPT_ERRORS as exc:
            if response is not None:
                response.close()
            raise _Failure(exc, response) from None
        finally:
            if watch is not None:
                WATCHDOG.end(watch)

    @staticmethod
    def _located(error: LumiError, request: Request, done: Exchange | None) -> LumiError:
        method, path = request.operation.method, request.path
        if done is None:
            return with_context(error, method=method, path=path, attempts=0)
        return done.locate(error, method, path)

    def _undecodable(self, request: Request, failure: _Failure, attempts: int) -> NoReturn:
        response = failure.response
        assert response is not None
        encoding = response.headers.get("Content-Encoding", "?")
        error = InvalidResponseError(
            response.status_code,
            f"{request.description}: the reply's body could not be decoded "
            f"(Content-Encoding: {encoding!r:.40})",
        )
        raise self._located(error, request, Exchange(response, attempts))

    def _fail(
        self,
        request: Request,
        failure: _Failure,
        attempts: int,
        sent: bool,
        deadline_seconds: float | None,
    ) -> NoReturn:
        what = f"{request.description}{self._where}"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        timed_out = deadline_seconds is not None or is_timeout(failure.cause)
        reason = (
            f"the call's deadline of {deadline_seconds:g} s (Timeout.total) passed"
            if deadline_seconds is not None
            else _describe(failure.cause)
        )
        cls: type[APIConnectionError]
        if not sent:
            cls = APITimeoutError if timed_out else APIConnectionError
            message = (
                f"{what} failed{tries}: {reason}. The request never reached the server: "
                "nothing was changed, and it is safe to try again."
            )
        elif request.repeatable:
            cls = APITimeoutError if timed_out else APIConnectionError
            message = f"{what} failed{tries}: {reason}. The call is safe to repeat."
        else:
            cls = OutcomeUnknownTimeoutError if timed_out else OutcomeUnknownError
            message = (
                f"{what}: outcome unknown: the request was sent, then {reason}. The server may "
                "or may not have applied it, so it was not repeated: read the data back before "
                "trying again (a create that carries its own _id from lumi.new_id() is safe to "
                "repeat)."
            )
        error = cls(message, request_sent=sent)
        if failure.response is not None:  # the reply had begun: its status and id are known
            raise self._located(error, request, Exchange(failure.response, attempts))
        raise with_context(
            error, method=request.operation.method, path=request.path, attempts=attempts
        )


def _leave_open(request: Request, response: requests.Response) -> bool:
    """A streaming request's 2xx reply is left open, unless an enveloped call answered JSON."""
    if not request.stream or not 200 <= response.status_code < 300:
        return False
    return not (request.operation.enveloped and "json" in response.headers.get("Content-Type", ""))


def _describe(exc: BaseException) -> str:
    """A short reason for a transport failure, without the URL (whose query may hold secrets)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout) or is_timeout(exc):
        return "read timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke while the reply was read"
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
    text = text[:200]
    if not text.isprintable():  # a server's bytes (a bad status line): shown escaped, one line
        text = repr(text)
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


__all__ = [
    "CallSettings",
    "Exchange",
    "Request",
    "Transport",
    "excerpt",
    "format_path",
    "redact_headers",
    "redact_url",
    "wire_query",
]
