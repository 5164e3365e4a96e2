"""``client.auth``: password and OTP flows, the current user, and auth-change listeners."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._generated.models import SignInResult, User
from ._js import a_json_type
from ._options import js_options
from .envelope import read_reply
from .errors import BrowserOnlyError, InvalidResponseError, ValidationError
from .serde import structure

if TYPE_CHECKING:
    from .client import LumiClient

logger = logging.getLogger("lumi")


@attrs.frozen
class AuthChange:
    """What ``on_auth_change`` listeners receive."""

    is_authenticated: bool
    user: User | None


AuthListener = Callable[[AuthChange], None]


def hash_password(password: str) -> str:
    """SHA-256 hex of the UTF-8 password: the only form a password leaves the client in."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


class AuthState:
    """The token, the user and the listeners of one client (shared by ``with_options`` copies)."""

    def __init__(self, token: str | None = None) -> None:
        self._lock = threading.RLock()
        self._token = token
        self._user: User | None = None
        self._listeners: list[AuthListener] = []

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def user(self) -> User | None:
        return self._user

    def set(self, token: str | None, user: User | None) -> None:
        with self._lock:
            changed = (token, user) != (self._token, self._user)
            self._token, self._user = token, user
            listeners = list(self._listeners)
        if changed:
            self._notify(listeners)

    def set_user(self, user: User | None) -> None:
        self.set(self._token, user)

    def drop_token(self, token: str) -> None:
        """Forget ``token`` (code 2100), unless another one has replaced it meanwhile."""
        with self._lock:
            if self._token != token:
                return
        logger.info("lumi: the server rejected the user token (code 2100); signed out")
        self.set(None, None)

    def subscribe(self, listener: AuthListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, listeners: list[AuthListener]) -> None:
        change = AuthChange(is_authenticated=self._token is not None, user=self._user)
        for listener in listeners:
            try:
                listener(change)
            except Exception:
                logger.exception("lumi: an on_auth_change listener raised")


def _user_from(data: Any) -> User:
    """The user part of a sign-in reply: the token is removed so it never sits in ``extra``."""
    fields = {k: v for k, v in data.items() if k != "userToken"} if isinstance(data, dict) else data
    return read_reply(fields, User, "user")


def _user_value(value: Any) -> User | None:
    """What ``auth.user = value`` stores: a User, a wire dict read as one (a SchemaError naming
    the field when it does not fit), or None."""
    if value is None or isinstance(value, User):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            "auth.user takes a lumi.User, its wire dict ({'userId': ..., 'email': ...}) or None, "
            f"got {a_json_type(value)}"
        )
    user: User = structure(dict(value), User)
    return user


def _sign_in_reply(data: Any) -> tuple[str, User]:
    """The token and the user of a sign-in (or sign-up) reply."""
    token = data.get("userToken") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidResponseError(200, "sign-in reply has no userToken", field="userToken")
    return token, _user_from(data)


