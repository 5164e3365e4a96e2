"""Opt-in durability: accepted events are on disk before ``finish()`` returns.

Layout of ``spool_dir``::

    spool_dir/
      <pid>-<random>/          one directory per live tracker (its "owner")
        owner.lock             held (filelock, i.e. flock) for the owner's lifetime
        seg-000001.ndjson      append-only NDJSON segments, fsync'd per event
        seg-000002.ndjson

An event is appended (write + fsync) when accepted and counted against its segment; when every
event of a segment is acknowledged (delivered, or refused for good) and the segment is no
longer the one being written, the file is deleted. At start a tracker adopts the directories
whose ``owner.lock`` it can take (their process is gone, e.g. killed with ``kill -9``: the OS
released its lock) and sends their events again. A segment is deleted only when *all* of its
events are acknowledged, so delivery is at-least-once: an event may be sent twice across a
crash, never lost; the receiver de-duplicates on ``event_id``. A torn last line (the process
died inside ``write``) was never acknowledged to a caller and is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._extras import install_command
from .config import EventsConfigError

logger = logging.getLogger("lumi.events")

LOCK_NAME = "owner.lock"
SEGMENT_GLOB = "seg-*.ndjson"

# Locks inherited over fork() belong to the parent; releasing them in the child (explicitly or
# from a finaliser) would release the parent's flock, so the child keeps them referenced.
_INHERITED: list[object] = []


def _filelock() -> Any:
    try:
        import filelock
    except ImportError:
        raise EventsConfigError(
            f"spool_dir needs the 'filelock' package: {install_command('events')}"
        ) from None
    return filelock


class Segment:
    """One segment file and the number of its events not yet acknowledged."""

    __slots__ = ("path", "pending", "sealed")

    def __init__(self, path: Path, pending: int = 0, sealed: bool = False) -> None:
        self.path = path
        self.pending = pending
        self.sealed = sealed


class _Adopted:
    """A dead owner's directory being re-delivered; its lock is held until it is empty."""

    def __init__(self, directory: Path, lock: Any) -> None:
        self.directory = directory
        self.lock = lock
        self.segments: set[Segment] = set()


class Spool:
    """Per-process append-only segments with acknowledgement-driven deletion."""

    def __init__(
        self, directory: Path, *, fsync: bool = True, max_segment_bytes: int = 4_000_000
    ) -> None:
        filelock = _filelock()
        self.root = directory
        self.fsync = fsync
        self.max_segment_bytes = max_segment_bytes
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.owner_dir = directory / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.owner_dir.mkdir(mode=0o700)
        self._lock = filelock.FileLock(str(self.owner_dir / LOCK_NAME), thread_local=False)
        self._lock.acquire(timeout=0)
        self._mutex = threading.Lock()
        self._current: Segment | None = None
        self._file: Any = None
        self._size = 0
        self._seq = 0
        self._adopted: dict[Segment, _Adopted] = {}
        self.closed = False

    # -- writing -------------------------------------------------------------------------------
    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._current is not None:
            self._current.sealed = True
            if self._current.pending == 0:
                self._unlink(self._current)
        self._seq += 1
        path = self.owner_dir / f"seg-{self._seq:06d}.ndjson"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "ab", buffering=0)
        self._current = Segment(path)
        self._size = 0

    def append(self, line: bytes) -> Segment:
        """Write one event durably; returns the token to :meth:`ack` it with."""
        with self._mutex:
            if self.closed:
                raise EventsConfigError("the spool is closed")
            if self._current is None or self._size >= self.max_segment_bytes:
                self._rotate()
            assert self._current is not None
            self._file.write(line + b"\n")
            if self.fsync:
                os.fsync(self._file.fileno())
            self._size += len(line) + 1
            self._current.pending += 1
            return self._current

    def ack(self, token: object) -> None:
        """An event of this segment was delivered (or refused for good)."""
        if not isinstance(token, Segment):
            return
        with self._mutex:
            token.pending -= 1
            if token.pending <= 0 and token.sealed:
                self._unlink(token)

    def _unlink(self, segment: Segment) -> None:
        segment.path.unlink(missing_ok=True)
        adopted = self._adopted.pop(segment, None)
        if adopted is not None:
            adopted.segments.discard(segment)
            if not adopted.segments:
                self._release_dir(adopted.directory, adopted.lock)

    @staticmethod
    def _release_dir(directory: Path, lock: Any) -> None:
        leftovers = [p for p in directory.iterdir() if p.name != LOCK_NAME]
        if leftovers:
            lock.release()
            return
        try:
            (directory / LOCK_NAME).unlink()
            lock.release()
            directory.rmdir()
        except OSError:  # another process raced into the directory; it cleans up after itself
            pass

    # -- recovery ------------------------------------------------------------------------------
    def recover(self) -> Iterator[tuple[bytes, Segment]]:
        """Events left by trackers whose process is gone, with their ack tokens."""
        filelock = _filelock()
        for directory in sorted(self.root.iterdir()):
            if not directory.is_dir() or directory == self.owner_dir:
                continue
            lock = filelock.FileLock(str(directory / LOCK_NAME), thread_local=False)
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                continue  # its owner is alive
            adopted = _Adopted(directory, lock)
            found: list[tuple[bytes, Segment]] = []
            for path in sorted(directory.glob(SEGMENT_GLOB)):
                lines = self._read_segment(path)
                if not lines:
                    path.unlink(missing_ok=True)
                    continue
                segment = Segment(path, pending=len(lines), sealed=True)
                adopted.segments.add(segment)
                with self._mutex:
                    self._adopted[segment] = adopted
                found.extend((line, segment) for line in lines)
            if not adopted.segments:
                self._release_dir(directory, lock)
            yield from found

    @staticmethod
    def _read_segment(path: Path) -> list[bytes]:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            logger.warning("spool: cannot read %s (%s)", path, exc)
            return []
        lines = []
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError:
                logger.warning("spool: skipped a torn line in %s", path.name)
                continue
            lines.append(line)
        return lines

    # -- life cycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop writing; delete this owner's directory when nothing in it is pending."""
        with self._mutex:
            if self.closed:
                return
            self.closed = True
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._current is not None:
                self._current.sealed = True
                if self._current.pending == 0:
                    self._current.path.unlink(missing_ok=True)
        if not any(self.owner_dir.glob(SEGMENT_GLOB)):
            self._release_dir(self.owner_dir, self._lock)
        else:
            self._lock.release()

    def abandon_after_fork(self) -> None:
        """In a forked child: never touch the parent's files or locks again."""
        _INHERITED.append(self)
        self.closed = True
