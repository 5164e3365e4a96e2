"""``create_client`` and ``LumiClient``: the JavaScript client's API, in snake_case."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import requests

from ._generated.operations import OPERATIONS
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
from .errors import AuthenticationError, ValidationError
from .functions import Functions
from .ratelimit import IdenticalRequestLimiter
from .tools import Tools
from .transport import CallSettings, Request, Transport

DEFAULT_API_BASE_URL = "https://api.lumi.new"
DEFAULT_AUTH_ORIGIN = "https://auth.lumi.new"

_UNCHANGED: Any = object()


@attrs.frozen
class ClientConfig:
    """What a client was created with (never holds the token)."""

    project_id: str
    api_base_url: str
    auth_origin: str
    timeout: Timeout = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT


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
        self._limiter = (
            IdenticalRequestLimiter(config.rate_limit) if config.rate_limit is not None else None
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
        return LumiClient(
            self.config,
            transport=self._transport,
            auth_state=AuthState(_bearer_token(authorization)),
            api_key=self._api_key,
        )

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
        if isinstance(timeout, (int, float)):
            timeout = attrs.evolve(self.config.timeout, read=float(timeout))
        config = attrs.evolve(
            self.config,
            timeout=timeout or self.config.timeout,
            retry=retry or self.config.retry,
            rate_limit=self.config.rate_limit if rate_limit is _UNCHANGED else rate_limit,
        )
        derived = LumiClient(
            config, transport=self._transport, auth_state=self._auth_state, api_key=self._api_key
        )
        if rate_limit is _UNCHANGED:
            derived._limiter = self._limiter
        return derived

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
            f"api_base_url={self.config.api_base_url!r}, "
            f"authenticated={self._auth_state.token is not None})"
        )

    # -- the calls the sub-APIs make ---------------------------------------------------------
    @property
    def project_id(self) -> str:
        return self.config.project_id

    def _settings(self, token: str | None) -> CallSettings:
        return CallSettings(
            timeout=self.config.timeout, retry=self.config.retry, token=token, limiter=self._limiter
        )

    def _request(
        self, operation_id: str, path_params: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Request:
        params = {"projectId": self.config.project_id, **(path_params or {})}
        return Request.build(OPERATIONS[operation_id], params, **kwargs)

    def _call(
        self, operation_id: str, path_params: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """Send an enveloped call and return its ``data``; drops the token on code 2100."""
        request = self._request(operation_id, path_params, **kwargs)
        token = self._auth_state.token
        try:
            return self._transport.call(request, self._settings(token))
        except AuthenticationError:
            if token is not None:
                self._auth_state.drop_token(token)
            raise

    def _open_stream(self, operation_id: str, **kwargs: Any) -> requests.Response:
        request = self._request(operation_id, **kwargs)
        token = self._auth_state.token
        try:
            return self._transport.open_stream(request, self._settings(token))
        except AuthenticationError:
            if token is not None:
                self._auth_state.drop_token(token)
            raise

    def _send(self, request: Request, *, token: str | None) -> requests.Response:
        """Send a request that is not enveloped (functions); the response is returned as is."""
        return self._transport.send(request, self._settings(token))

    def _lumi_api_key(self) -> str:
        key = self._api_key or os.environ.get("LUMI_API_KEY")
        if not key:
            raise ValidationError(
                "LUMI_API_KEY is required for tools.ai: set the environment variable "
                "or pass api_key= to create_client()"
            )
        return key


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

    ``api_key`` (default: ``LUMI_API_KEY``) is the key ``tools.ai`` sends. ``rate_limit=None``
    turns off the JavaScript client's identical-request limit.
    """
    project_id = project_id or os.environ.get("LUMI_PROJECT_ID")
    if not project_id:
        raise ValidationError("project_id is required (or set LUMI_PROJECT_ID)")
    base_url = api_base_url or os.environ.get("LUMI_API_BASE_URL") or DEFAULT_API_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError(f"api_base_url must start with http:// or https://, got {base_url!r}")
    if isinstance(timeout, (int, float)):
        timeout = Timeout(read=float(timeout))
    config = ClientConfig(
        project_id=project_id,
        api_base_url=base_url.rstrip("/"),
        auth_origin=(
            auth_origin or os.environ.get("LUMI_AUTH_ORIGIN") or DEFAULT_AUTH_ORIGIN
        ).rstrip("/"),
        timeout=timeout or Timeout(),
        retry=retry or RetryPolicy(),
        rate_limit=rate_limit,
    )
    return LumiClient(
        config,
        transport=Transport(config.api_base_url, session=session),
        auth_state=AuthState(_bearer_token(authorization)),
        api_key=api_key,
    )
