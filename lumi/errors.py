"""The exception tree. Every failure the client can meet surfaces as one of these::

    LumiError(code, message)         .method .path .status .attempts .request_id
    ├── APIError                     the server answered an envelope with code != 200
    │   ├── AuthenticationError      code 2100: the token is invalid or expired (the client drops it)
    │   └── NotFoundError            the server said the thing does not exist
    ├── ValidationError              10400: a bad call, refused before any request
    │   ├── BrowserOnlyError         10400: pop-up sign-in etc. need a browser
    │   └── SchemaError              10400: the caller's data does not fit its typed class
    ├── RateLimitError               10429: the client-side limit of identical requests
    ├── APIConnectionError           the exchange did not complete (.request_sent); also a
    │   │                            builtin ConnectionError. Old names: TransportError,
    │   │                            ConnectionError
    │   ├── APITimeoutError          connect/read timeout or the call's deadline passed; also a
    │   │                            builtin TimeoutError. Old name: TimeoutError
    │   └── OutcomeUnknownError      a request that is not safe to repeat was sent, then the
    │       │                        exchange broke: the write may or may not have happened
    │       └── OutcomeUnknownTimeoutError   the same, by a timeout (also an APITimeoutError)
    └── HTTPStatusError              a non-2xx status (.status, .body_excerpt)
        ├── InvalidResponseError     a reply that does not fit: not JSON, not an envelope, data
        │                            that does not fit its model (names the field)
        └── FunctionError            a serverless function answered a non-2xx status (.data)

Every error carries ``method`` and ``path`` of the call (None before any request), ``status``
(the HTTP status, None when no reply came), ``attempts`` (how many were sent) and ``request_id``
(from the reply's ``X-Request-Id`` header, when there is one). Messages and reprs never contain
tokens, passwords, API keys, signatures or credentials from a URL.
"""

from __future__ import annotations

import builtins

# Known codes (docs/protocol.md §1).
CODE_OK = 200
CODE_INVALID_TOKEN = 2100
CODE_BAD_REQUEST = 10400
CODE_RATE_LIMITED = 10429
CODE_POPUP_CLOSED = 10499
CODE_POPUP_FAILED = 10500
#: Codes this library uses for failures that have no server code.
CODE_TRANSPORT = -1
CODE_HTTP = -2


class LumiError(Exception):
    """Root of every error raised by ``lumi``: a numeric ``code`` and a human ``message``."""

    method: str | None = None
    """The HTTP method of the call that failed (None when no request was made)."""
    path: str | None = None
    """The path of the call that failed, without the query."""
    status: int | None = None
    """The HTTP status of the last reply, None when none came."""
    attempts: int = 0
    """How many attempts were sent (0: refused before sending)."""
    request_id: str | None = None
    """The server's id for the last reply (``X-Request-Id``), when it sent one."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.code, self.message, dict(self.__dict__)))


def _rebuild(cls: type[LumiError], code: int, message: str, state: dict[str, object]) -> LumiError:
    error = cls.__new__(cls)
    LumiError.__init__(error, code, message)
    error.__dict__.update(state)
    return error


def with_context(
    error: LumiError,
    *,
    method: str,
    path: str,
    attempts: int,
    status: int | None = None,
    request_id: str | None = None,
) -> LumiError:
    """Fill in where ``error`` happened (the transport calls this for every error of a call)."""
    error.method = method
    error.path = path
    error.attempts = attempts
    if status is not None:
        error.status = status
    if request_id is not None:
        error.request_id = request_id
    return error


class APIError(LumiError):
    """The server answered with an envelope whose ``code`` is not 200."""


class AuthenticationError(APIError):
    """Code 2100: the user token is invalid or expired. The client has dropped its token."""


class NotFoundError(APIError):
    """The server answered that the requested object does not exist."""


class ValidationError(LumiError):
    """Code 10400: the call is invalid and was refused before any request was sent."""

    def __init__(self, message: str, code: int = CODE_BAD_REQUEST) -> None:
        super().__init__(code, message)


class BrowserOnlyError(ValidationError):
    """Code 10400: the method needs a browser (pop-up sign-in); the message says what to use."""


class SchemaError(ValidationError):
    """Data does not fit its typed class; the message names the class and the field."""


class RateLimitError(LumiError):
    """Code 10429: too many identical requests within one second (client-side parity limit)."""

    def __init__(self, message: str = "Too many requests") -> None:
        super().__init__(CODE_RATE_LIMITED, message)


class APIConnectionError(LumiError, builtins.ConnectionError):
    """The HTTP exchange did not complete: no connection, or it broke before the whole reply.

    ``request_sent`` is False when the request provably never left (connection refused, DNS
    failure, connect timeout): nothing happened on the server and repeating is safe. Also a
    builtin :class:`ConnectionError`, so ``except ConnectionError`` catches it.
    """

    def __init__(self, message: str, *, request_sent: bool = True, code: int = CODE_TRANSPORT):
        super().__init__(code, message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError, builtins.TimeoutError):
    """The connect or read timeout passed, or the call's deadline (``Timeout(total=...)``).
    Also a builtin :class:`TimeoutError`."""


class OutcomeUnknownError(APIConnectionError):
    """A request that is not safe to repeat (a create, an ``$inc`` update, an email...) was sent
    and the exchange then broke: the server may or may not have applied it. It was not retried.
    Check before repeating it (read the data back), or make it repeatable (a create with a
    client-made ``_id``: :func:`lumi.new_id`)."""


class OutcomeUnknownTimeoutError(OutcomeUnknownError, APITimeoutError):
    """An :class:`OutcomeUnknownError` caused by a timeout; also an :class:`APITimeoutError`."""


#: The former names, kept: the same classes (they now also subclass the builtins).
TransportError = APIConnectionError
ConnectionError = APIConnectionError
TimeoutError = APITimeoutError


class HTTPStatusError(LumiError):
    """A non-2xx HTTP status, or a reply that is not what the call expects.

    ``status`` is the HTTP status and ``body_excerpt`` a short, printable start of the body.
    """

    def __init__(self, status: int, message: str, body_excerpt: str = "") -> None:
        super().__init__(CODE_HTTP, message)
        self.status = status
        self.body_excerpt = body_excerpt


class InvalidResponseError(HTTPStatusError):
    """The reply could not be used: not JSON, not an envelope, or data that does not fit its
    model (``field`` names where, when known)."""

    def __init__(
        self, status: int, message: str, body_excerpt: str = "", field: str | None = None
    ) -> None:
        super().__init__(status, message, body_excerpt)
        self.field = field


class FunctionError(HTTPStatusError):
    """A function answered a non-2xx status. ``data`` is its parsed JSON body (or text)."""

    def __init__(self, status: int, message: str, body_excerpt: str, data: object) -> None:
        super().__init__(status, message, body_excerpt)
        self.data = data
