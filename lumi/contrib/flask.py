"""Flask integration: ``Lumi(app)`` (or ``Lumi().init_app(app)``).

::

    app.config.update(LUMI_PROJECT_ID="p_123", LUMI_API_BASE_URL="https://api.lumi.new")
    Lumi(app)

    @app.get("/notes")
    @lumi_login_required
    def notes():
        user = current_lumi_user()
        return current_lumi().entities.Notes.list(filter={"creator": user.user_id}).total

Settings (``app.config``): ``LUMI_PROJECT_ID``, ``LUMI_API_BASE_URL``, ``LUMI_AUTH_ORIGIN``,
``LUMI_API_KEY``, ``LUMI_TIMEOUT``, ``LUMI_RETRY``, ``LUMI_RATE_LIMIT``, ``LUMI_EVENTS_ENDPOINT``
+ ``LUMI_EVENTS_WRITE_KEY`` (+ ``LUMI_EVENTS_OPTIONS``) or ``LUMI_EVENTS_TRACKER``,
``LUMI_ECHO_TRACEPARENT``, ``LUMI_HANDLE_ERRORS``. Sync views only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from lumi._extras import optional_imports
from lumi.client import LumiClient
from lumi.errors import LumiError

from ._common import ErrorReply, LumiIntegration, LumiSettings, RequestState, error_reply

with optional_imports("flask", "lumi.contrib.flask"):
    from flask import Flask, Response, current_app, g, jsonify, request

if TYPE_CHECKING:
    from lumi._generated.models import User
    from lumi.events import Session, Tracker

__all__ = [
    "Lumi",
    "current_lumi",
    "current_lumi_session",
    "current_lumi_user",
    "lumi_admin_required",
    "lumi_login_required",
]

F = TypeVar("F", bound=Callable[..., Any])
_EXTENSION = "lumi"
_PREFIX = "LUMI_"
_STATE = "_lumi_request_state"


class Lumi:
    """The Flask extension: one shared client per app, a client per request."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read ``app.config["LUMI_*"]``, build the app's shared client and hook the requests."""
        values = {k[len(_PREFIX) :]: v for k, v in app.config.items() if k.startswith(_PREFIX)}
        settings = LumiSettings.from_mapping(values, lambda name: f"app.config['LUMI_{name}']")
        app.extensions[_EXTENSION] = LumiIntegration(settings)
        app.before_request(_open_request)
        app.after_request(_echo_traceparent)
        app.teardown_request(_close_request)
        if settings.handle_errors:
            app.register_error_handler(LumiError, _handle_lumi_error)

    @property
    def shared(self) -> LumiClient:
        """The current app's shared client (no token: use it for anonymous work)."""
        return _integration().client

    @property
    def tracker(self) -> Tracker | None:
        """The current app's events tracker, if configured."""
        return _integration().tracker

    @property
    def client(self) -> LumiClient:
        """The current request's client: see :func:`current_lumi`."""
        return current_lumi()

    @property
    def user(self) -> User | None:
        """The current request's user: see :func:`current_lumi_user`."""
        return current_lumi_user()


def _integration() -> LumiIntegration:
    integration = current_app.extensions.get(_EXTENSION)
    if not isinstance(integration, LumiIntegration):
        raise RuntimeError("Lumi is not set up on this app: call Lumi(app) or init_app(app)")
    return integration


def _state() -> RequestState:
    state = g.get(_STATE)
    if state is None:  # a before_request hook that ran first answered, or a test request context
        state = _integration().request_state(
            request.headers.get("Authorization"), request.headers.get("traceparent")
        )
        setattr(g, _STATE, state)
    return cast(RequestState, state)


def _open_request() -> None:
    _state().open_events()


def _echo_traceparent(response: Response) -> Response:
    state = g.get(_STATE)
    if state is not None and "traceparent" not in response.headers:
        traceparent = state.response_traceparent()
        if traceparent is not None:
            response.headers["traceparent"] = traceparent
    return response


def _close_request(_exc: BaseException | None) -> None:
    state = g.get(_STATE)
    if state is not None:
        state.close_events()


def _json(reply: ErrorReply) -> Response:
    response = jsonify(reply.body)
    response.status_code = reply.status
    response.headers.update(reply.headers)
    return response


def _handle_lumi_error(exc: LumiError) -> Response:
    return _json(error_reply(exc))


def current_lumi() -> LumiClient:
    """The client of the current request, bound to its ``Authorization`` header."""
    return _state().client


def current_lumi_user() -> User | None:
    """The signed-in user of the current request (fetched once), or None."""
    return _state().user()


def current_lumi_session() -> Session:
    """The current request's events session (``with current_lumi_session().turn() as turn:``);
    its turns carry the user's id, or the request's anonymous id."""
    return _state().events_session()


def lumi_login_required(view: F) -> F:
    """Answer 401 (JSON) unless the request carries a valid Lumi token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        denied = _state().login_required_reply()
        return _json(denied) if denied is not None else view(*args, **kwargs)

    return cast(F, wrapper)


def lumi_admin_required(view: F) -> F:
    """Answer 401 without a valid token, 403 unless the user's role is ADMIN."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        denied = _state().admin_required_reply()
        return _json(denied) if denied is not None else view(*args, **kwargs)

    return cast(F, wrapper)
