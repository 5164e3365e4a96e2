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
#: Byte value -> nonce character (value % 36): one random byte per character. 256 is not a
#: multiple of 36, so four characters are 8/7 as likely as the others: under 0.2 bits of the
#: 5.17 each carries are lost, and a nonce only has to be unlikely to repeat within seconds.
_NONCE_TABLE = bytes(ord(_NONCE_ALPHABET[value % 36]) for value in range(256))

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


#: The hash of an empty payload (no body, or a multipart one: docs/protocol.md §2).
EMPTY_HASH = hashlib.sha256(b"").hexdigest()


def payload_hash(body: bytes | None) -> str:
    """Lowercase hex SHA-256 of the exact body bytes; the empty string's hash when no JSON body."""
    return hashlib.sha256(body).hexdigest() if body else EMPTY_HASH


#: The HMAC keyed once: each signature copies it (keying is a third of the cost of one).
_KEYED = hmac.new(CLIENT_KEY.encode(), digestmod=hashlib.sha256)


def _sign(query_text: str, timestamp: str, nonce: str, body_hash: str) -> str:
    mac = _KEYED.copy()  # never updated itself: copies are independent, also across threads
    mac.update(f"{query_text}\n{canonical_headers(timestamp, nonce)}\n{body_hash}".encode())
    return base64.b64encode(mac.digest()).decode("ascii")


def signature(
    query: Mapping[str, Any] | None, timestamp: str, nonce: str, body: bytes | None
) -> str:
    """The ``X-Sign`` value for these exact inputs."""
    return _sign(canonical_query(query), timestamp, nonce, payload_hash(body))


def new_nonce() -> str:
    """11 to 13 random ``[0-9a-z]`` characters, like ``Math.random().toString(36).substring(2, 15)``,
    from one call to the system's random source."""
    raw = secrets.token_bytes(14)
    return raw[1 : 12 + raw[0] % 3].translate(_NONCE_TABLE).decode("ascii")


def signed_headers(query_text: str, body_hash: str, *, now: float | None = None) -> dict[str, str]:
    """The three signature headers, from the canonical query and the body's hash computed once
    per request (:func:`canonical_query`, :func:`payload_hash`); a fresh nonce and time each."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = new_nonce()
    return {
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Sign": _sign(query_text, timestamp, nonce, body_hash),
    }


def sign_headers(
    query: Mapping[str, Any] | None, body: bytes | None, *, now: float | None = None
) -> dict[str, str]:
    """The three signature headers for a request with this query and these exact body bytes."""
    return signed_headers(canonical_query(query), payload_hash(body), now=now)


def verify(
    query: Mapping[str, Any] | None,
    timestamp: str,
    nonce: str,
    body: bytes | None,
    sign: str,
) -> bool:
    """Constant-time check of a received ``X-Sign``."""
    return hmac.compare_digest(signature(query, timestamp, nonce, body), sign)
