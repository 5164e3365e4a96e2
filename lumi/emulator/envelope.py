"""The ``{code, message, data}`` envelope and the emulator's error codes.

The real service answers HTTP 200 with an error envelope; so does the emulator for every expected
failure of a known endpoint. A non-200 status, with the same envelope in the body, marks what is
not an answer of the API: an unknown route (404), a wrong method (405), a missing OpenAPI
document (404), a refused ``Host``, origin or private token (403), and the emulator's own crash
(500, code 10500), so that a 5xx check sees it.

Envelopes are written straight to WSGI (``JSONReply``) rather than through a Werkzeug
``Response``: they are most of the traffic, and the generic response object was a measurable
share of a ``get`` by id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from lumi.errors import CODE_BAD_REQUEST, CODE_INVALID_TOKEN, CODE_OK

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

OK = CODE_OK
#: The user token is missing where required, malformed, unknown or expired.
INVALID_TOKEN = CODE_INVALID_TOKEN
#: Invalid JSON, a missing or mistyped field, an invalid query, a wrong OTP, a missing lumiApiKey.
BAD_REQUEST = CODE_BAD_REQUEST
#: Wrong email or password.
BAD_CREDENTIALS = 10401
#: Missing or wrong X-Sign, timestamp more than 5 minutes off, reused nonce.
BAD_SIGNATURE = 10403
#: Refused: a foreign Host, another origin, a missing or wrong private token (HTTP 403).
FORBIDDEN = 10403
#: Unknown route, document, user or file.
NOT_FOUND = 10404
#: The email is already registered.
CONFLICT = 10409
#: The request body is larger than the emulator accepts.
TOO_LARGE = 10413
#: The emulator's own crash (HTTP 500), or a failure of a plugged-in AI provider (HTTP 200: an
#: answer of the API, like the image task's FAILED status and the stream's error frame).
INTERNAL = 10500


class EmulatorError(Exception):
    """A failure answered as an error envelope; ``status`` is the HTTP status (200, except for
    the cases listed at the top of this module)."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def bad_request(message: str) -> EmulatorError:
    return EmulatorError(BAD_REQUEST, message)


#: One encoder for every reply (``json.dumps`` with options builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_ASCII = json.JSONEncoder(separators=(",", ":")).encode
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
_CONTENT_TYPE = ("Content-Type", "application/json; charset=utf-8")


class JSONReply:
    """A JSON body as a WSGI response; ``headers`` may be extended before it is sent."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, payload: Any, status: int = 200) -> None:
        try:
            self.body = _ENCODE(payload).encode()
        except UnicodeEncodeError:  # a lone surrogate (stored from "\ud800"): escape it
            self.body = _ENCODE_ASCII(payload).encode()
        self.status = status
        self.headers = [_CONTENT_TYPE]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        status = _STATUS_LINES.get(self.status) or f"{self.status} Unknown"
        start_response(status, [*self.headers, ("Content-Length", str(len(self.body)))])
        return [self.body]


def json_response(payload: Any, status: int = 200) -> JSONReply:
    return JSONReply(payload, status)


def envelope(data: Any) -> JSONReply:
    return JSONReply({"code": OK, "message": "success", "data": data})


def error_envelope(error: EmulatorError) -> JSONReply:
    return JSONReply({"code": error.code, "message": error.message, "data": None}, error.status)
