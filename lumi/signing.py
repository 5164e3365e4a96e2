"""Request signing (docs/protocol.md §2): the exact scheme of the JavaScript client.

``X-Sign`` is Base64(HMAC-SHA256(CLIENT_KEY, canonical_request)) where the canonical request is
``canonical_query + "\\n" + canonical_headers + "\\n" + sha256_hex(body)``. The emulator verifies
with the same functions, so client and server cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

#: The key shipped inside every browser bundle of the JavaScript client. Not a user secret.
CLIENT_KEY = (
    "6QrJZ7pFCmBZAeIJF7IArvkCz+EtzA0RVcpHkiQIsQyhs7QtCS9P+CueZdHfB2OtJcgX3BbqY9pfpWeAVTqCwQ=="
)

_NONCE_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

SIGNATURE_HEADERS = ("X-Timestamp", "X-Nonce", "X-Sign")


def encode_component(value: str) -> str:
    """RFC 3986 percent-encoding: JS ``encodeURIComponent`` with ``!'()*`` also encoded."""
    return quote(value, safe="-_.~")


def js_string(value: Any) -> str:
    """``String(value)`` as JavaScript computes it, for the values a query can hold."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple)):
        # String([a, null, b]) == "a,,b": null/undefined items become empty strings.
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _utf16_key(key: str) -> bytes:
    # JavaScript's default sort compares UTF-16 code units; big-endian UTF-16 bytes order the same.
    return key.encode("utf-16-be", "surrogatepass")


def canonical_query(query: Mapping[str, Any] | None) -> str:
    """All query parameters, keys sorted as JavaScript sorts them, values ``String()``-ed."""
    if not query:
        return ""
    return "&".join(
        f"{encode_component(key)}={encode_component(js_string(query[key]))}"
        for key in sorted(query, key=_utf16_key)
    )


def canonical_headers(timestamp: str, nonce: str) -> str:
    return f"x-nonce:{nonce}\nx-timestamp:{timestamp}"


def payload_hash(body: bytes | None) -> str:
    """Lowercase hex SHA-256 of the exact body bytes; the empty string's hash when no JSON body."""
    return hashlib.sha256(body or b"").hexdigest()


def signature(
    query: Mapping[str, Any] | None, timestamp: str, nonce: str, body: bytes | None
) -> str:
    """The ``X-Sign`` value for these exact inputs."""
    canonical_request = "\n".join(
        (canonical_query(query), canonical_headers(timestamp, nonce), payload_hash(body))
    )
    digest = hmac.new(CLIENT_KEY.encode(), canonical_request.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_nonce() -> str:
    """11 to 13 random ``[0-9a-z]`` characters, like ``Math.random().toString(36).substring(2, 15)``."""
    length = 11 + secrets.randbelow(3)
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def sign_headers(
    query: Mapping[str, Any] | None, body: bytes | None, *, now: float | None = None
) -> dict[str, str]:
    """The three signature headers for a request with this query and these exact body bytes."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = new_nonce()
    return {
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Sign": signature(query, timestamp, nonce, body),
    }


def verify(
    query: Mapping[str, Any] | None,
    timestamp: str,
    nonce: str,
    body: bytes | None,
    sign: str,
) -> bool:
    """Constant-time check of a received ``X-Sign``."""
    return hmac.compare_digest(signature(query, timestamp, nonce, body), sign)
