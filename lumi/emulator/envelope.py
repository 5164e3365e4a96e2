"""The ``{code, message, data}`` envelope and the emulator's error codes.

The real service answers HTTP 200 with an error envelope; so does the emulator for every failure
of a known endpoint. Only an unknown route (404), a wrong method (405) and a missing OpenAPI
document (404) carry a non-200 status, with the same envelope in the body, because they are
mistakes in the URL rather than answers of the API.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from lumi.errors import CODE_BAD_REQUEST, CODE_INVALID_TOKEN, CODE_OK

OK = CODE_OK
#: The user token is missing where required, malformed, unknown or expired.
INVALID_TOKEN = CODE_INVALID_TOKEN
#: Invalid JSON, a missing or mistyped field, an invalid query, a wrong OTP, a missing lumiApiKey.
BAD_REQUEST = CODE_BAD_REQUEST
#: Wrong email or password.
BAD_CREDENTIALS = 10401
#: Missing or wrong X-Sign, timestamp more than 5 minutes off, reused nonce.
BAD_SIGNATURE = 10403
#: Unknown route, document, user or file.
NOT_FOUND = 10404
#: The email is already registered.
CONFLICT = 10409
#: The request body is larger than the emulator accepts.
TOO_LARGE = 10413
#: A bug in the emulator or a failure of a plugged-in AI provider.
INTERNAL = 10500


class EmulatorError(Exception):
    """A failure answered as an error envelope; ``status`` is the HTTP status (normally 200)."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def bad_request(message: str) -> EmulatorError:
    return EmulatorError(BAD_REQUEST, message)


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type="application/json; charset=utf-8")


def envelope(data: Any) -> Response:
    return json_response({"code": OK, "message": "success", "data": data})


def error_envelope(error: EmulatorError) -> Response:
    return json_response({"code": error.code, "message": error.message, "data": None}, error.status)
