"""Read-only SQLite connections of the console's own, each bounded in time.

The console reads the emulator's files through connections of its own rather than the
emulator's shared ones: a long read (an aggregate over many events) then never holds the lock
that the app's requests wait on, and ``mode=ro`` makes a write through them impossible. WAL lets
them read beside the writer.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The longest one console query may run before it is interrupted.
QUERY_SECONDS = 10.0


class ConsoleQueryError(Exception):
    """A console query failed or ran too long; the message says which file and why."""


@contextmanager
def read_only(path: Path, seconds: float = QUERY_SECONDS) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``path``, interrupted after ``seconds``."""
    if not path.is_file():
        raise ConsoleQueryError(f"{path.name} is missing from the data folder")
    deadline = time.monotonic() + seconds
    try:
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, timeout=seconds)
    except sqlite3.Error as exc:
        raise ConsoleQueryError(f"cannot open {path.name}: {exc}") from None
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield conn
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise ConsoleQueryError(
                f"reading {path.name} took longer than {seconds:g} s; it was stopped"
            ) from None
        raise ConsoleQueryError(f"reading {path.name} failed: {exc}") from None
    except sqlite3.Error as exc:
        raise ConsoleQueryError(f"reading {path.name} failed: {exc}") from None
    finally:
        conn.close()
