"""The signature gate of every enveloped endpoint: ``X-Timestamp``, ``X-Nonce``, ``X-Sign``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

from lumi import signing
from lumi.emulator.envelope import BAD_SIGNATURE, EmulatorError

#: A timestamp further than this from the emulator's clock is refused.
MAX_SKEW_SECONDS = 300


def signed_query(args: MultiDict[str, str]) -> Mapping[str, Any]:
    """The query as the client signed it: a repeated key becomes a list (``ids=a%2Cb``)."""
    return {key: values if len(values) > 1 else values[0] for key, values in args.lists()}


class SignatureChecker:
    """Verifies signatures and refuses a nonce seen within the time window (kept in memory)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._nonces: dict[str, float] = {}
        self._prune_at = 1024

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
        with self._lock:
            self._forget_expired(now)
            if self._nonces.get(nonce, -1.0) >= now:
                raise EmulatorError(
                    BAD_SIGNATURE, "X-Nonce was already used; sign every request anew"
                )
            self._nonces[nonce] = int(timestamp) + MAX_SKEW_SECONDS

    def _forget_expired(self, now: float) -> None:
        # Amortised: prune only when the table has doubled since the last pruning.
        if len(self._nonces) < self._prune_at:
            return
        self._nonces = {n: until for n, until in self._nonces.items() if until >= now}
        self._prune_at = max(1024, 2 * len(self._nonces))

    def reset(self) -> None:
        with self._lock:
            self._nonces.clear()
