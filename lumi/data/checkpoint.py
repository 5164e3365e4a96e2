"""Checkpoint files of resumable commands (``lumi entities import`` and ``export``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ValidationError


def save_atomically(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` as JSON so that ``path`` holds the old or the new state, never a part:
    a temporary file, fsync, rename over ``path``."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        json.dump(state, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def load(path: Path, what: str) -> dict[str, Any] | None:
    """The JSON object saved at ``path`` (None when there is none); ``what`` names it in errors."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{what} {path} is unreadable ({exc})") from None
    if not isinstance(state, dict):
        raise ValidationError(f"{what} {path} is not a lumi {what}")
    return state
