"""The chat input tracker (the lumina-sdk's): started, submitted (typing time, length, message
id), abandoned (a hash of the text only).

Meant for the server side of a chat UI that reports input activity, or for terminal chat apps::

    chat = ChatInputTracker(posthog_provider, session.session_id)
    chat.on_input_start()                       # chat_input_started (first keystroke)
    chat.on_message_submit("msg-1", text)       # chat_message_submitted: typing_duration_ms,
                                                #   character_count, message_id
    chat.on_input_abandoned(partial)            # chat_input_abandoned: partial_content_hash

Each event goes to the Lumina ingest (through a tracker: the default one unless given) and to
the UI provider passed in. The text itself never leaves the process.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import TYPE_CHECKING

from .config import EventsConfigError
from .providers import UIAnalyticsProvider, check_provider
from .session import active_turn

if TYPE_CHECKING:
    from .tracker import Tracker

STARTED = "chat_input_started"
SUBMITTED = "chat_message_submitted"
ABANDONED = "chat_input_abandoned"

_SESSION_ID = re.compile(r"[0-9a-f]{32}")


def content_hash(text: str) -> str:
    """``sha256:<hex>`` of the UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class ChatInputTracker:
    """Tracks one chat input box; each start/submit or start/abandon cycle is one use.

    ``ui_provider``: the UI analytics provider that also receives the events (None: the
    ingest only). ``session_id``: the Lumina session the input belongs to
    (``session.session_id``; None: the tracker's current session at each event).
    ``tracker``: where the events are recorded (default: ``lumi.events.get_tracker()``).
    Arguments are checked here, not at first use."""

    def __init__(
        self,
        ui_provider: UIAnalyticsProvider | None,
        session_id: str | None = None,
        *,
        tracker: Tracker | None = None,
        input_id: str | None = None,
    ) -> None:
        from .tracker import Tracker

        if ui_provider is not None:
            check_provider(ui_provider, UIAnalyticsProvider, "ChatInputTracker: ui_provider")
        if session_id is not None and (
            not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id)
        ):
            raise EventsConfigError(
                "ChatInputTracker: session_id must be a Lumina session id (32 lowercase hex, "
                f"session.session_id), got {session_id!r:.60}"
            )
        if tracker is not None and not isinstance(tracker, Tracker):
            raise EventsConfigError(
                f"ChatInputTracker: tracker must be a lumi.events.Tracker, got {type(tracker).__name__}"
            )
        if input_id is not None and (not isinstance(input_id, str) or not input_id):
            raise EventsConfigError("ChatInputTracker: input_id must be a non-empty string")
        if tracker is None:
            from . import get_tracker

            tracker = get_tracker()
        self.ui_provider = ui_provider
        self.session_id = session_id
        self.input_id = input_id
        self._tracker = tracker
        self._started_at: float | None = None
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether the user is typing (started, not yet submitted or abandoned)."""
        return self._started_at is not None

    def _capture(self, name: str, **fields: str | float) -> None:
        if self.input_id is not None:
            fields["input_id"] = self.input_id
        session_id = self.session_id
        if session_id is None:
            current = self._tracker.session.current
            session_id = None if current is None else current.session_id
        turn = active_turn()
        self._tracker.recorder.ui_event(
            name,
            fields,
            None,
            session_id=session_id,
            turn_id=None if turn is None else turn.turn_id,
            provider=self.ui_provider,
        )

    def _elapsed_ms(self) -> float:
        with self._lock:
            started, self._started_at = self._started_at, None
        return 0.0 if started is None else round((time.monotonic() - started) * 1000, 3)

    def on_input_start(self) -> None:
        """The user began typing (idempotent until the message is submitted or abandoned)."""
        with self._lock:
            if self._started_at is not None:
                return
            self._started_at = time.monotonic()
        self._capture(STARTED)

    def on_message_submit(self, message_id: str, value: str) -> None:
        """The message ``message_id`` was sent: typing duration and character count, not the
        text."""
        if not isinstance(message_id, str) or not message_id:
            raise EventsConfigError("on_message_submit: message_id must be a non-empty string")
        if not isinstance(value, str):
            raise EventsConfigError(
                f"on_message_submit: value must be the message text, got {type(value).__name__}"
            )
        self._capture(
            SUBMITTED,
            message_id=message_id,
            typing_duration_ms=self._elapsed_ms(),
            character_count=len(value),
        )

    def on_input_abandoned(self, value: str) -> None:
        """The user left the input with unsent text: its hash and length, never the text."""
        if not isinstance(value, str):
            raise EventsConfigError(
                f"on_input_abandoned: value must be the unsent text, got {type(value).__name__}"
            )
        self._capture(
            ABANDONED,
            typing_duration_ms=self._elapsed_ms(),
            character_count=len(value),
            partial_content_hash=content_hash(value),
        )

    def __repr__(self) -> str:
        return f"ChatInputTracker(session_id={self.session_id!r}, input_id={self.input_id!r})"
