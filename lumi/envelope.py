"""The one place where a reply becomes data or a typed error (docs/protocol.md §1)."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from .errors import (
    CODE_INVALID_TOKEN,
    CODE_OK,
    APIError,
    AuthenticationError,
    HTTPStatusError,
    InvalidResponseError,
    NotFoundError,
    SchemaError,
)
from .jsonenc import loads_reply
from .serde import structure

T = TypeVar("T")

_EXCERPT_CHARS = 200
_MESSAGE_CHARS = 1000
_TAGS = re.compile(r"<[^>]{0,200}>")
_SPACES = re.compile(r"\s+")
#: Envelope codes that mean "no such thing".
NOT_FOUND_CODES = frozenset({404, 10404})


def excerpt(body: bytes, limit: int = _EXCERPT_CHARS) -> str:
    """A short, single-line, printable start of a body (HTML tags removed)."""
    text = body[: limit * 8].decode("utf-8", "replace")
    text = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_json(status: int, body: bytes, what: str) -> Any:
    """Parse a JSON body or raise InvalidResponseError with the status and an excerpt."""
    try:
        return loads_reply(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        short = excerpt(body)
        raise InvalidResponseError(
            status, f"{what}: the reply is not JSON (HTTP {status}): {short!r}", short
        ) from None


def check_status(status: int, reason: str, body: bytes, what: str) -> None:
    """Raise HTTPStatusError for a non-2xx status, with a short excerpt of the body."""
    if not 200 <= status < 300:
        short = excerpt(body)
        detail = f": {short!r}" if short else ""
        raise HTTPStatusError(status, f"{what}: HTTP {status} {reason}{detail}".rstrip(), short)


def decode_envelope(status: int, reason: str, body: bytes, what: str) -> Any:
    """The ``data`` of a successful envelope; every other reply raises a LumiError subclass.

    ``what`` names the call (``"POST /lm/p1/Posts/documents/list"``) for the messages.
    """
    check_status(status, reason, body, what)
    payload = decode_json(status, body, what)
    if not isinstance(payload, dict) or "code" not in payload:
        short = excerpt(body)
        raise InvalidResponseError(
            status, f"{what}: the reply is not an envelope: {short!r}", short
        )
    code = payload["code"]
    if isinstance(code, bool) or not isinstance(code, int):
        short = excerpt(body)
        raise InvalidResponseError(
            status, f"{what}: the envelope's code is not an integer: {code!r:.40}", short
        )
    if code == CODE_OK:
        return payload.get("data")
    message = payload.get("message")
    text = message[:_MESSAGE_CHARS] if isinstance(message, str) else _short_json(message)
    if code == CODE_INVALID_TOKEN:
        raise AuthenticationError(code, text or "The user token is invalid or expired")
    if code in NOT_FOUND_CODES:
        raise NotFoundError(code, text or "Not found")
    raise APIError(code, text or f"{what} failed")


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value)[:_EXCERPT_CHARS]
    except (ValueError, RecursionError):
        return ""


#: Where a SchemaError message names the field: ``Record.createdAt: expected ...``.
_FIELD = re.compile(r"([A-Za-z_]\w*(?:\.[^\s:.]+)+):")


def read_reply(data: Any, cls: type[T], what: str) -> T:
    """``data`` from the server as ``cls``; a reply that does not fit is the server's fault, so
    it is an :class:`InvalidResponseError` naming the call and the field (``.field``), never a
    SchemaError (which means the caller's own data did not fit)."""
    name = cls.__name__
    try:
        return structure(data, cls)
    except SchemaError as exc:
        found = _FIELD.match(exc.message)
        raise InvalidResponseError(
            200,
            f"{what}: the reply does not fit {name}: {exc.message}",
            _short_json(data)[:_EXCERPT_CHARS],
            field=getattr(exc, "field", None) or (found.group(1) if found else None),
        ) from None
    except RecursionError:
        raise InvalidResponseError(
            200, f"{what}: the reply does not fit {name}: it is nested too deeply"
        ) from None
