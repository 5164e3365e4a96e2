"""Process life cycle: bounded exit flush, os.fork(), and kill -9 with the spool."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from lumi.events import Tracker

from .collector import Collector, refused_port, running_collector

REPO = Path(__file__).resolve().parents[2]

TRACK_AND_EXIT = textwrap.dedent(
    """
    import sys
    import lumi.events as events

    tracker = events.init(
        write_key="gi_subprocess_secret",
        endpoint=sys.argv[1],
        persist_identity=False,
        exit_timeout_s=float(sys.argv[2]),
        flush_interval_ms=600_000,
    )
    session = tracker.session.start()
    for i in range(5):
        with session.turn() as turn:
            turn.set_messages([{"role": "user", "content": f"message {i}"}])
    print("tracked", tracker.stats()["pending"], flush=True)
    """
)


def _run(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # generous: only guards the test run itself
        cwd=REPO,
    )


def test_exit_with_a_refusing_endpoint_is_bounded() -> None:
    result = _run(TRACK_AND_EXIT, f"http://127.0.0.1:{refused_port()}", "1.0")
    assert result.returncode == 0, result.stderr
    assert "tracked 5" in result.stdout
    # the bound fired: the exit hook gave up and said so (and never printed the key)
    assert "exit flush gave up after 1.0 s" in result.stderr
    assert "5 of 5 events not delivered" in result.stderr
    assert "gi_subprocess_secret" not in result.stderr + result.stdout


def test_exit_with_a_server_that_never_answers_is_bounded() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        result = _run(TRACK_AND_EXIT, f"http://127.0.0.1:{port}", "1.0")
    assert result.returncode == 0, result.stderr
    assert "exit flush gave up after 1.0 s" in result.stderr


def test_exit_flush_delivers_when_the_endpoint_works(collector: Collector) -> None:
    result = _run(TRACK_AND_EXIT, collector.url, "10")
    assert result.returncode == 0, result.stderr
    assert "gave up" not in result.stderr
    assert len(collector.ids()) == 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_gives_the_child_a_fresh_buffer_and_worker(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(flush_interval_ms=600_000)
    session = tracker.session.start()
    parent_turns = [session.turn() for _ in range(3)]
    for turn in parent_turns:
        turn.finish()
    assert tracker.stats()["pending"] == 3
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's exit handlers
        code = 1
        try:
            os.close(read_end)
            before = tracker.stats()
            child_turn = session.turn()
            child_turn.finish()
            delivered = tracker.flush(timeout=10)
            report = {"before": before, "after": tracker.stats(), "delivered": delivered}
            report["turn_id"] = child_turn.turn_id
            os.write(write_end, json.dumps(report).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = json.loads(pipe.read())
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    # the child started empty, with its own counters, and delivered only its own event
    assert report["before"]["pending"] == 0 and report["before"]["enqueued"] == 0
    assert report["delivered"] and report["after"]["sent"] == 1
    turn_ids = [e["turn_id"] for e in collector.events()]
    assert turn_ids == [report["turn_id"]]
    # the parent still owns (and now delivers) what it had buffered, exactly once
    assert tracker.flush(timeout=10)
    turn_ids = sorted(e["turn_id"] for e in collector.events())
    assert turn_ids == sorted([report["turn_id"], *(t.turn_id for t in parent_turns)])


SPOOL_WRITER = textwrap.dedent(
    """
    import sys, time
    import lumi.events as events

    tracker = events.init(
        endpoint=sys.argv[1], spool_dir=sys.argv[2], persist_identity=False,
        flush_interval_ms=600_000, retry_delays_ms=(50,),
    )
    session = tracker.session.start()
    for i in range(int(sys.argv[3])):
        with session.turn() as turn:
            turn.set_messages([{"role": "user", "content": f"durable {i}"}])
        print(turn.turn_id, flush=True)  # finish() has returned: the event is on disk
    print("ready", flush=True)
    time.sleep(600)
    """
)

SPOOL_READER = textwrap.dedent(
    """
    import json, sys
    import lumi.events as events

    tracker = events.init(endpoint=sys.argv[1], spool_dir=sys.argv[2], persist_identity=False)
    ok = tracker.flush(timeout=30)
    print(json.dumps({"ok": ok, "stats": tracker.stats()}), flush=True)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_spooled_events_survive_kill_9(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    dead = f"http://127.0.0.1:{refused_port()}"
    writer = subprocess.Popen(
        [sys.executable, "-c", SPOOL_WRITER, dead, str(spool), "25"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert writer.stdout is not None
    turn_ids = []
    for line in writer.stdout:
        if line.strip() == "ready":
            break
        turn_ids.append(line.strip())
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert len(turn_ids) == 25
    assert list(spool.glob("*/seg-*.ndjson"))  # the events are on disk

    with running_collector() as collector:
        result = _run(SPOOL_READER, collector.url, str(spool))
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["ok"] and report["stats"]["recovered"] == 25
        assert sorted(e["turn_id"] for e in collector.events()) == sorted(turn_ids)
    # acknowledged events are removed: nothing is left to send again
    assert not list(spool.glob("*/seg-*.ndjson"))
    assert not [p for p in spool.iterdir() if p.is_dir()]
