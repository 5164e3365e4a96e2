"""What the Flask and Django integrations share, with no web framework imported.

- :class:`LumiSettings`: the integration's settings (Flask ``app.config["LUMI_*"]``, Django
  ``settings.LUMI``), checked once, naming the setting that is wrong.
- :class:`LumiIntegration`: one per web app: the shared client (one connection pool) and the
  events tracker.
- :class:`RequestState`: one per request: its client (bound to the ``Authorization`` header),
  the user (resolved lazily, at most once), and its events scope (identity and session).
- :func:`error_reply`: a :class:`~lumi.errors.LumiError` as an HTTP status and a JSON body.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import attrs

from lumi.client import LumiClient, create_client
from lumi.config import DEFAULT_RATE_LIMIT, RateLimit, RetryPolicy, Timeout
from lumi.errors import (
    CODE_INVALID_TOKEN,
    APIError,
    AuthenticationError,
    HTTPStatusError,
    LumiError,
    NotFoundError,
    RateLimitError,
    TimeoutError,
    TransportError,
    ValidationError,
)

if TYPE_CHECKING:
    from lumi._generated.models import User
    from lumi.events import Session, Tracker
    from lumi.events.context import RequestScope

logger = logging.getLogger("lumi.contrib")

#: The code of the 403 answer of ``lumi_admin_required`` (Lumi's 104xx codes mirror HTTP 4xx).
CODE_FORBIDDEN = 10403
ADMIN_ROLE = "ADMIN"
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="lumi"'}


# -- settings ------------------------------------------------------------------------------
def _optional_str(name: str, value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where} must be a non-empty string, got {type(value).__name__}")
    return value


def _optional_type(kind: type | tuple[type, ...], what: str) -> Callable[[str, Any, str], Any]:
    def check(name: str, value: Any, where: str) -> Any:
        if value is not None and not isinstance(value, kind):
            raise ValidationError(f"{where} must be {what}, got {type(value).__name__}")
        return value

    return check


def _timeout(name: str, value: Any, where: str) -> Timeout | float | None:
    if value is None or isinstance(value, Timeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ValidationError(f"{where} must be a positive number of seconds or a lumi.Timeout")


def _bool(name: str, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{where} must be True or False, got {value!r}")
    return value


def _tracker_setting(name: str, value: Any, where: str) -> Any:
    if value is None or value == "default":
        return value
    from lumi.events import Tracker

    if not isinstance(value, Tracker):
        raise ValidationError(f"{where} must be a lumi.events.Tracker or 'default', got {value!r}")
    return value


def _mapping(name: str, value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be a mapping of Tracker options")
    return value


#: setting NAME -> (checker, default)
_SETTINGS: dict[str, tuple[Callable[[str, Any, str], Any], Any]] = {
    "PROJECT_ID": (_optional_str, None),
    "API_BASE_URL": (_optional_str, None),
    "AUTH_ORIGIN": (_optional_str, None),
    "API_KEY": (_optional_str, None),
    "TIMEOUT": (_timeout, None),
    "RETRY": (_optional_type(RetryPolicy, "a lumi.RetryPolicy"), None),
    "RATE_LIMIT": (_optional_type(RateLimit, "a lumi.RateLimit or None"), DEFAULT_RATE_LIMIT),
    "EVENTS_TRACKER": (_tracker_setting, None),
    "EVENTS_ENDPOINT": (_optional_str, None),
    "EVENTS_WRITE_KEY": (_optional_str, None),
    "EVENTS_OPTIONS": (_mapping, {}),
    "ECHO_TRACEPARENT": (_bool, True),
    "HANDLE_ERRORS": (_bool, True),
}


@attrs.frozen(kw_only=True)
class LumiSettings:
    """The integration's settings. Unset client settings fall back to the environment
    (``LUMI_PROJECT_ID``, ``LUMI_API_BASE_URL``, ``LUMI_AUTH_ORIGIN``, ``LUMI_API_KEY``)."""

    project_id: str | None = None
    api_base_url: str | None = None
    auth_origin: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    timeout: Timeout | float | None = None
    retry: RetryPolicy | None = None
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT
    #: a Tracker, or "default" for ``lumi.events.get_tracker()``
    events_tracker: Any = None
    events_endpoint: str | None = None
    events_write_key: str | None = attrs.field(default=None, repr=False)
    events_options: Mapping[str, Any] = attrs.field(factory=dict)
    echo_traceparent: bool = True
    handle_errors: bool = True

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: Callable[[str], str]) -> LumiSettings:
        """Check ``values`` (keys: ``PROJECT_ID``, ``API_BASE_URL``, ...); ``where(NAME)`` says
        where a setting is written (``"app.config['LUMI_PROJECT_ID']"``), for the errors."""
        unknown = sorted(set(values) - set(_SETTINGS))
        if unknown:
            raise ValidationError(
                f"unknown Lumi setting(s): {', '.join(where(n) for n in unknown)} "
                f"(known: {', '.join(_SETTINGS)})"
            )
        checked = {
            name.lower(): check(name, values.get(name, default), where(name))
            for name, (check, default) in _SETTINGS.items()
        }
        if checked["events_tracker"] is not None and checked["events_endpoint"] is not None:
            raise ValidationError(
                f"give either {where('EVENTS_TRACKER')} or {where('EVENTS_ENDPOINT')}, not both"
            )
        return cls(**checked)


# -- per app -------------------------------------------------------------------------------
class LumiIntegration:
    """One per web app: the shared client (all requests share its connection pool, never its
    token) and the events tracker (None: no event scoping)."""

    def __init__(self, settings: LumiSettings) -> None:
        self.settings = settings
        self.client = create_client(
            settings.project_id,
            settings.api_base_url,
            settings.auth_origin,
            api_key=settings.api_key,
            timeout=settings.timeout,
            retry=settings.retry,
            rate_limit=settings.rate_limit,
        )
        self.tracker, self._owns_tracker = _build_tracker(settings)

    def request_state(self, authorization: str | None, traceparent: str | None) -> RequestState:
        """The state of one incoming request, from its ``Authorization`` and ``traceparent``."""
        return RequestState(self, authorization, traceparent)

    def close(self) -> None:
        """Close the connection pool, and shut down a tracker built from the settings."""
        self.client.close()
        if self._owns_tracker and self.tracker is not None:
            self.tracker.shutdown(timeout=self.tracker.config.exit_timeout_s)

    def __repr__(self) -> str:
        return f"LumiIntegration(client={self.client!r}, tracker={self.tracker!r})"


def _build_tracker(settings: LumiSettings) -> tuple[Tracker | None, bool]:
    if settings.events_tracker == "default":
        from lumi.events import get_tracker

        return get_tracker(), False
    if settings.events_tracker is not None:
        tracker: Tracker = settings.events_tracker
        return tracker, False
    if settings.events_endpoint is None:
        return None, False
    from lumi.events import Tracker

    # A server names the user of each request; the machine-wide persisted identity (a file in the
    # user's config directory) is for scripts, so it is off unless asked for.
    options = {"persist_identity": False, **settings.events_options}
    built = Tracker(
        endpoint=settings.events_endpoint, write_key=settings.events_write_key, **options
    )
    return built, True


# -- per request ---------------------------------------------------------------------------
class RequestState:
    """One request's Lumi state. Never shared between requests.

    ``client``: a client bound to the request's ``Authorization`` header, sharing the app's
    connection pool. :meth:`user` resolves the signed-in user once (``refresh_user``).
    :meth:`open_events` / :meth:`close_events` bracket the request in the tracker's request
    scope: a fresh anonymous id, replaced by the user's id once the user is resolved, and a
    session continuing the incoming ``traceparent``.
    """

    def __init__(
        self, integration: LumiIntegration, authorization: str | None, traceparent: str | None
    ) -> None:
        self.client: LumiClient = integration.client.for_request(authorization)
        self._tracker = integration.tracker
        self._echo = integration.settings.echo_traceparent
        self._traceparent = traceparent
        self._lock = threading.Lock()
        self._resolved = False
        self._user: User | None = None
        self._failure: LumiError | None = None
        self._token_rejected = False
        self._events: AbstractContextManager[RequestScope] | None = None
        self._scope: RequestScope | None = None

    def __repr__(self) -> str:
        return f"RequestState(authenticated={self.client.auth.is_authenticated})"

    # -- the user ------------------------------------------------------------------------------
    def user(self) -> User | None:
        """The signed-in user, or None (no token, or the server rejected it: code 2100).

        Other failures (the service unreachable...) raise, also on later calls: the user is
        asked for at most once per request."""
        with self._lock:
            if not self._resolved:
                self._resolved = True
                try:
                    self._user = self._fetch_user()
                except LumiError as exc:
                    self._failure = exc
            if self._failure is not None:
                raise self._failure
            return self._user

    def _fetch_user(self) -> User | None:
        if not self.client.auth.is_authenticated:
            return None
        try:
            user = self.client.auth.refresh_user()
        except AuthenticationError:
            self._token_rejected = True
            return None
        if self._scope is not None and self._tracker is not None:
            self._tracker.set_request_user(user.user_id)
        return user

    def login_required_reply(self) -> ErrorReply | None:
        """None when a user is signed in, else the 401 answer."""
        if self.user() is not None:
            return None
        message = (
            "the token is invalid or expired: sign in again"
            if self._token_rejected
            else "sign in required: send Authorization: Bearer <token>"
        )
        return ErrorReply(401, error_body(CODE_INVALID_TOKEN, message), _BEARER_CHALLENGE)

    def admin_required_reply(self) -> ErrorReply | None:
        """None when an ADMIN user is signed in, else the 401 or 403 answer."""
        denied = self.login_required_reply()
        if denied is not None:
            return denied
        user = self.user()
        if user is not None and user.user_role == ADMIN_ROLE:
            return None
        return ErrorReply(403, error_body(CODE_FORBIDDEN, "this needs an ADMIN user"))

    # -- events --------------------------------------------------------------------------------
    @property
    def tracker(self) -> Tracker | None:
        return self._tracker

    def open_events(self) -> None:
        """Enter the tracker's request scope (nothing without a tracker)."""
        if self._tracker is None or self._events is not None:
            return
        context = self._tracker.request_context(traceparent=_valid_traceparent(self._traceparent))
        self._scope = context.__enter__()
        self._events = context
        if self._resolved and self._user is not None:
            self._tracker.set_request_user(self._user.user_id)

    def close_events(self) -> None:
        """Leave the request scope (in the same thread or task that opened it)."""
        context, self._events, self._scope = self._events, None, None
        if context is not None:
            context.__exit__(None, None, None)

    def events_session(self) -> Session:
        """The request's events session, started on first use. The user is resolved first, so
        that the turns carry the user's id (anonymous: this request's ``anon_...`` id)."""
        if self._tracker is None:
            raise ValidationError(
                "no events tracker is configured: set the Lumi setting EVENTS_ENDPOINT "
                "(and EVENTS_WRITE_KEY) or EVENTS_TRACKER"
            )
        if self._scope is None:
            raise ValidationError("the events session exists only while a request is handled")
        self.user()
        return self._tracker.session.start()

    def response_traceparent(self) -> str | None:
        """The ``traceparent`` to send back: the request's session's, if it has one."""
        scope = self._scope
        if not self._echo or scope is None or scope.session is None:
            return None
        return scope.session.traceparent


