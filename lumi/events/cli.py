"""``lumi events tail`` and ``lumi events sessions``: what the local emulator received.

Both read ``GET {emulator}/_emulator/events?after=<seq>`` (an envelope whose ``data`` is
``[{seq, receivedAt, event}]``, oldest first, de-duplicated by ``event_id``), a private route:
the token comes from ``--token``, ``$LUMI_EMULATOR_TOKEN`` or the emulator's runtime file.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import click
import requests

DEFAULT_URL = "http://127.0.0.1:8787"
ENV_URL = "LUMI_EMULATOR_URL"


class EmulatorUnavailable(click.ClickException):
    """The emulator could not be read; the message says where and why."""


def fetch_events(
    url: str, after: int = 0, timeout: float = 5.0, token: str | None = None
) -> list[dict[str, Any]]:
    """``[{seq, receivedAt, event}]`` with ``seq > after`` from the emulator at ``url``."""
    from lumi.emulator.runtime import TOKEN_HEADER, find_token

    endpoint = url.rstrip("/") + "/_emulator/events"
    secret = find_token(url, token)
    headers = {TOKEN_HEADER: secret} if secret else {}
    try:
        response = requests.get(endpoint, params={"after": after}, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise EmulatorUnavailable(
            f"cannot reach the emulator at {url} ({type(exc).__name__}); start it with "
            "`lumi emulator` or pass --url"
        ) from None
    try:
        body = response.json()
    except ValueError:
        raise EmulatorUnavailable(
            f"{endpoint} answered HTTP {response.status_code} with a non-JSON body"
        ) from None
    data = body.get("data") if isinstance(body, dict) and "code" in body else body
    if isinstance(body, dict) and body.get("code", 200) != 200:
        raise EmulatorUnavailable(f"{endpoint}: [{body.get('code')}] {body.get('message')}")
    if not isinstance(data, list):
        raise EmulatorUnavailable(f"{endpoint} did not answer a list of events")
    return [row for row in data if isinstance(row, dict) and isinstance(row.get("event"), dict)]


def _ms(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.1f}ms" if value < 10 else f"{value:.0f}ms"


def _clock(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(ts / 1000))


def format_event(event: Mapping[str, Any]) -> str:
    """One line per event: time, kind, session, turn, latency, model, status, user."""
    kind = event.get("type", "?")
    session = str(event.get("session_id") or "-")[:8]
    parts = [_clock(event.get("timestamp")), f"{kind:<9}", f"session {session}"]
    if kind == "turn":
        parts += [
            f"turn #{event.get('turn_seq', '?')}",
            _ms(event.get("latency_ms")),
            str(event.get("model") or "-"),
            str(event.get("status", "?")),
            f"tools={len(event.get('tool_calls') or [])}",
        ]
    elif kind == "span":
        parts += [str(event.get("name")), _ms(event.get("latency_ms")), str(event.get("status"))]
    elif kind == "identify":
        parts += [f"{event.get('previous_id', '-')} -> {event.get('distinct_id')}"]
    else:
        parts += [str(event.get("name", ""))]
        if "character_count" in event:
            parts.append(f"chars={event['character_count']}")
    parts.append(f"user {event.get('distinct_id', '-')}")
    return "  ".join(parts)


@attrs.define
class SessionSummary:
    session_id: str
    distinct_id: str
    turns: list[dict[str, Any]] = attrs.field(factory=list)

    @property
    def latencies(self) -> list[float]:
        return [
            t["latency_ms"] for t in self.turns if isinstance(t.get("latency_ms"), (int, float))
        ]


def summarize_sessions(events: Iterable[Mapping[str, Any]]) -> list[SessionSummary]:
    """Turn events grouped by session, turns in sequence order, sessions by first turn time."""
    sessions: dict[str, SessionSummary] = {}
    for event in events:
        if event.get("type") != "turn":
            continue
        sid = str(event.get("session_id"))
        summary = sessions.setdefault(sid, SessionSummary(sid, str(event.get("distinct_id"))))
        summary.turns.append(dict(event))
    for summary in sessions.values():
        summary.turns.sort(key=lambda t: (t.get("turn_seq", 0), t.get("start_ts", 0)))
    return sorted(sessions.values(), key=lambda s: s.turns[0].get("start_ts", 0))


def render_sessions(sessions: list[SessionSummary]) -> str:
    if not sessions:
        return "no sessions yet"
    lines = []
    for s in sessions:
        lat = s.latencies
        median = statistics.median(lat) if lat else None
        lines.append(
            f"session {s.session_id}  user {s.distinct_id}  turns {len(s.turns)}"
            f"  p50 {_ms(median)}  max {_ms(max(lat) if lat else None)}"
        )
        for turn in s.turns:
            error = turn.get("error") or {}
            lines.append(
                f"  #{turn.get('turn_seq', '?'):<3} {_clock(turn.get('start_ts'))}"
                f"  {_ms(turn.get('latency_ms')):>8}  {turn.get('model') or '-':<16}"
                f"  {turn.get('status', '?')}"
                f"  llm={len(turn.get('llm_calls') or [])} tools={len(turn.get('tool_calls') or [])}"
                + (f"  {error.get('type')}" if error else "")
            )
    return "\n".join(lines)


_url_option = click.option(
    "--url",
    default=lambda: os.environ.get(ENV_URL, DEFAULT_URL),
    show_default=f"${ENV_URL} or {DEFAULT_URL}",
    help="Base URL of the running emulator.",
)
_token_option = click.option(
    "--token",
    metavar="TOKEN",
    help="The emulator's private token (default: $LUMI_EMULATOR_TOKEN, else found by the port"
    " of --url).",
)


@click.group()
def events() -> None:
    """Inspect the events the local emulator received."""


@events.command()
@_url_option
@_token_option
@click.option("--follow", "-f", is_flag=True, help="Keep polling for new events.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
def tail(url: str, token: str | None, follow: bool, interval: float) -> None:
    """Print received events, one line each (-f to follow)."""
    after = 0
    while True:
        rows = fetch_events(url, after, token=token)
        for row in rows:
            click.echo(format_event(row["event"]))
            after = max(after, int(row.get("seq", after)))
        if not follow:
            return
        time.sleep(interval)


@events.command()
@_url_option
@_token_option
def sessions(url: str, token: str | None) -> None:
    """Sessions with their turns and latencies."""
    rows = fetch_events(url, token=token)
    click.echo(render_sessions(summarize_sessions(row["event"] for row in rows)))
