"""Delivery over real HTTP to a local collector: batching, retries, re-queueing, counters."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from lumi.events import Tracker
from lumi.events.buffer import EventBuffer, Pending
from lumi.events.config import EventsConfigError, build_config
from lumi.retry import parse_retry_after

from .collector import Collector, running_collector


def _turns(tracker: Tracker, count: int, text: str = "hello") -> list[str]:
    session = tracker.session.start()
    turn_ids = []
    for i in range(count):
        with session.turn() as turn:
            turn.set_messages([{"role": "user", "content": f"{text} {i}"}])
            turn_ids.append(turn.turn_id)
    return turn_ids


def test_wire_format_headers_and_ndjson(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    _turns(tracker, 3)
    assert tracker.flush(timeout=10)
    request = collector.requests[0]
    assert request["headers"]["X-Api-Key"] == "gi_test_secret_key"
    assert request["headers"]["Content-Type"] == "application/x-ndjson"
    lines = request["body"].split(b"\n")
    assert lines[-1] == b"" and len([x for x in lines if x]) == 3
    events = collector.events()
    assert [e["turn_seq"] for e in events] == [1, 2, 3]
    assert len({e["event_id"] for e in events}) == 3
    assert len({e["turn_id"] for e in events}) == 3
    assert {e["session_id"] for e in events} == {tracker.session.current.session_id}  # type: ignore[union-attr]


def test_every_event_arrives_through_failures_and_dropped_connections() -> None:
    # Per 6 requests: 2 answered 503 (nothing stored), 1 stored then the connection dropped
    # (no answer), 3 fine. Any 4 consecutive attempts include a success, so no batch exhausts
    # its retries, but the worker's bookkeeping is exercised on every path.
    cycle = ["fail", "store_then_drop", "ok", "fail", "ok", "ok"]
    with running_collector(lambda n: cycle[n % len(cycle)]) as collector:
        tracker = Tracker(
            write_key="k",
            endpoint=collector.url,
            persist_identity=False,
            flush_interval_ms=20,
            max_batch_bytes=3000,
            retry_delays_ms=(1, 2, 3),
        )
        session = tracker.session.start()
        threads = [
            threading.Thread(target=lambda: [session.turn().finish() for _ in range(60)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert tracker.flush(timeout=30)
        stats = tracker.stats()
        tracker.shutdown(timeout=5)
    counts = Counter(collector.ids())
    assert len(counts) == 240 == stats["enqueued"] == stats["sent"]
    duplicates = {event_id for event_id, n in counts.items() if n > 1}
    assert duplicates  # the scenario did produce re-sent batches...
    assert duplicates <= collector.unanswered_ids  # ...only where the collector never answered
    assert stats["retried"] > 0 and stats["dropped"] == 0
    assert len(collector.requests) > 6


def test_failed_batch_is_requeued_in_order_and_counted(collector: Collector) -> None:
    collector.policy = lambda n: "fail" if n < 4 else "ok"  # 1 attempt + 3 retries all fail
    tracker = Tracker(
        write_key="k",
        endpoint=collector.url,
        persist_identity=False,
        sync_mode=True,
        retry_delays_ms=(1, 1, 1),
    )
    session = tracker.session.start()
    first = session.turn()
    first.finish()  # sync mode: sent inline, fails 4 times, goes back to the buffer
    stats = tracker.stats()
    assert stats["failed"] == 1 and stats["retried"] == 3 and stats["pending"] == 1
    second = session.turn()
    second.finish()  # the next send carries both, the old one first
    assert tracker.stats()["pending"] == 0
    assert [e["turn_id"] for e in collector.events()] == [first.turn_id, second.turn_id]


def test_retry_after_is_honoured() -> None:
    assert parse_retry_after("3") == 3.0
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (parse_retry_after(in_a_minute) or 0) <= 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert parse_retry_after("soon") is None
    with running_collector(lambda n: "retry_after" if n == 0 else "ok") as collector:
        tracker = Tracker(endpoint=collector.url, persist_identity=False, sync_mode=True)
        tracker.session.start().turn().finish()
        assert tracker.stats()["sent"] == 1 and tracker.stats()["retried"] == 1
        assert [r["behaviour"] for r in collector.requests] == ["retry_after", "ok"]


def test_batches_respect_max_batch_bytes(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(max_batch_bytes=2_000, flush_interval_ms=60_000)
    _turns(tracker, 20, text="x" * 300)
    assert tracker.flush(timeout=10)
    sizes = [len(r["body"]) for r in collector.requests]
    assert len(sizes) > 1 and all(size <= 2_000 for size in sizes)
    assert len(collector.ids()) == 20


def test_an_event_larger_than_the_batch_limit_is_sent_alone(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(max_batch_bytes=1_000, flush_interval_ms=60_000)
    _turns(tracker, 1, text="small")
    _turns(tracker, 1, text="y" * 5_000)
    _turns(tracker, 1, text="small")
    assert tracker.flush(timeout=10)
    counts = [len([x for x in r["body"].split(b"\n") if x]) for r in collector.requests]
    big = [r for r in collector.requests if len(r["body"]) > 5_000]
    assert len(big) == 1 and big[0]["body"].count(b"\n") == 1  # alone, complete, not truncated
    assert sum(counts) == 3


def test_max_batch_bytes_wakes_the_worker_before_the_interval(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(max_batch_bytes=3_000, flush_interval_ms=600_000)
    _turns(tracker, 10, text="z" * 400)
    # no flush(): only the byte threshold can have triggered a send
    deadline = threading.Event()
    for _ in range(200):
        if len(collector.ids()) >= 5:
            break
        deadline.wait(0.05)
    assert len(collector.ids()) >= 5


def test_413_splits_then_rejects_a_single_event(collector: Collector) -> None:
    collector.policy = lambda n: "too_large" if n < 2 else ("reject" if n == 2 else "ok")
    tracker = Tracker(endpoint=collector.url, persist_identity=False, retry_delays_ms=(1,))
    _turns(tracker, 2)
    tracker.flush(timeout=10)
    # [a, b] -> 413 -> [a] -> 413 -> refused for good; [b] -> 400 refused for good
    stats = tracker.stats()
    assert stats["rejected"] == 2 and stats["pending"] == 0 and stats["sent"] == 0


def test_full_buffer_drops_counts_and_warns_without_blocking(
    collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    collector.policy = lambda n: "fail"
    tracker = Tracker(
        endpoint=collector.url,
        write_key="gi_secret_never_logged",
        persist_identity=False,
        max_queue_events=5,
        flush_interval_ms=600_000,
    )
    with caplog.at_level(logging.WARNING, logger="lumi.events"):
        _turns(tracker, 12)
    stats = tracker.stats()
    assert stats["enqueued"] == 5 and stats["dropped"] == 7
    warnings = [r.getMessage() for r in caplog.records if "buffer is full" in r.getMessage()]
    assert len(warnings) == 1  # rate-limited: one warning for seven drops
    assert all("gi_secret_never_logged" not in r.getMessage() for r in caplog.records)
    assert "gi_secret_never_logged" not in repr(tracker.config)
    tracker.shutdown(timeout=0.5)


def test_debug_logging_never_shows_the_write_key(
    collector: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    collector.policy = lambda n: "fail" if n == 0 else "reject"
    with caplog.at_level(logging.DEBUG):
        tracker = Tracker(
            endpoint=collector.url,
            write_key="gi_very_secret",
            persist_identity=False,
            debug=True,
            sync_mode=True,
            retry_delays_ms=(1,),
        )
        _turns(tracker, 1)
    assert caplog.records  # there was something to leak
    assert all("gi_very_secret" not in r.getMessage() for r in caplog.records)
    logging.getLogger("lumi.events").setLevel(logging.NOTSET)


def test_shutdown_then_events_are_counted_as_dropped(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    _turns(tracker, 2)
    assert tracker.shutdown(timeout=10)
    assert len(collector.ids()) == 2
    tracker.session.start().turn().finish()
    assert tracker.stats()["dropped"] == 1


def test_finish_is_idempotent(make_tracker: Callable[..., Tracker], collector: Collector) -> None:
    tracker = make_tracker()
    turn = tracker.session.start().turn()
    for _ in range(3):
        turn.finish()
    assert tracker.flush(timeout=10)
    assert tracker.stats()["enqueued"] == 1 and len(collector.ids()) == 1


def test_without_endpoint_the_tracker_is_disabled(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LUMINA_ENDPOINT", raising=False)
    tracker = Tracker(persist_identity=False)
    with tracker.session.start().turn() as turn:
        turn.set_messages([{"role": "user", "content": "hi"}])
    stats = tracker.stats()
    assert not tracker.enabled and stats["pending"] == 0 and stats["enqueued"] == 0
    assert tracker.flush(timeout=1)


def test_environment_variables_configure_the_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMINA_WRITE_KEY", "gi_env")
    monkeypatch.setenv("LUMINA_ENDPOINT", "http://127.0.0.1:1/")
    config = build_config()
    assert config.write_key == "gi_env" and config.url == "http://127.0.0.1:1/collect/sdk/events"
    assert "gi_env" not in repr(config)


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"endpoint": "ftp://x"}, "endpoint"),
        ({"capture_transcript": "partial"}, "capture_transcript"),
        ({"sampling": {"turns": 0.5}}, "turns"),
        ({"sampling": {"turn": 1.5}}, "sampling['turn']"),
        ({"flush_interval_ms": 0}, "flush_interval_ms"),
        ({"max_batch_byte": 10}, "max_batch_byte"),
        ({"mask_fn": "upper"}, "mask_fn"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], names: str) -> None:
    with pytest.raises(EventsConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        build_config(**options)


def test_requeue_keeps_order_and_ignores_capacity() -> None:
    buffer = EventBuffer(capacity=2, wake_bytes=10_000)
    items = [Pending(f"e{i}", data=b"{}") for i in range(4)]
    assert buffer.push(items[2]) and buffer.push(items[3])
    assert not buffer.push(Pending("x", data=b"{}"))
    buffer.requeue(items[:2])
    assert buffer.snapshot_ids() == ["e0", "e1", "e2", "e3"]


class _OverlapSender:
    """Holds each send until two are on the wire at once, then answers by script."""

    def __init__(self, outcomes: list[bool]) -> None:
        self.outcomes = outcomes
        self.lock = threading.Lock()
        self.both_sent = threading.Barrier(2, timeout=10)
        self.bodies: list[bytes] = []
        self.most_at_once = 0
        self._now = 0

    def send(self, body: bytes, timeout: tuple[float, float]) -> Any:
        from lumi.events.transport import SendResult

        with self.lock:
            index = len(self.bodies)
            self.bodies.append(body)
            self._now += 1
            self.most_at_once = max(self.most_at_once, self._now)
        if index < 2:
            self.both_sent.wait()  # proves the two batches overlap
        ok = self.outcomes[index] if index < len(self.outcomes) else True
        with self.lock:
            self._now -= 1
        return SendResult(ok=ok, retryable=True, detail="scripted")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("outcomes", [[False, True], [True, False], [False, False]])
def test_two_batches_on_the_wire_and_failures_go_back_in_order(outcomes: list[bool]) -> None:
    from lumi.events.delivery import Delivery
    from lumi.events.stats import Stats

    buffer = EventBuffer(capacity=100, wake_bytes=10_000)
    events = [Pending(f"e{i}", data=b'{"n":%d}' % i) for i in range(6)]
    for event in events:
        buffer.push(event)
    sender = _OverlapSender(outcomes)
    done: list[Pending] = []
    delivery = Delivery(
        buffer,
        sender,
        Stats(),
        max_batch_bytes=24,  # three events a batch
        retry_delays_s=(),
        jitter=0.0,
        max_retry_after_s=1.0,
        connect_timeout_s=1.0,
        read_timeout_s=1.0,
        on_done=done.extend,
        concurrency=2,
    )
    assert delivery.drain() is False  # a batch failed: the drain says so
    assert sender.most_at_once == 2 and delivery.in_flight == 0
    first, second = events[:3], events[3:]
    kept = [e for batch, ok in zip((first, second), outcomes, strict=True) if not ok for e in batch]
    assert [e.event_id for e in buffer.clear()] == [e.event_id for e in kept]  # in order
    assert [e.event_id for e in done] == [
        e.event_id for batch, ok in zip((first, second), outcomes, strict=True) if ok for e in batch
    ]
