"""The Events view's logic: the ingested events grouped into sessions and turns, read defensively.
Each field is read once per page (cached properties): a page reads thousands of events.

The ingest stores any JSON object, so every field is checked before use: a latency that is not
a finite, non-negative number, a time that is not one, a transcript that is not a list of
messages, are shown as raw JSON rather than trusted (or dropped). The overview reads the latest
:data:`WINDOW` events (the page says when there are more); a session's page reads all of its
events.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lumi.emulator.console.inventory import EMULATOR_DB, data_dir
from lumi.emulator.console.readonly import read_only
from lumi.emulator.context import Services

#: Events the overview reads (the newest).
WINDOW = 10_000
#: Events listed under "Recent events".
RECENT = 50
#: Sessions listed on the overview.
SESSIONS_SHOWN = 200
#: Epoch milliseconds a time may take: 2001-09-09 to 2286-11-20.
_MIN_MS, _MAX_MS = 1e12, 1e13


@dataclass
class Stored:
    """One ingested event, its fields read once."""

    seq: int
    received_at: str
    event: dict[str, Any]
    kind: str = field(init=False)
    name: str = field(init=False)
    session_id: str | None = field(init=False)
    time_ms: float | None = field(init=False)

    def __post_init__(self) -> None:
        event = self.event
        self.kind = text(event.get("type")) or "?"
        self.name = text(event.get("name"))
        sid = event.get("session_id")
        self.session_id = sid if isinstance(sid, str) and sid else None
        self.time_ms = epoch_ms(event.get("timestamp"))


@dataclass
class Turn:
    """A turn event, its fields read once."""

    stored: Stored
    event: dict[str, Any] = field(init=False)
    seq: int | None = field(init=False)
    start_ms: float | None = field(init=False)
    latency_ms: float | None = field(init=False)
    failed: bool = field(init=False)

    def __post_init__(self) -> None:
        event = self.event = self.stored.event
        number = event.get("turn_seq")
        self.seq = number if isinstance(number, int) and not isinstance(number, bool) else None
        self.start_ms = epoch_ms(event.get("start_ts")) or self.stored.time_ms
        self.latency_ms = duration(event.get("latency_ms"))
        self.failed = event.get("status") == "error"

    def spans(self) -> list[Span]:
        """The turn's LLM and tool calls, placed relative to its start (for the timeline)."""
        start = self.start_ms
        found: list[Span] = []
        for kind, key in (("llm", "llm_calls"), ("tool", "tool_calls")):
            calls = self.event.get(key)
            if not isinstance(calls, list):
                continue
            for call in calls:
                if not isinstance(call, dict):
                    continue
                begin, length = epoch_ms(call.get("start_ts")), duration(call.get("latency_ms"))
                label = text(call.get("name") if kind == "tool" else call.get("model")) or kind
                offset = begin - start if begin is not None and start is not None else None
                found.append(Span(kind, label, offset, length, text(call.get("status"))))
        return found


@dataclass(frozen=True)
class Span:
    kind: str
    label: str
    offset_ms: float | None
    latency_ms: float | None
    status: str


@dataclass
class Session:
    session_id: str
    turns: list[Turn] = field(default_factory=list)
    others: list[Stored] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    @cached_property
    def first_ms(self) -> float | None:
        times = [t for t in (s.time_ms for s in self.all_events()) if t is not None]
        return min(times) if times else None

    @cached_property
    def last_ms(self) -> float | None:
        times = [t for t in (s.time_ms for s in self.all_events()) if t is not None]
        return max(times) if times else None

    @cached_property
    def errors(self) -> int:
        return sum(turn.failed for turn in self.turns)

    @cached_property
    def median_latency_ms(self) -> float | None:
        values = [t.latency_ms for t in self.turns if t.latency_ms is not None]
        return statistics.median(values) if values else None

    def all_events(self) -> list[Stored]:
        return [turn.stored for turn in self.turns] + self.others

    def timeline(self) -> list[Turn | Stored]:
        """Turns and the session's other events, in time order (turns by sequence number)."""
        items: list[Turn | Stored] = [*self.turns, *self.others]

        def key(item: Turn | Stored) -> tuple[float, int, int]:
            if isinstance(item, Turn):
                return (item.start_ms or 0.0, item.seq or 0, item.stored.seq)
            return (item.time_ms or 0.0, 0, item.seq)

        return sorted(items, key=key)


@dataclass
class Overview:
    total: int
    """Every stored event (the window may be smaller)."""
    events: list[Stored]
    """The newest WINDOW events, oldest first."""
    sessions: list[Session]
    """Newest activity first."""

    @property
    def turns(self) -> list[Turn]:
        return [turn for session in self.sessions for turn in session.turns]

    @property
    def recent(self) -> list[Stored]:
        return self.events[-RECENT:][::-1]


def text(value: Any) -> str:
    """A field meant to be a short string, whatever it holds."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:200]


def duration(value: Any) -> float | None:
    """A latency: a finite, non-negative number of milliseconds, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def epoch_ms(value: Any) -> float | None:
    """A time in epoch milliseconds within a plausible range, else None."""
    number = duration(value)
    return number if number is not None and _MIN_MS <= number <= _MAX_MS else None


def _decode(rows: list[Any]) -> list[Stored]:
    found = []
    for seq, received_at, body in rows:
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            event = {"unreadable": str(body)[:1000]}
        if not isinstance(event, dict):
            event = {"value": event}
        found.append(Stored(int(seq), str(received_at), event))
    return found


def group(events: list[Stored]) -> list[Session]:
    """Events with a session id, by session; newest activity first."""
    sessions: dict[str, Session] = {}
    for stored in events:
        sid = stored.session_id
        if sid is None:
            continue
        session = sessions.setdefault(sid, Session(sid))
        if stored.kind == "turn":
            session.turns.append(Turn(stored))
        else:
            session.others.append(stored)
        user = text(stored.event.get("distinct_id"))
        if user and user not in session.users:
            session.users.append(user)
    for session in sessions.values():
        session.turns.sort(key=lambda t: (t.seq or 0, t.start_ms or 0.0, t.stored.seq))
    return sorted(
        sessions.values(),
        key=lambda s: (s.last_ms or 0.0, max(e.seq for e in s.all_events())),
        reverse=True,
    )


def overview(services: Services) -> Overview:
    with read_only(data_dir(services) / EMULATOR_DB) as conn:
        total = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        rows = conn.execute(
            "SELECT seq, received_at, event FROM events ORDER BY seq DESC LIMIT ?", (WINDOW,)
        ).fetchall()
    events = _decode(rows[::-1])
    return Overview(total=total, events=events, sessions=group(events))


def session(services: Services, session_id: str) -> Session | None:
    """Every event of one session, or None when it has none."""
    # The JSON text holds the id as json.dumps writes it: a cheap filter before the exact test.
    needle = json.dumps(session_id, ensure_ascii=False)
    with read_only(data_dir(services) / EMULATOR_DB) as conn:
        rows = conn.execute(
            "SELECT seq, received_at, event FROM events WHERE instr(event, ?) > 0 ORDER BY seq",
            (needle,),
        ).fetchall()
    found = [s for s in _decode(rows) if s.session_id == session_id]
    sessions = group(found)
    return sessions[0] if sessions else None
