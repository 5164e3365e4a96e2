"""Every LumiError kind, the HTTP answer the integrations give it, and whether the message is
passed on (caller's side, 4xx) or replaced by a fixed one (upstream side, 5xx)."""

from __future__ import annotations

from collections.abc import Callable

import lumi
from lumi.errors import BrowserOnlyError
from lumi.events import EventsConfigError

SECRET = "tok_SECRET_do_not_leak"

#: name -> (make the error, HTTP status, the body's code, message passed on?)
ERROR_CASES: dict[str, tuple[Callable[[], lumi.LumiError], int, int, bool]] = {
    "authentication": (lambda: lumi.AuthenticationError(2100, "token invalid"), 401, 2100, True),
    "validation": (lambda: lumi.ValidationError("title must be a string"), 400, 10400, True),
    "schema": (lambda: lumi.SchemaError("Note.title: expected str"), 400, 10400, True),
    "browser_only": (lambda: BrowserOnlyError("needs a browser"), 400, 10400, True),
    "events_config": (lambda: EventsConfigError("bad option"), 400, 10400, True),
    "not_found": (lambda: lumi.NotFoundError(10404, "no document x in Notes"), 404, 10404, True),
    "rate_limit": (lambda: lumi.RateLimitError(), 429, 10429, True),
    "api_wrong_password": (
        lambda: lumi.APIError(10401, "wrong email or password"),
        401,
        10401,
        True,
    ),
    "api_bad_request": (lambda: lumi.APIError(10400, "invalid query: $bad"), 400, 10400, True),
    "api_odd_4xx": (lambda: lumi.APIError(10499, "popup closed"), 400, 10499, True),
    "api_server": (lambda: lumi.APIError(5001, f"internal {SECRET}"), 502, 5001, False),
    "timeout": (lambda: lumi.TimeoutError(f"read timeout {SECRET}"), 504, -1, False),
    "connection": (lambda: lumi.ConnectionError(f"refused {SECRET}"), 502, -1, False),
    "transport": (lambda: lumi.TransportError(f"reset {SECRET}"), 502, -1, False),
    "http_status": (lambda: lumi.HTTPStatusError(503, "HTTP 503", SECRET), 502, -2, False),
    "invalid_response": (
        lambda: lumi.InvalidResponseError(200, "not JSON", SECRET),
        502,
        -2,
        False,
    ),
    "function": (
        lambda: lumi.FunctionError(500, "fn failed", SECRET, {"s": SECRET}),
        502,
        -2,
        False,
    ),
    "other": (lambda: lumi.LumiError(7, f"odd {SECRET}"), 500, 7, False),
}
