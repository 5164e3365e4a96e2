"""``lumi events tail`` / ``lumi events sessions`` against the real local emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from lumi.cli import cli
from lumi.events import Tracker
from lumi.events.cli import fetch_events

from .collector import refused_port


def _send(url: str, tmp_path: Path) -> tuple[Tracker, list[Any]]:
    tracker = Tracker(endpoint=url, write_key="gi_cli", identity_path=tmp_path / "id.json")
    sessions = []
    for user in ("alice", "bob"):
        with tracker.request_context(distinct_id=user):
            session = tracker.session.start()
            for n in range(2):
                with session.turn() as turn:
                    turn.wrap_llm(lambda: "ok", model=f"model-{n}")
            sessions.append(session)
    tracker.identify("carol")
    assert tracker.flush(timeout=10)
    tracker.shutdown(timeout=5)
    return tracker, sessions


def test_sessions_and_tail_read_the_emulator(lumi_emulator: Any, tmp_path: Path) -> None:
    _, sessions = _send(lumi_emulator.url, tmp_path)
    rows = fetch_events(lumi_emulator.url)
    assert len(rows) == 5  # 4 turns + 1 identify, each once

    runner = CliRunner()
    result = runner.invoke(cli, ["events", "sessions", "--url", lumi_emulator.url])
    assert result.exit_code == 0, result.output
    for session, user in zip(sessions, ("alice", "bob"), strict=True):
        assert f"session {session.session_id}  user {user}  turns 2" in result.output
    assert result.output.count("  #1 ") == 2 and "model-1" in result.output
    assert "p50" in result.output and "ms" in result.output

    result = runner.invoke(cli, ["events", "tail", "--url", lumi_emulator.url])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5
    assert "turn #1" in lines[0] and "user alice" in lines[0]
    assert "identify" in lines[-1] and "-> carol" in lines[-1]


def test_cli_names_an_unreachable_emulator() -> None:
    url = f"http://127.0.0.1:{refused_port()}"
    result = CliRunner().invoke(cli, ["events", "tail", "--url", url])
    assert result.exit_code != 0
    assert f"cannot reach the emulator at {url}" in result.output
