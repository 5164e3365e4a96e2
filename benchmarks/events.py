"""lumi.events vs posthog-python, both pointed at the same loopback sink, in the same run.

1. Caller-thread cost: one finished turn (turn() + set_messages + annotate + finish()) against
   one ``posthog.Client.capture()`` of the same content, the PostHog client in its default
   asynchronous mode. Both queues are made large enough that nothing is dropped (a drop is
   cheaper than an enqueue and would flatter whichever side drops).
2. Sustained delivery: events/s from the first enqueue until the sink has every event, for
   lumi.events (NDJSON batches of max_batch_bytes) and for PostHog (``flush()``).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import posthog
import requests

from lumi.events import Tracker

from ._timing import report

MESSAGES = [
    {"role": "user", "content": "What is the capital of France? " * 4},
    {"role": "assistant", "content": "The capital of France is Paris. " * 6},
]


def _serve(port_out: Any) -> None:
    """The sink, in its own process so that its CPU is not charged to the benchmarked one."""
    count = 0
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with lock:
                self._reply(str(count).encode())

        def do_POST(self) -> None:
            nonlocal count
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path.startswith("/collect/sdk/events"):
                n = body.count(b"\n")
            else:
                n = len(json.loads(body).get("batch", []))
            with lock:
                count += n
            self._reply(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


class Sink:
    """Answers 200 to every POST and counts the events received (NDJSON or PostHog batch)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ports = context.Queue()
        self.process = context.Process(target=_serve, args=(ports,), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=60)}"

    def count(self) -> int:
        return int(requests.get(self.url + "/count", timeout=10).text)

    def wait_for(self, total: int, timeout: float = 120) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.count() >= total:
                return time.perf_counter()
            time.sleep(0.002)
        raise RuntimeError(f"the sink got {self.count()} of {total} events")

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


def _lumi(sink: Sink) -> Tracker:
    return Tracker(
        endpoint=sink.url, write_key="gi_bench", persist_identity=False, max_queue_events=500_000
    )


def _posthog(sink: Sink) -> posthog.Client:
    return posthog.Client("phc_bench", host=sink.url, max_queue_size=500_000)


def _burst_cost(fn: Callable[[], None], drain: Callable[[], None], bursts: int, size: int) -> float:
    """Median per-call time over bursts of ``size`` calls; between bursts (not timed) the
    background sender drains, so a burst measures what the caller pays, not a backlog."""
    samples = []
    for _ in range(bursts):
        started = time.perf_counter()
        for _ in range(size):
            fn()
        samples.append((time.perf_counter() - started) / size)
        drain()
    return statistics.median(samples)


def caller_cost(bursts: int, size: int) -> list[tuple[str, float]]:
    sink = Sink()
    tracker, client = _lumi(sink), _posthog(sink)
    session = tracker.session.start()
    distinct_id = tracker.get_distinct_id()

    def lumi_turn() -> None:
        turn = session.turn()
        turn.set_messages(MESSAGES)
        turn.annotate(tokens=42)
        turn.finish()

    def posthog_capture() -> None:
        client.capture(
            "turn",
            distinct_id=distinct_id,
            properties={
                "session_id": session.session_id,
                "messages": MESSAGES,
                "tokens": 42,
                "model": "gpt-4o",
            },
        )

    rows = [
        (
            "posthog Client.capture() (async mode)",
            _burst_cost(posthog_capture, client.flush, bursts, size),
        ),
        (
            "lumi.events turn: turn()+set_messages+finish()",
            _burst_cost(lumi_turn, lambda: tracker.flush(timeout=60), bursts, size),
        ),
    ]
    stats = tracker.stats()
    assert stats["dropped"] == 0 and stats["pending"] == 0, stats
    tracker.shutdown(timeout=60)
    client.shutdown()
    sink.close()
    return rows


def delivery_rate(name: str, total: int, build: Callable[[Sink], Any]) -> float:
    sink = Sink()
    target = build(sink)
    started = time.perf_counter()
    if isinstance(target, Tracker):
        session = target.session.start()
        for _ in range(total):
            turn = session.turn()
            turn.set_messages(MESSAGES)
            turn.finish()
        target.flush(timeout=120)
    else:
        for _ in range(total):
            target.capture("turn", distinct_id="u", properties={"messages": MESSAGES})
        target.flush()
    ended = sink.wait_for(total)
    rate = total / (ended - started)
    if isinstance(target, Tracker):
        target.shutdown(timeout=10)
    else:
        target.shutdown()
    sink.close()
    print(f"  {name:<44} {rate:10.0f} events/s")
    return rate


def main(bursts: int = 40, size: int = 100, total: int = 20_000) -> None:
    rows = caller_cost(bursts, size)
    report(
        f"caller-thread cost of one event ({bursts} bursts of {size}, median)",
        rows,
        "posthog Client.capture() (async mode)",
    )
    print(f"sustained delivery of {total} events to a loopback sink")
    ph = delivery_rate("posthog-python (capture + flush)", total, _posthog)
    lumi_rate = delivery_rate("lumi.events (finish + flush)", total, _lumi)
    print(f"  ratio lumi.events / posthog: x{lumi_rate / ph:.2f}")


if __name__ == "__main__":
    main()
