"""Pages: the Jinja2 environment (autoescaped, so stored values are always text), the response
headers every console page carries, and the package's static files."""

from __future__ import annotations

import mimetypes
import time
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from werkzeug.wrappers import Response

from lumi.emulator.console import CONSOLE_PATH

#: The console's own pages: nothing from elsewhere, no inline script or style, never framed.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
#: An email's HTML, inside the Outbox's sandboxed frame: no script, nothing fetched but inline
#: images, and a document of an opaque origin even when opened on its own.
MAIL_POLICY = "; ".join(
    [
        "sandbox",
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "font-src data:",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ]
)
_PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",
    # Same-origin: form posts carry the Origin that the private routes require for a change.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATIC_FILES = frozenset({"console.css", "console.js"})

NAV = [
    ("entities", "Entities"),
    ("users", "Users"),
    ("outbox", "Outbox"),
    ("files", "Files"),
    ("events", "Events"),
]


def url(*parts: str, **query: Any) -> str:
    """A console URL: each part quoted as one path segment, then the query (None values left
    out)."""
    path = CONSOLE_PATH + "/".join(quote(part, safe="") for part in parts)
    pairs = {key: value for key, value in query.items() if value is not None and value != ""}
    return path + ("?" + urlencode(pairs) if pairs else "")


def _size(value: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024  # type: ignore[assignment]
    return str(value)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _when_ms(ms: float | None) -> str:
    return "-" if ms is None else _when(ms / 1000)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("lumi.emulator.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(url=url, nav=NAV)
_ENV.filters.update(size=_size, when=_when, when_ms=_when_ms)


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A console page from ``templates/<template>``."""
    html = _ENV.get_template(template).render(**context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(_PAGE_HEADERS)
    return response


def mail_html(html: str) -> Response:
    """An email's HTML for the Outbox's sandboxed frame."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def static(name: str) -> Response | None:
    """A file of ``static/`` (None: not one of them)."""
    if name not in STATIC_FILES:
        return None
    data = (resources.files("lumi.emulator.console") / "static" / name).read_bytes()
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
