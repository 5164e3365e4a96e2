"""Who the events are about: an anonymous ``anon_<uuid>`` until ``identify(user_id)``.

For scripts and CLIs the identity is persisted for the machine's user (JSON, mode 0600, in the
platformdirs user config directory, or ``identity_path``), under a file lock so that two
processes starting together agree on one anonymous id. Servers do not use the persisted
identity for requests: see :mod:`lumi.events.context`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import attrs

from .._extras import install_command
from .config import EventsConfigError

logger = logging.getLogger("lumi.events")

ANON_PREFIX = "anon_"
_FILE_VERSION = 1


def new_anonymous_id() -> str:
    """``anon_<uuid4>``."""
    return f"{ANON_PREFIX}{uuid.uuid4()}"


@attrs.frozen
class IdentityState:
    """The distinct id in use, the anonymous id it started from, and whether it is a user id."""

    distinct_id: str
    anonymous_id: str | None
    identified: bool = False

    @classmethod
    def anonymous(cls, anonymous_id: str | None = None) -> IdentityState:
        anon = anonymous_id or new_anonymous_id()
        return cls(distinct_id=anon, anonymous_id=anon, identified=False)


def default_identity_path() -> Path:
    """``<user config dir>/lumi/events-identity.json`` (needs platformdirs)."""
    try:
        import platformdirs
    except ImportError:
        raise EventsConfigError(
            "persisting the anonymous id needs the 'platformdirs' package: "
            f"{install_command('events')} (or pass identity_path=..., or persist_identity=False)"
        ) from None
    return Path(platformdirs.user_config_dir("lumi")) / "events-identity.json"


def _file_lock(path: Path) -> Any:
    try:
        import filelock
    except ImportError:
        raise EventsConfigError(
            "persisting the anonymous id needs the 'filelock' package: "
            f"{install_command('events')} (or pass persist_identity=False)"
        ) from None
    return filelock.FileLock(str(path) + ".lock", thread_local=False)


class IdentityFile:
    """Reads and writes the persisted identity (atomically, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = _file_lock(path)

    def _read(self) -> IdentityState | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("identity file %s is unreadable (%s); starting anew", self.path, exc)
            return None
        if not isinstance(data, dict):
            return None
        distinct, anon = data.get("distinct_id"), data.get("anonymous_id")
        if not isinstance(distinct, str) or not distinct or not isinstance(anon, (str, type(None))):
            return None
        return IdentityState(distinct, anon, bool(data.get("identified", False)))

    def _write(self, state: IdentityState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        payload = json.dumps(
            {"version": _FILE_VERSION, **attrs.asdict(state)}, separators=(",", ":")
        ).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)  # the umask could have widened nothing, but an old file might be
        os.replace(tmp, self.path)

    def load_or_create(self) -> IdentityState:
        with self._lock:
            state = self._read()
            if state is None:
                state = IdentityState.anonymous()
                self._write(state)
            return state

    def save(self, state: IdentityState) -> None:
        with self._lock:
            self._write(state)


class Identity:
    """The process-wide identity of a tracker (thread-safe), optionally persisted."""

    def __init__(self, store: IdentityFile | None) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._state = store.load_or_create() if store is not None else IdentityState.anonymous()

    @property
    def state(self) -> IdentityState:
        return self._state

    def set(self, state: IdentityState) -> None:
        with self._lock:
            self._state = state
            if self._store is not None:
                try:
                    self._store.save(state)
                except OSError as exc:
                    logger.warning(
                        "could not persist the identity to %s (%s)", self._store.path, exc
                    )

    def after_fork(self) -> None:
        self._lock = threading.Lock()


def open_identity(path: Path | None, persist: bool | None) -> Identity:
    """The tracker's identity: persisted unless ``persist`` is False.

    ``persist=None`` (the default) persists when the ``events`` extra is installed and falls back
    to an in-memory identity with a warning otherwise; ``persist=True`` raises instead."""
    if persist is False:
        return Identity(None)
    try:
        store = IdentityFile(path if path is not None else default_identity_path())
        return Identity(store)
    except EventsConfigError as exc:
        if persist:
            raise
        logger.warning("lumi.events: the anonymous id is kept in memory only: %s", exc.message)
    except OSError as exc:
        if persist:
            raise EventsConfigError(f"cannot persist the identity: {exc}") from exc
        logger.warning("lumi.events: the anonymous id is kept in memory only (%s)", exc)
    return Identity(None)
