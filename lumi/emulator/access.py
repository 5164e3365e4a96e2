"""Who may reach the emulator.

- **Every route**: the ``Host`` header must name this machine (``localhost``, ``127.0.0.1``,
  ``[::1]``) or a name allowed at start-up, so that a web page cannot reach the emulator through
  a DNS name that it re-points at 127.0.0.1 (DNS rebinding).
- **Private routes** (``/_emulator/*``): no CORS, and a per-run token, sent as the header
  ``X-Lumi-Emulator-Token`` (the CLI, the pytest plugin) or as the cookie that
  ``GET /_emulator/login?token=...&next=...`` sets for a browser (HttpOnly, SameSite=Strict,
  path ``/_emulator/``). A request that carries an ``Origin`` other than the emulator's own is
  refused, and a state-changing request authenticated by the cookie must carry the emulator's own
  ``Origin`` (pages of other ports on localhost are "same site", so SameSite alone is not enough).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from lumi.emulator.envelope import FORBIDDEN, EmulatorError
from lumi.emulator.runtime import TOKEN_HEADER

__all__ = ["LOCAL_HOSTS", "LOGIN_PATH", "TOKEN_HEADER", "AccessPolicy", "login_url"]
LOGIN_PATH = "/_emulator/login"
PRIVATE_PREFIX = "/_emulator/"
#: Names of this machine that every emulator accepts in ``Host``.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Distinct ``Host`` values remembered as allowed (a client choosing many ports is not refused:
#: past this number its values are checked every time).
_PASSED_HOSTS = 64


def host_name(host: str) -> str:
    """The name part of a ``Host`` value, lower-cased: ``[::1]:8787`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def login_url(base_url: str, token: str, next_path: str = PRIVATE_PREFIX) -> str:
    """The URL that signs a browser in to the private routes, then opens ``next_path``."""
    return (
        f"{base_url.rstrip('/')}{LOGIN_PATH}?token={quote(token, safe='')}"
        f"&next={quote(next_path, safe='/')}"
    )


class AccessPolicy:
    """The Host allowlist and the private token of one emulator."""

    def __init__(self, token: str | None = None, allowed_hosts: Iterable[str] = ()) -> None:
        self.token = token or secrets.token_urlsafe(32)
        extra = {host_name(name) for name in allowed_hosts if name.strip()}
        self.allowed_hosts = LOCAL_HOSTS | extra
        #: ``Host`` values already let through, as sent (a few: names and ports of this machine).
        self._passed: set[str] = set()

    def __repr__(self) -> str:  # the token never appears in a repr
        return f"AccessPolicy(allowed_hosts={sorted(self.allowed_hosts)!r})"

    # --- every route ----------------------------------------------------------------------
    def check_host(self, host: str | None) -> None:
        """Refuse a ``Host`` that does not name this machine (no ``Host`` at all: not a browser)."""
        if host is None or host in self._passed:
            return
        name = host_name(host)
        if name not in self.allowed_hosts:
            raise EmulatorError(
                FORBIDDEN,
                f"Host {host[:100]!r} is not allowed (DNS rebinding protection); the emulator "
                f"answers {', '.join(sorted(self.allowed_hosts))}: start it with --allow-host "
                f"{name[:100]} to add this name",
                status=403,
            )
        if len(self._passed) < _PASSED_HOSTS:
            self._passed.add(host)

    # --- private routes -------------------------------------------------------------------
    @staticmethod
    def own_origin(request: Request) -> str:
        return f"{request.scheme}://{request.host}".lower()

    @staticmethod
    def cookie_name(request: Request) -> str:
        # Cookies ignore ports: one name per port keeps two emulators on one machine apart.
        port = request.host.rsplit(":", 1)[-1] if request.host.rsplit(":", 1)[-1].isdigit() else ""
        return f"lumi_emulator_{port or 'default'}"

    def check_private(self, request: Request) -> None:
        """Let the request through, or raise an EmulatorError (HTTP 403) saying why not."""
        origin = request.headers.get("Origin")
        own = self.own_origin(request)
        if origin is not None and origin.lower() != own:
            raise EmulatorError(
                FORBIDDEN,
                f"private emulator routes refuse requests from another origin ({origin[:100]});"
                " they serve the emulator's own pages and the lumi CLI only",
                status=403,
            )
        header = request.headers.get(TOKEN_HEADER)
        if header is not None:
            if not _same(header, self.token):
                raise EmulatorError(FORBIDDEN, f"{TOKEN_HEADER} is wrong for this run", 403)
            return
        cookie = request.cookies.get(self.cookie_name(request))
        if cookie is not None and _same(cookie, self.token):
            if request.method not in _SAFE_METHODS and origin is None:
                raise EmulatorError(
                    FORBIDDEN,
                    f"a {request.method} authenticated by cookie must carry Origin: {own}",
                    status=403,
                )
            return
        raise EmulatorError(
            FORBIDDEN,
            f"private emulator route: send the token printed at start-up as {TOKEN_HEADER}"
            " (the lumi CLI finds it by itself; else --token or $LUMI_EMULATOR_TOKEN), or open"
            f" {LOGIN_PATH}?token=...&next=... once in a browser",
            status=403,
        )

    def login(self, request: Request) -> Response:
        """``GET /_emulator/login?token=&next=``: set the cookie and go to ``next``."""
        token = request.args.get("token", "")
        if not token or not _same(token, self.token):
            raise EmulatorError(FORBIDDEN, "the token in the login URL is wrong for this run", 403)
        next_path = request.args.get("next") or PRIVATE_PREFIX
        # Same-origin paths only: "//host" and "/\\host" would leave the emulator.
        if (
            not next_path.startswith("/")
            or next_path.startswith(("//", "/\\"))
            or any(ord(char) < 0x21 for char in next_path)
        ):
            raise EmulatorError(
                FORBIDDEN, "next must be a path on this emulator, like /_emulator/ui/", 403
            )
        response = Response(status=303, headers={"Location": next_path})
        response.set_cookie(
            self.cookie_name(request),
            self.token,
            path=PRIVATE_PREFIX,
            httponly=True,
            samesite="Strict",
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response
