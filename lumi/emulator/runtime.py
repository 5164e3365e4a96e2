"""Where a running emulator leaves its private token for the commands of the same user.

``lumi emulator outbox``, ``set-role`` and ``lumi events tail`` talk to a running emulator's
private routes, which need the token it printed at start-up. So that nobody copies it by hand,
a started emulator writes ``emulator-<port>.json`` (``{url, token, pid, dataDir}``, mode 0600)
into the user's runtime directory (``$XDG_RUNTIME_DIR/lumi``, else a private 0700 folder that
platformdirs picks) and removes it when it stops. A command finds the token by the port of its
``--url``; ``--token`` or ``$LUMI_EMULATOR_TOKEN`` come first.

Deliberately free of Werkzeug and waitress: the events CLI imports it with the ``events`` extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

ENV_TOKEN = "LUMI_EMULATOR_TOKEN"
#: The request header that carries the token to ``/_emulator/*``.
TOKEN_HEADER = "X-Lumi-Emulator-Token"


def runtime_dir() -> Path:
    """The user's private runtime folder for lumi (created 0700 when missing)."""
    import platformdirs

    with warnings.catch_warnings():
        # platformdirs warns when $XDG_RUNTIME_DIR is unset, then picks a safe private folder.
        warnings.simplefilter("ignore")
        path = Path(platformdirs.user_runtime_dir("lumi", ensure_exists=True))
    path.chmod(0o700)
    return path


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def _file(port: int) -> Path:
    return runtime_dir() / f"emulator-{port}.json"


def announce(url: str, token: str, data_dir: Path) -> Path | None:
    """Write the runtime file of an emulator listening at ``url``; None when it cannot be written
    (the emulator still runs: the token is printed and ``Emulator.private_token`` has it)."""
    port = _port(url)
    if port is None:
        return None
    record = {"url": url, "token": token, "pid": os.getpid(), "dataDir": str(data_dir)}
    try:
        path = _file(port)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(temporary, path)
    except OSError:
        return None
    return path


def withdraw(path: Path, token: str) -> None:
    """Remove the runtime file, unless another emulator has since taken the port over."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()


def find_token(url: str, explicit: str | None = None) -> str | None:
    """The private token for the emulator at ``url``: ``explicit``, else ``$LUMI_EMULATOR_TOKEN``,
    else the runtime file of that port; None when none is known."""
    if explicit:
        return explicit
    if os.environ.get(ENV_TOKEN):
        return os.environ[ENV_TOKEN]
    port = _port(url)
    if port is None:
        return None
    try:
        record = json.loads(_file(port).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token = record.get("token") if isinstance(record, dict) else None
    return token if isinstance(token, str) and token else None