class Auth:
    """``client.auth``: the JavaScript client's ``LumiAuthClient`` in snake_case."""

    def __init__(self, client: LumiClient, state: AuthState) -> None:
        self._client = client
        self._state = state

    def __repr__(self) -> str:
        return f"Auth(is_authenticated={self.is_authenticated})"

    # -- state ------------------------------------------------------------------------------
    @property
    def access_token(self) -> str | None:
        """The user token sent as ``Authorization: Bearer``; settable (``None`` signs out)."""
        return self._state.token

    @access_token.setter
    def access_token(self, token: str | None) -> None:
        if token is not None and not isinstance(token, str):
            raise ValidationError(
                f"auth.access_token takes the token (a str) or None, got {a_json_type(token)}"
            )
        self._state.set(token or None, self._state.user if token else None)

    @property
    def user(self) -> User | None:
        """The signed-in user, as last fetched (see :meth:`refresh_user`); settable with a
        :class:`lumi.User`, its wire dict (``{"userId": ..., "email": ...}``) or ``None``, which
        calls the :meth:`on_auth_change` listeners as setting the token does."""
        return self._state.user

    @user.setter
    def user(self, user: User | Mapping[str, Any] | None) -> None:
        self._state.set_user(_user_value(user))

    @property
    def is_authenticated(self) -> bool:
        return self._state.token is not None

    def on_auth_change(self, callback: AuthListener) -> Callable[[], None]:
        """Call ``callback(AuthChange)`` whenever the token or user changes; returns unsubscribe."""
        if not callable(callback):
            raise ValidationError(
                "on_auth_change() takes a function of one argument, e.g. "
                f"on_auth_change(lambda change: print(change.is_authenticated)); got "
                f"{a_json_type(callback)}"
            )
        return self._state.subscribe(callback)

    def sign_out(self) -> None:
        """Forget the token and the user (in this process; tokens are not revoked server-side)."""
        self._state.set(None, None)

    # -- calls ------------------------------------------------------------------------------
    # @js_options: each also takes the JavaScript options object ({"email": ..., ...}).
    @js_options
    def sign_in_with_password(self, *, email: str, password: str) -> SignInResult:
        """Sign in; keeps the token and user on this client and returns them."""
        return self._signed_in(
            self._client._call(
                "signInWithPassword",
                json={
                    "projectId": self._client.project_id,
                    "email": email,
                    "password": hash_password(password),
                },
                read=_sign_in_reply,
            )
        )

    @js_options
    def send_otp(self, *, email: str, type: Literal["register", "resetPassword"]) -> None:
        """Email a one-time code for sign-up (``"register"``) or ``"resetPassword"``."""
        self._client._call(
            "sendOtp",
            json={"projectId": self._client.project_id, "email": email, "emailType": type},
        )

    @js_options
    def sign_up_with_password(
        self, *, email: str, password: str, otp: str, user_name: str | None = None
    ) -> SignInResult:
        """Create an account with the code from :meth:`send_otp`; signs in."""
        body: dict[str, Any] = {
            "projectId": self._client.project_id,
            "email": email,
            "password": hash_password(password),
            "code": otp,
        }
        if user_name is not None:
            body["userName"] = user_name
        return self._signed_in(
            self._client._call("signUpWithPassword", json=body, read=_sign_in_reply)
        )

    @js_options
    def reset_password(self, *, email: str, new_password: str, otp: str) -> None:
        """Set a new password with the code from ``send_otp(type="resetPassword")``."""
        self._client._call(
            "resetPassword",
            json={
                "projectId": self._client.project_id,
                "email": email,
                "newPassword": hash_password(new_password),
                "code": otp,
            },
        )

    def refresh_user(self) -> User:
        """Fetch the current user (``POST /lm/user/info``) and keep it in :attr:`user`."""
        user: User = self._client._call("getUserInfo", read=_user_from)
        self._state.set_user(user)
        return user

    def sign_in(self) -> SignInResult:
        """Pop-up sign-in: browser only. Raises :class:`BrowserOnlyError` (10400)."""
        raise BrowserOnlyError(
            "auth.sign_in() opens a browser pop-up and cannot run in Python. Use "
            "auth.sign_in_with_password(email=..., password=...), or on a server build the client "
            "with create_client(authorization=<the request's Authorization header>) or "
            "client.for_request(...)."
        )

    @js_options
    def sign_in_with_oauth(self, *, provider: str = "google") -> SignInResult:
        """OAuth pop-up sign-in: browser only. Raises :class:`BrowserOnlyError` (10400)."""
        raise BrowserOnlyError(
            f"auth.sign_in_with_oauth(provider={provider!r}) needs a browser pop-up. Sign users "
            "in from your web front end, then pass their token to Python with "
            "client.for_request('Bearer <token>') or create_client(authorization=...)."
        )

    def _signed_in(self, reply: tuple[str, User]) -> SignInResult:
        token, user = reply
        self._state.set(token, user)
        return SignInResult(project_id=self._client.project_id, access_token=token, user=user)
