"""The signature gate of every enveloped endpoint: ``X-Timestamp``, ``X-Nonce``, ``X-Sign``.

Nonces are kept in the emulator's database for as long as their timestamp is acceptable, so a
request replayed after a restart on the same data folder is refused like any other replay. The
table is bounded by that window: expired nonces are deleted as new ones arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

from lumi import signing
from lumi.emulator.db import Database
from lumi.emulator.envelope import BAD_SIGNATURE, EmulatorError

#: A timestamp further than this from the emulator's clock is refused.
MAX_SKEW_SECONDS = 300
#: A nonce is 11-13 characters from the JavaScript client; anything longer is not a nonce.
MAX_NONCE_CHARS = 64
#: Expired nonces are deleted once every this many new ones.
_PRUNE_EVERY = 256


def signed_query(args: MultiDict[str, str]) -> Mapping[str, Any]:
    """The query as the client signed it: a repeated key becomes a list (``ids=a%2Cb``)."""
    return {key: values if len(values) > 1 else values[0] for key, values in args.lists()}


class SignatureChecker:
    """Verifies signatures and refuses a nonce seen within the time window (kept in ``db``)."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._until_prune = 0

    def check(self, query: Mapping[str, Any], headers: Headers, body: bytes) -> None:
        timestamp = headers.get("X-Timestamp")
        nonce = headers.get("X-Nonce")
        sign = headers.get("X-Sign")
        missing = [
            name
            for name, value in (("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Sign", sign))
            if not value
        ]
        if missing or timestamp is None or nonce is None or sign is None:
            raise EmulatorError(BAD_SIGNATURE, f"missing signature header(s): {', '.join(missing)}")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise EmulatorError(BAD_SIGNATURE, "X-Timestamp must be Unix seconds (digits only)")
        if len(nonce) > MAX_NONCE_CHARS:
            raise EmulatorError(
                BAD_SIGNATURE, f"X-Nonce is longer than {MAX_NONCE_CHARS} characters"
            )
        now = self._clock()
        if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
            raise EmulatorError(
                BAD_SIGNATURE,
                f"X-Timestamp is more than {MAX_SKEW_SECONDS} s away from the server clock;"
                " check the system time",
            )
        if not signing.verify(query, timestamp, nonce, body, sign):
            raise EmulatorError(
                BAD_SIGNATURE,
                "X-Sign does not match the request (query, X-Timestamp, X-Nonce and body bytes)",
            )
        if not self._remember(nonce, int(timestamp) + MAX_SKEW_SECONDS, now):
            raise EmulatorError(BAD_SIGNATURE, "X-Nonce was already used; sign every request anew")

    def _remember(self, nonce: str, until: float, now: float) -> bool:
        """Record the nonce; False when it is already recorded and still in its window."""
        with self._lock:
            self._until_prune -= 1
            prune = self._until_prune <= 0
            if prune:
                self._until_prune = _PRUNE_EVERY
        if prune:
            self._db.execute("DELETE FROM nonces WHERE expires_at < ?", (now,))
        # One statement (atomic on its own, no explicit transaction: this runs on every signed
        # request): an expired entry is taken over, a live one is left alone (no row changes).
        changed = self._db.execute(
            "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce)"
            " DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at < ?",
            (nonce, until, now),
        )
        return changed == 1

    def live_nonces(self) -> int:
        """How many nonces are kept (for tests and diagnostics)."""
        return int(self._db.query("SELECT COUNT(*) FROM nonces")[0][0])
