"""The emulator's own SQLite database (users, tokens, OTPs, outbox, image tasks, events, nonces).

Entities live apart, in the entity store. One connection guarded by a lock: the emulator is a
development server, and SQLite serialises writers anyway; WAL lets the ``lumi emulator set-role``
and ``outbox`` commands read and write while a server runs.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    user_name TEXT,
    role TEXT NOT NULL,
    created_time TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    UNIQUE (project_id, email)
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS otps (
    project_id TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, email, purpose)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    otp TEXT,
    sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS image_tasks (
    message_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    model TEXT NOT NULL,
    messages TEXT NOT NULL,
    status TEXT NOT NULL,
    content TEXT,
    image_url TEXT
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    project_id TEXT,
    received_at TEXT NOT NULL,
    event TEXT NOT NULL
);
"""

_TABLES = ("users", "tokens", "otps", "outbox", "image_tasks", "events", "nonces")


class Database:
    """A thread-safe handle on one SQLite file in WAL mode."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            os.fspath(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed on success and rolled back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement, atomic and committed on its own; returns the rows it changed."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def reset(self) -> None:
        with self.transaction() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")  # fixed table names, no user input

    def close(self) -> None:
        with self._lock:
            self._conn.close()
