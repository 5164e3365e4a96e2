"""The events inbox: ``POST /collect/sdk/events`` (NDJSON), de-duplicated by ``event_id``.

An event without ``event_id`` (the lumina-sdk's troubleshooting ping
``{"source":"test","name":"ping"}``) is stored under an id the emulator assigns, counted in
the reply's ``assigned_ids``; it cannot be de-duplicated, so a client should always send one.
"""

from __future__ import annotations

import hmac
import json
import uuid
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from lumi.emulator.db import Database

MAX_BODY_BYTES = 5 * 1024 * 1024


class IngestRefused(Exception):
    """The whole batch is refused: ``status`` 401, 413 or 415, ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_api_key(expected: str | None, given: str | None) -> None:
    if not given:
        raise IngestRefused(401, "X-Api-Key header is required (the events write key)")
    if expected is not None and not hmac.compare_digest(expected.encode(), given.encode()):
        raise IngestRefused(401, "X-Api-Key is not the key this emulator was started with")


def decode_body(raw: bytes, content_type: str | None, content_encoding: str | None) -> str:
    """The NDJSON text of a request body (gzip allowed), or ``IngestRefused``."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime != "application/x-ndjson":
        raise IngestRefused(415, f"Content-Type must be application/x-ndjson, not {mime or 'none'}")
    if (content_encoding or "").lower() == "gzip":
        # Bounded: a small compressed body must not inflate past the limit (a gzip bomb).
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise IngestRefused(415, "the body is not valid gzip") from None
        if not inflater.eof and len(raw) <= MAX_BODY_BYTES:
            raise IngestRefused(415, "the gzip body is truncated")
    if len(raw) > MAX_BODY_BYTES:
        raise IngestRefused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestRefused(415, "the body is not UTF-8 text") from None


def _parse_line(text: str) -> tuple[dict[str, Any], bool]:
    """The event, and whether its ``event_id`` was assigned here (it had none)."""
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    if not isinstance(event, dict):
        raise ValueError(f"an event must be a JSON object, not {type(event).__name__}")
    event_id = event.get("event_id")
    if event_id is None:
        event["event_id"] = f"emu-{uuid.uuid4()}"
        return event, True
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(
            "event_id must be a non-empty string (the de-duplication key), "
            f"not {json.dumps(event_id)[:40]}"
        )
    return event, False


class EventsInbox:
    """Stored events, oldest first, each once."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def ingest(self, text: str) -> dict[str, Any]:
        """Store every good line; returns ``{accepted, duplicates, assigned_ids, errors: [{line,
        message}]}`` (``assigned_ids``: accepted events that came without an ``event_id``)."""
        accepted = duplicates = assigned = 0
        errors: list[dict[str, Any]] = []
        received_at = datetime.fromtimestamp(self._clock(), tz=timezone.utc).isoformat()
        with self._db.transaction() as conn:
            for number, line in enumerate(text.split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    event, new_id = _parse_line(line)
                except ValueError as exc:
                    errors.append({"line": number, "message": str(exc)})
                    continue
                assigned += new_id
                project = event.get("project_id", event.get("projectId"))
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO events (event_id, project_id, received_at, event)"
                    " VALUES (?, ?, ?, ?)",
                    (
                        event["event_id"],
                        project if isinstance(project, str) else None,
                        received_at,
                        json.dumps(event, ensure_ascii=False),
                    ),
                ).rowcount
                if inserted:
                    accepted += 1
                else:
                    duplicates += 1
        return {
            "accepted": accepted,
            "duplicates": duplicates,
            "assigned_ids": assigned,
            "errors": errors,
        }

    def events(
        self, project_id: str | None = None, after: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """``[{seq, receivedAt, event}]`` with ``seq > after``; ``seq`` grows, for tailing."""
        sql = "SELECT seq, received_at, event FROM events WHERE seq > ?"
        params: list[Any] = [after]
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            {"seq": row["seq"], "receivedAt": row["received_at"], "event": json.loads(row["event"])}
            for row in self._db.query(sql, params)
        ]
