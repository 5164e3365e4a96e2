"""The spool: recovery of dead owners' segments, torn lines, live owners left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lumi.events import Tracker
from lumi.events.builders import identify_event

from .collector import Collector, refused_port


def _id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _event(n: int) -> bytes:
    """A real event, as an earlier process wrote it to its spool."""
    wire = identify_event(
        event_id=_id(n),
        timestamp=1,
        distinct_id=f"user-{n}",
        anonymous_id=None,
        previous_id=None,
        session_id=None,
        properties=None,
    )
    return json.dumps(wire).encode()


def test_a_dead_owners_segments_are_delivered_and_a_torn_line_skipped(
    tmp_path: Path, collector: Collector
) -> None:
    dead = tmp_path / "spool" / "12345-deadbeef"
    dead.mkdir(parents=True)
    (dead / "owner.lock").touch()  # nobody holds it: its process is gone
    (dead / "seg-000001.ndjson").write_bytes(_event(1) + b"\n" + _event(2) + b"\n")
    (dead / "seg-000002.ndjson").write_bytes(_event(3) + b"\n" + _event(4)[:20])  # died mid-write
    tracker = Tracker(endpoint=collector.url, spool_dir=tmp_path / "spool", persist_identity=False)
    assert tracker.flush(timeout=10)
    assert sorted(collector.ids()) == [_id(1), _id(2), _id(3)]
    assert tracker.stats()["recovered"] == 3
    assert not dead.exists()  # fully acknowledged: the directory is gone
    tracker.shutdown(timeout=5)


def test_a_live_owner_is_left_alone_until_it_exits(tmp_path: Path, collector: Collector) -> None:
    spool = tmp_path / "spool"
    offline = Tracker(
        endpoint=f"http://127.0.0.1:{refused_port()}",
        spool_dir=spool,
        persist_identity=False,
        retry_delays_ms=(1,),
        flush_interval_ms=600_000,
    )
    session = offline.session.start()
    turn_ids = []
    for _ in range(3):
        with session.turn() as turn:
            turn_ids.append(turn.turn_id)
    other = Tracker(endpoint=collector.url, spool_dir=spool, persist_identity=False)
    assert other.stats()["recovered"] == 0  # its owner is alive (holds the lock)
    assert not offline.shutdown(timeout=0.5)  # cannot deliver: the events stay on disk
    late = Tracker(endpoint=collector.url, spool_dir=spool, persist_identity=False)
    assert late.flush(timeout=10)
    assert late.stats()["recovered"] == 3
    assert sorted(e["turn_id"] for e in collector.events()) == sorted(turn_ids)
    other.shutdown(timeout=5)
    late.shutdown(timeout=5)
    assert not list(spool.glob("*/seg-*.ndjson"))


def test_delivered_events_leave_nothing_behind(tmp_path: Path, collector: Collector) -> None:
    spool = tmp_path / "spool"
    tracker = Tracker(
        endpoint=collector.url, spool_dir=spool, spool_fsync=False, persist_identity=False
    )
    with tracker.session.start().turn() as turn:
        turn.set_messages([{"role": "user", "content": "hi"}])
    segments = list(spool.glob("*/seg-*.ndjson"))
    assert len(segments) == 1 and b'"hi"' in segments[0].read_bytes()  # on disk at finish()
    assert tracker.shutdown(timeout=10)
    assert len(collector.ids()) == 1
    assert list(spool.iterdir()) == []


def test_a_failing_spool_write_keeps_the_event_in_memory(
    tmp_path: Path, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = Tracker(endpoint=collector.url, spool_dir=tmp_path / "spool", persist_identity=False)
    pipeline = tracker.recorder.pipeline
    assert pipeline is not None and pipeline.spool is not None

    def disk_full(line: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline.spool, "append", disk_full)
    tracker.session.start().turn().finish()  # must not raise into the caller
    assert tracker.flush(timeout=10)
    stats = tracker.stats()
    assert stats["spool_errors"] == 1 and stats["sent"] == 1 and len(collector.ids()) == 1
    tracker.shutdown(timeout=5)