def _valid_traceparent(value: str | None) -> str | None:
    """The incoming header when well-formed; a malformed one is ignored (W3C: start anew)."""
    if not value:
        return None
    from lumi.events import EventsConfigError, parse_traceparent

    try:
        return str(parse_traceparent(value))
    except EventsConfigError:
        logger.debug("lumi: ignoring a malformed traceparent header")
        return None


# -- errors --------------------------------------------------------------------------------
@attrs.frozen
class ErrorReply:
    """An error answer: HTTP status, JSON body ``{"error": {"code", "message"}}``, headers."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = attrs.field(factory=dict)


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


_UPSTREAM_MESSAGES: tuple[tuple[type[LumiError], int, str], ...] = (
    (TimeoutError, 504, "the Lumi service did not answer in time"),
    (TransportError, 502, "the Lumi service could not be reached"),
    (HTTPStatusError, 502, "the Lumi service answered with an unexpected reply"),
    (APIError, 502, "the Lumi service failed"),
)


def error_reply(exc: LumiError) -> ErrorReply:
    """The HTTP answer for ``exc``.

    Caller's side (4xx, the message is passed on): AuthenticationError 401, ValidationError
    (SchemaError...) 400, NotFoundError 404, RateLimitError 429, and a server code 104xx as
    HTTP 4xx (10401 wrong password -> 401). Upstream side (5xx, a fixed message; the details go
    to the ``lumi.contrib`` log): TimeoutError 504, TransportError and HTTPStatusError
    (FunctionError...) 502, any other APIError 502, anything else 500.
    """
    if isinstance(exc, AuthenticationError):
        return ErrorReply(401, error_body(exc.code, exc.message), _BEARER_CHALLENGE)
    if isinstance(exc, NotFoundError):
        return ErrorReply(404, error_body(exc.code, exc.message))
    if isinstance(exc, RateLimitError):
        return ErrorReply(429, error_body(exc.code, exc.message), {"Retry-After": "1"})
    if isinstance(exc, ValidationError):
        return ErrorReply(400, error_body(exc.code, exc.message))
    if isinstance(exc, APIError) and 10400 <= exc.code <= 10499:
        return ErrorReply(_client_status(exc.code - 10000), error_body(exc.code, exc.message))
    status, message = next(
        ((s, m) for kind, s, m in _UPSTREAM_MESSAGES if isinstance(exc, kind)),
        (500, "the Lumi integration failed"),
    )
    logger.warning("lumi: answering HTTP %d for %r", status, exc)
    return ErrorReply(status, error_body(exc.code, message))


def _client_status(status: int) -> int:
    try:
        return int(HTTPStatus(status))
    except ValueError:  # 10499 etc.: no such HTTP status
        return 400
