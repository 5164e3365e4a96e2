"""``client.tools.email``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._options import as_list, js_options
from ..errors import ValidationError
from ..serde import format_datetime

if TYPE_CHECKING:
    from ..client import LumiClient


def _addresses(value: str | Sequence[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    items = (
        [value]
        if isinstance(value, str)
        else as_list(f"email {name}=", value, "addresses", "['a@example.com']")
    )
    if not all(isinstance(item, str) and item for item in items):
        raise ValidationError(f"email {name} must be addresses (strings), got {value!r:.80}")
    return items


class EmailTool:
    """Send email from the project."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    @js_options
    def send(
        self,
        *,
        to: str | Sequence[str],
        subject: str,
        html: str | None = None,
        text: str | None = None,
        from_name: str | None = None,
        reply_to: str | Sequence[str] | None = None,
        scheduled_at: dt.datetime | str | None = None,
    ) -> None:
        """Send (or schedule) an email. Needs ``to``, ``subject`` and ``html`` or ``text``.

        The JavaScript options object works too: ``send({"to": ..., "fromName": ...})``."""
        recipients = _addresses(to, "to")
        missing = [
            name
            for name, present in (
                ("to", recipients),
                ("subject", subject),
                ("html or text", html or text),
            )
            if not present
        ]
        if missing:
            raise ValidationError(f"Failed to send email: missing {', '.join(missing)}")
        body: dict[str, Any] = {"to": recipients, "subject": subject}
        if from_name is not None:
            body["fromName"] = from_name
        if html is not None:
            body["html"] = html
        body["text"] = text if text is not None else ""
        replies = _addresses(reply_to, "reply_to")
        if replies is not None:
            body["replyTo"] = replies
        if scheduled_at is not None:
            body["scheduledAt"] = (
                format_datetime(scheduled_at, "scheduled_at")
                if isinstance(scheduled_at, dt.datetime)
                else scheduled_at
            )
        self._client._call("sendEmail", json=body)
