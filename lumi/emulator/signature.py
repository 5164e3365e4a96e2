"""The signature gate of every enveloped endpoint: ``X-Timestamp``, ``X-Nonce``, ``X-Sign``.

Nonces are kept for as long as their timestamp is acceptable, in memory (the check) and in the
emulator's database, so that a request replayed after a restart on the same data folder is
refused like any other replay: a new checker loads the live nonces back. Both are bounded by
that window: expired nonces are dropped as new ones arrive.

Writes are batched: a background thread writes new nonces every ``FLUSH_SECONDS`` and
:meth:`SignatureChecker.close` writes the rest, so a signed request costs no database commit of
its own (one commit per request was a third of the emulator's own time for a ``get`` by id).
The price: after a crash (``kill -9``), the nonces of the last ``FLUSH_SECONDS`` are forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from lumi import signing
from lumi.emulator.db import Database
from lumi.emulator.envelope import BAD_SIGNATURE, EmulatorError

#: A timestamp further than this from the emulator's clock is refused.
MAX_SKEW_SECONDS = 300
#: A nonce is 11-13 characters from the JavaScript client; anything longer is not a nonce.
MAX_NONCE_CHARS = 64
#: New nonces reach the database within this many seconds (and at close).
FLUSH_SECONDS = 0.1


def signed_query(args: MultiDict[str, str]) -> Mapping[str, Any]:
    """The query as the client signed it: a repeated key becomes a list (``ids=a%2Cb``)."""
    return {key: values if len(values) > 1 else values[0] for key, values in args.lists()}


class SignatureChecker:
    """Verifies signatures and refuses a nonce seen within the time window (kept in ``db``)."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        rows = db.query("SELECT nonce, expires_at FROM nonces WHERE expires_at >= ?", (clock(),))
        self._nonces: dict[str, float] = {row[0]: row[1] for row in rows}
        self._prune_at = max(1024, 2 * len(self._nonces))
        self._pending: list[tuple[str, float]] = []
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None

    def check(self, query: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> None:
        """Refuse (code 10403) a request whose ``headers`` (at least the three signature headers,
        by these names) do not sign ``query`` and ``body``, or whose nonce was already used."""
        timestamp = headers.get("X-Timestamp")
        nonce = headers.get("X-Nonce")
        sign = headers.get("X-Sign")
        if not (timestamp and nonce and sign):
            given = (("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Sign", sign))
            missing = ", ".join(name for name, value in given if not value)
            raise EmulatorError(BAD_SIGNATURE, f"missing signature header(s): {missing}")
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
            if self._nonces.get(nonce, -1.0) >= now:
                return False
            self._nonces[nonce] = until
            self._pending.append((nonce, until))
            if len(self._nonces) >= self._prune_at:  # amortised: when the table has doubled
                self._nonces = {n: t for n, t in self._nonces.items() if t >= now}
                self._prune_at = max(1024, 2 * len(self._nonces))
            if self._flusher is None and not self._closed.is_set():
                self._flusher = threading.Thread(
                    target=self._flush_every, name="lumi-emulator-nonces", daemon=True
                )
                self._flusher.start()
        return True

    def _flush_every(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write the nonces recorded since the last flush, and forget the expired ones."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce)"
                " DO UPDATE SET expires_at = excluded.expires_at",
                batch,
            )
            conn.execute("DELETE FROM nonces WHERE expires_at < ?", (self._clock(),))

    def reset(self) -> None:
        """Forget every nonce (the database table is emptied by the emulator's reset)."""
        with self._lock:
            self._nonces.clear()
            self._pending.clear()

    def close(self) -> None:
        """Stop the background writer and write what is left."""
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join()
        self.flush()

    def live_nonces(self) -> int:
        """How many nonces are remembered, in memory and in the database."""
        self.flush()
        with self._lock:
            memory = len(self._nonces)
        return max(memory, int(self._db.query("SELECT COUNT(*) FROM nonces")[0][0]))
