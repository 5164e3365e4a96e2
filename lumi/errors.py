"""The exception tree. Every failure the client can meet surfaces as one of these::

    LumiError(code, message)
    ├── APIError                 the server answered an envelope with code != 200
    │   ├── AuthenticationError  code 2100: the token is invalid or expired (the client drops it)
    │   └── NotFoundError        the server said the thing does not exist
    ├── ValidationError          10400: a bad call, refused before any request
    │   ├── BrowserOnlyError     10400: pop-up sign-in etc. need a browser
    │   └── SchemaError          10400: data that does not fit its typed class (names the field)
    ├── RateLimitError           10429: the client-side limit of identical requests
    ├── TransportError           the request did not complete
    │   ├── ConnectionError      could not connect (DNS, refused, reset)
    │   └── TimeoutError         connect or read timeout
    └── HTTPStatusError          a non-2xx status, or a 2xx body that is not a valid envelope
        ├── InvalidResponseError the body could not be decoded (HTML from a proxy, truncated JSON)
        └── FunctionError        a serverless function answered a non-2xx status (``.data``)

Messages never contain tokens, passwords, API keys or signatures.
"""

from __future__ import annotations

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


class TransportError(LumiError):
    """The HTTP exchange did not complete."""

    def __init__(self, message: str, code: int = CODE_TRANSPORT) -> None:
        super().__init__(code, message)


class ConnectionError(TransportError):
    """Could not connect, or the connection broke (DNS, refused, reset)."""


class TimeoutError(TransportError):
    """The connect or read timeout passed."""


class HTTPStatusError(LumiError):
    """A non-2xx HTTP status, or a reply that is not a valid envelope.

    ``status`` is the HTTP status and ``body_excerpt`` a short, printable start of the body.
    """

    def __init__(self, status: int, message: str, body_excerpt: str = "") -> None:
        super().__init__(CODE_HTTP, message)
        self.status = status
        self.body_excerpt = body_excerpt


class InvalidResponseError(HTTPStatusError):
    """The body could not be decoded as the expected JSON envelope."""


class FunctionError(HTTPStatusError):
    """A function answered a non-2xx status. ``data`` is its parsed JSON body (or text)."""

    def __init__(self, status: int, message: str, body_excerpt: str, data: object) -> None:
        super().__init__(status, message, body_excerpt)
        self.data = data
