"""Sent mail: every email the emulated projects send (and every one-time code) lands here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from lumi.emulator.db import Database
from lumi.emulator.envelope import bad_request

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_OTP_SUBJECTS = {
    "register": "Your sign-up verification code",
    "resetPassword": "Your password reset code",
}


def _addresses(value: object, field: str, *, required: bool) -> list[str] | None:
    if value is None and not required:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise bad_request(f"{field} is required: a non-empty list of email addresses")
    for item in items:
        if not isinstance(item, str) or not _EMAIL.fullmatch(item):
            raise bad_request(f"{field} contains {item!r}, which is not an email address")
    return list(items)


def _optional_str(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    return value


def validate_email(body: dict[str, Any]) -> dict[str, Any]:
    """The message to store, checked as the JavaScript client checks it (plus address syntax)."""
    subject = _optional_str(body, "subject")
    if not subject:
        raise bad_request("subject is required")
    html, text = _optional_str(body, "html"), _optional_str(body, "text")
    if not html and not text:
        raise bad_request("html or text is required")
    scheduled_at = _optional_str(body, "scheduledAt")
    if scheduled_at:
        try:
            datetime.fromisoformat(scheduled_at.replace("Z", "+00:00"))
        except ValueError:
            raise bad_request("scheduledAt must be an ISO-8601 date-time") from None
    return {
        "to": _addresses(body.get("to"), "to", required=True),
        "subject": subject,
        "fromName": _optional_str(body, "fromName"),
        "html": html,
        "text": text or "",
        "replyTo": _addresses(body.get("replyTo"), "replyTo", required=False),
        "scheduledAt": scheduled_at,
    }


class Outbox:
    """Mail kept in the emulator database; nothing is ever delivered."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def add_email(self, project_id: str, message: dict[str, Any]) -> None:
        self._add(project_id, "email", message, None)

    def add_otp(self, project_id: str, email: str, purpose: str, code: str) -> None:
        text = f"Your verification code is {code}. It expires in 10 minutes."
        message = {
            "to": [email],
            "subject": _OTP_SUBJECTS.get(purpose, "Your verification code"),
            "fromName": "Lumi",
            "html": f"<p>{text}</p>",
            "text": text,
            "replyTo": None,
            "scheduledAt": None,
            "emailType": purpose,
        }
        self._add(project_id, "otp", message, code)

    def _add(self, project_id: str, kind: str, message: dict[str, Any], otp: str | None) -> None:
        sent_at = datetime.fromtimestamp(self._clock(), tz=timezone.utc).isoformat()
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO outbox (project_id, kind, message, otp, sent_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (project_id, kind, json.dumps(message), otp, sent_at),
            )

    def messages(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Oldest first: ``{id, projectId, kind: "email"|"otp", sentAt, to, subject, ...}``."""
        sql = "SELECT * FROM outbox"
        params: tuple[str, ...] = ()
        if project_id is not None:
            sql, params = sql + " WHERE project_id = ?", (project_id,)
        rows = self._db.query(sql + " ORDER BY id", params)
        return [
            {
                "id": row["id"],
                "projectId": row["project_id"],
                "kind": row["kind"],
                "sentAt": row["sent_at"],
                **json.loads(row["message"]),
            }
            for row in rows
        ]

    def latest_otp(self, email: str, project_id: str | None = None) -> str | None:
        """The last one-time code mailed to ``email`` (case-insensitive), or None."""
        sql = "SELECT otp, message FROM outbox WHERE kind = 'otp'"
        params: list[str] = []
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        for row in self._db.query(sql + " ORDER BY id DESC", params):
            if any(to.lower() == email.lower() for to in json.loads(row["message"])["to"]):
                return str(row["otp"])
        return None
