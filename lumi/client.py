"""``create_client`` and ``LumiClient``: the JavaScript client's API, in snake_case."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import requests

from ._generated.operations import OPERATIONS
from ._js import a_json_type
from ._options import js_options
from .auth import Auth, AuthState
from .config import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    RateLimit,
    RetryPolicy,
    Timeout,
)
from .entities import Entities
from .envelope import read_reply
from .errors import AuthenticationError, ValidationError
from .functions import Functions
from .ratelimit import IdenticalRequestLimiter
from .streams import RawStream
from .tools import Tools
from .transport import CallSettings, Exchange, Request, Transport, redact_url

if TYPE_CHECKING:
    from .data.repository import Repository

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_API_BASE_URL = "https://api.lumi.new"
DEFAULT_AUTH_ORIGIN = "https://auth.lumi.new"

_UNCHANGED: Any = object()


@attrs.frozen
class ClientConfig:
    """What a client was created with (never holds the token; secrets stay out of the repr)."""

    project_id: str
    api_base_url: str = attrs.field(repr=redact_url)
    auth_origin: str = attrs.field(repr=redact_url)
    timeout: Timeout = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT
    top_access_key: str | None = attrs.field(default=None, repr=False)
    """``TOP_ACCESS_KEY`` as it was when the client was made (sent as ``X-Top-Access``)."""


def _bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` value (``"Bearer <t>"`` or a bare token)."""
    if not authorization:
        return None
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


class LumiClient:
    """A Lumi client: ``auth``, ``entities``, ``tools`` (email, file, ai) and ``functions``.

    Thread-safe. A client built per incoming web request with :meth:`for_request` shares the
    connection pool with its parent but never its token.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: Transport,
        auth_state: AuthState,
        api_key: str | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._auth_state = auth_state
        self._api_key = api_key
        limiter = (
            IdenticalRequestLimiter(config.rate_limit) if config.rate_limit is not None else None
        )
        self._settings = CallSettings(
            timeout=config.timeout,
            retry=config.retry,
            limiter=limiter,
            top_access=config.top_access_key,
        )
        self.auth = Auth(self, auth_state)
        self.entities = Entities(self)
        self.tools = Tools(self)
        self.functions = Functions(self)

    # -- derived clients ---------------------------------------------------------------------
    def for_request(self, authorization: str | None) -> LumiClient:
        """A client for one incoming request, bound to its ``Authorization`` header value.

        Cheap: it shares this client's connection pool and settings, with its own token, user
        and rate-limit window. Use one per request; never share it between requests.
        """
        if authorization is not None and not isinstance(authorization, str):
            raise ValidationError(
                "for_request() takes the request's Authorization header value (a str such as "
                "'Bearer <token>', or None), e.g. "
                f"client.for_request(request.headers.get('Authorization')); got "
                f"{a_json_type(authorization)}"
            )
        return LumiClient(
            self.config,
            transport=self._transport,
            auth_state=AuthState(_bearer_token(authorization)),
            api_key=self._api_key,
        )

    @js_options
    def with_options(
        self,
        *,
        timeout: Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = _UNCHANGED,
    ) -> LumiClient:
        """The same client (same token and user) with other timeouts, retries or rate limit.

        ``client.with_options(retry=RetryPolicy.none()).entities.Posts.get(id)`` sets them for
        one call. A number for ``timeout`` sets the read timeout.
        """
        config = attrs.evolve(
            self.config,
            timeout=_timeout(timeout, self.config.timeout),
            retry=_checked("retry", retry, RetryPolicy) or self.config.retry,
            rate_limit=(
                self.config.rate_limit
                if rate_limit is _UNCHANGED
                else _checked("rate_limit", rate_limit, RateLimit)
            ),
        )
        derived = LumiClient(
            config, transport=self._transport, auth_state=self._auth_state, api_key=self._api_key
        )
        if rate_limit is _UNCHANGED:
            derived._settings = attrs.evolve(derived._settings, limiter=self._settings.limiter)
        return derived

    def repository(self, model: type[T], **options: Any) -> Repository[T]:
        """A typed repository for a class generated by ``lumi codegen``: ``client.repository(Post)``."""
        from .data.repository import repository

        return repository(self, model, **options)

    def close(self) -> None:
        """Close the connection pool (shared with derived clients)."""
        self._transport.close()

    def __enter__(self) -> LumiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"LumiClient(project_id={self.config.project_id!r}, "
            f"api_base_url={redact_url(self.config.api_base_url)!r}, "
            f"authenticated={self._auth_state.token is not None})"
        )

    # -- the calls the sub-APIs make ---------------------------------------------------------
    @property
    def project_id(self) -> str:
        return self.config.project_id

    def _request(
        self, operation_id: str, path_params: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Request:
        params = {"projectId": self.config.project_id, **(path_params or {})}
        return Request.build(OPERATIONS[operation_id], params, **kwargs)

    def _call(
        self,
        operation_id: str,
        path_params: Mapping[str, str] | None = None,
        *,
        reply: type[Any] | None = None,
        read: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send an enveloped call and return its ``data``: as the class ``reply`` if given (data
        that does not fit is an InvalidResponseError naming the call and the field), or passed
        through ``read``. Errors of either carry the call's method, path, status..."""
        request = self._request(operation_id, path_params, **kwargs)
        if reply is not None:
            cls, what = reply, request.description
            read = lambda data: read_reply(data, cls, what)  # noqa: E731
        transport, settings = self._transport, self._settings
        return self._as_user(lambda token: transport.call(request, settings, token, read))

    def _open_stream(self, operation_id: str, **kwargs: Any) -> RawStream:
        """Send a streaming call; the caller closes the returned stream."""
        request = self._request(operation_id, stream=True, **kwargs)
        transport, settings = self._transport, self._settings
        exchange = self._as_user(lambda token: transport.open_stream(request, settings, token))
        return RawStream(exchange, request.operation.method, request.path)

    def _as_user(self, send: Callable[[str | None], R]) -> R:
        """Run ``send`` with the current token; on code 2100 drop that token (as JS does)."""
        token = self._auth_state.token
        try:
            return send(token)
        except AuthenticationError:
            if token is not None:
                self._auth_state.drop_token(token)
            raise

    def _send(self, request: Request) -> Exchange:
        """Send a request that is not enveloped (functions); the reply is returned as is."""
        return self._transport.send(request, self._settings)

    def _lumi_api_key(self) -> str:
        # Read at each AI call (not on the per-call hot path, and apps set it late, in settings).
        key = self._api_key or os.environ.get("LUMI_API_KEY")
        if not key:
            raise ValidationError(
                "LUMI_API_KEY is required for tools.ai: set the environment variable "
                "or pass api_key= to create_client()"
            )
        return key


