"""The chat input tracker: started, submitted (typing time, length), abandoned (a hash only).

Meant for the server side of a chat UI that reports input activity, or for terminal chat apps::

    chat = tracker.chat_input("main")
    chat.started()              # first keystroke
    chat.submitted(text)        # chat_message_submitted: typing_duration_ms, character_count
    chat.abandoned(partial)     # chat_input_abandoned: partial_content_hash = sha256 of the text

The text itself never leaves the process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tracker import Tracker

STARTED = "chat_input_started"
SUBMITTED = "chat_message_submitted"
ABANDONED = "chat_input_abandoned"


def content_hash(text: str) -> str:
    """``sha256:<hex>`` of the UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class ChatInputTracker:
    """Tracks one chat input box; each started/submitted or started/abandoned cycle is one use."""

    def __init__(self, tracker: Tracker, input_id: str | None = None) -> None:
        self._tracker = tracker
        self.input_id = input_id
        self._started_at: float | None = None
        self._lock = threading.Lock()

    def _fields(self) -> dict[str, Any]:
        return {} if self.input_id is None else {"input_id": self.input_id}

    @property
    def active(self) -> bool:
        return self._started_at is not None

    def started(self) -> None:
        """The user began typing (idempotent until submitted or abandoned)."""
        with self._lock:
            if self._started_at is not None:
                return
            self._started_at = time.monotonic()
        self._tracker.capture_ui_event(STARTED, **self._fields())

    def _elapsed_ms(self) -> float:
        with self._lock:
            started, self._started_at = self._started_at, None
        return 0.0 if started is None else round((time.monotonic() - started) * 1000, 3)

    def submitted(self, text: str) -> None:
        """The message was sent: typing duration and character count, not the text."""
        elapsed = self._elapsed_ms()
        self._tracker.capture_ui_event(
            SUBMITTED,
            typing_duration_ms=elapsed,
            character_count=len(text),
            **self._fields(),
        )

    def abandoned(self, partial_text: str = "") -> None:
        """The user left the input with unsent text: its hash and length, never the text."""
        elapsed = self._elapsed_ms()
        self._tracker.capture_ui_event(
            ABANDONED,
            typing_duration_ms=elapsed,
            character_count=len(partial_text),
            partial_content_hash=content_hash(partial_text),
            **self._fields(),
        )
