"""Image generation tasks: PROCESSING when created, finished on the next poll.

Generating on the poll (not in a background thread) keeps the sequence deterministic for tests:
the first answer is always PROCESSING, the second SUCCESS (or FAILED if the provider raised).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from typing import Any

from lumi.emulator.ai import AIProvider, Message
from lumi.emulator.db import Database
from lumi.emulator.envelope import NOT_FOUND, EmulatorError
from lumi.emulator.files import FileStorage

log = logging.getLogger("lumi.emulator")

PROCESSING, SUCCESS, FAILED = "PROCESSING", "SUCCESS", "FAILED"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class ImageTasks:
    def __init__(self, db: Database, files: FileStorage, provider: AIProvider) -> None:
        self._db = db
        self._files = files
        self._provider = provider
        self._lock = threading.Lock()

    def create(self, project_id: str, model: str, messages: list[Message]) -> dict[str, Any]:
        message_id, chat_id = secrets.token_hex(12), secrets.token_hex(12)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO image_tasks (message_id, project_id, chat_id, model, messages,"
                " status) VALUES (?, ?, ?, ?, ?, ?)",
                (message_id, project_id, chat_id, model, json.dumps(messages), PROCESSING),
            )
        return self._public(self._row(project_id, message_id))

    def poll(self, project_id: str, message_id: str) -> dict[str, Any]:
        """The task; a PROCESSING task is generated now, so the answer is final."""
        with self._lock:
            row = self._row(project_id, message_id)
            if row["status"] == PROCESSING:
                self._generate(row)
                row = self._row(project_id, message_id)
        return self._public(row)

    def _generate(self, row: Any) -> None:
        try:
            image = self._provider.generate_image(row["model"], json.loads(row["messages"]))
            extension = _EXTENSIONS.get(image.mime_type, "bin")
            url = self._files.save_bytes(row["project_id"], f"image.{extension}", image.data)
            update: tuple[str, str | None, str | None] = (SUCCESS, image.content, url)
        except Exception as exc:
            log.exception("the AI provider failed to generate an image")
            update = (FAILED, f"image generation failed: {type(exc).__name__}: {exc}", None)
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE image_tasks SET status = ?, content = ?, image_url = ?"
                " WHERE message_id = ?",
                (*update, row["message_id"]),
            )

    def _row(self, project_id: str, message_id: str) -> Any:
        rows = self._db.query(
            "SELECT * FROM image_tasks WHERE project_id = ? AND message_id = ?",
            (project_id, message_id),
        )
        if not rows:
            raise EmulatorError(NOT_FOUND, f"no image task with messageId {message_id}")
        return rows[0]

    @staticmethod
    def _public(row: Any) -> dict[str, Any]:
        task: dict[str, Any] = {
            "chatId": row["chat_id"],
            "messageId": row["message_id"],
            "generationStatus": row["status"],
        }
        if row["content"] is not None:
            task["content"] = row["content"]
        if row["image_url"] is not None:
            task["imageURL"] = row["image_url"]  # a path; the handler makes it absolute
        return task