def _timeout(value: Any, base: Timeout) -> Timeout:
    """``timeout=``: a Timeout, a number of seconds (the read timeout) or None (``base``)."""
    if value is None:
        return base
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return attrs.evolve(base, read=float(value))
    if isinstance(value, Timeout):
        return value
    raise _wrong_type("timeout", value, Timeout)


def _checked(name: str, value: Any, cls: type[T]) -> T | None:
    """``value`` when it is None or a ``cls``; a ValidationError naming ``name`` otherwise."""
    if value is None or isinstance(value, cls):
        return value
    raise _wrong_type(name, value, cls)


def _wrong_type(name: str, value: Any, cls: type) -> ValidationError:
    return ValidationError(
        f"{name}= takes a lumi.{cls.__name__} or None, got {a_json_type(value)}: "
        f"e.g. {name}=lumi.{cls.__name__}(...)"
    )


def _text(name: str, value: Any) -> str | None:
    """A string argument of create_client (None or empty: not given)."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            f"create_client(): {name} must be a string, got {a_json_type(value)} (the Python form "
            "is create_client(project_id=..., api_base_url=..., auth_origin=..., authorization=...), "
            "or the JavaScript config object as the one argument)"
        )
    return value or None


@js_options
def create_client(
    project_id: str | None = None,
    api_base_url: str | None = None,
    auth_origin: str | None = None,
    authorization: str | None = None,
    *,
    api_key: str | None = None,
    timeout: Timeout | float | None = None,
    retry: RetryPolicy | None = None,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    session: requests.Session | None = None,
) -> LumiClient:
    """Create a client. Missing arguments come from ``LUMI_PROJECT_ID``, ``LUMI_API_BASE_URL``
    and ``LUMI_AUTH_ORIGIN``; ``authorization`` is an incoming ``"Bearer <token>"`` value.
    The JavaScript config object works as the one argument:
    ``create_client({"projectId": ..., "apiBaseUrl": ..., "authOrigin": ..., "authorization": ...})``.

    ``api_key`` (default: ``LUMI_API_KEY``, read at each AI call) is the key ``tools.ai`` sends.
    ``rate_limit=None`` turns off the JavaScript client's identical-request limit. The rest of
    the environment (the variables above, ``TOP_ACCESS_KEY``, and the proxy and CA-bundle
    variables ``requests`` honours) is read here, once: a later change applies to clients made
    after it.
    """
    project_id = _text("project_id", project_id) or os.environ.get("LUMI_PROJECT_ID")
    if not project_id:
        raise ValidationError("project_id is required (or set LUMI_PROJECT_ID)")
    base_url = (
        _text("api_base_url", api_base_url)
        or os.environ.get("LUMI_API_BASE_URL")
        or DEFAULT_API_BASE_URL
    )
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError(
            f"api_base_url must start with http:// or https://, got {redact_url(base_url)!r}"
        )
    origin = _text("auth_origin", auth_origin) or os.environ.get("LUMI_AUTH_ORIGIN")
    config = ClientConfig(
        project_id=project_id,
        api_base_url=base_url.rstrip("/"),
        auth_origin=(origin or DEFAULT_AUTH_ORIGIN).rstrip("/"),
        timeout=_timeout(timeout, DEFAULT_TIMEOUT),
        retry=_checked("retry", retry, RetryPolicy) or RetryPolicy(),
        rate_limit=_checked("rate_limit", rate_limit, RateLimit),
        top_access_key=os.environ.get("TOP_ACCESS_KEY") or None,
    )
    return LumiClient(
        config,
        transport=Transport(config.api_base_url, session=session),
        auth_state=AuthState(_bearer_token(_text("authorization", authorization))),
        api_key=_text("api_key", api_key),
    )
