"""The events inbox: ``POST /collect/sdk/events`` (NDJSON), de-duplicated by ``event_id``."""

from __future__ import annotations

import hmac
import json
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


def _parse_line(text: str) -> dict[str, Any]:
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(event, dict):
        raise ValueError(f"an event must be a JSON object, not {type(event).__name__}")
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("event_id is required: a unique string per event (the de-duplication key)")
    return event


class EventsInbox:
    """Stored events, oldest first, each once."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def ingest(self, text: str) -> dict[str, Any]:
        """Store every good line; returns ``{accepted, duplicates, errors: [{line, message}]}``."""
        accepted = duplicates = 0
        errors: list[dict[str, Any]] = []
        received_at = datetime.fromtimestamp(self._clock(), tz=timezone.utc).isoformat()
        with self._db.transaction() as conn:
            for number, line in enumerate(text.split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    event = _parse_line(line)
                except ValueError as exc:
                    errors.append({"line": number, "message": str(exc)})
                    continue
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
        return {"accepted": accepted, "duplicates": duplicates, "errors": errors}

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
