"""lumi.events vs posthog-python with full turns, both pointed at the same loopback sink.

A full turn is what a chat app records per exchange: ``session.turn()``, ``wrap_llm`` around
the model call, ``set_messages`` with two messages, ``annotate``, ``finish()``. The PostHog
baseline is one ``Client.capture()`` of an equivalent properties dict (ids, model, prompt id,
latency, the two messages, the annotation), the client in its default asynchronous mode.

1. Caller-thread CPU: ``time.thread_time()`` of the calling thread per full turn / capture,
   bursts of calls (the background senders drain between bursts, untimed), interleaved rounds,
   median.
2. Sustained delivery: events/s from the first call until the sink has every event, for the
   same number of events, each round in a fresh process (so each candidate's peak RSS is its
   own), rounds interleaved (PostHog, lumi, PostHog, ...), medians. lumi.events runs with its
   default queue (``max_queue_events=10_000``) and must drop nothing; PostHog gets a queue
   large enough that it drops nothing either. Peak RSS is reported for lumi.events at N and
   5 N events: bounded by the queue, it does not grow with N.

Run: ``.venv/bin/python -m benchmarks.events`` (the figures are ratios; the machine is shared).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

MESSAGES = [
    {"role": "user", "content": "What is the capital of France? " * 4},
    {"role": "assistant", "content": "The capital of France is Paris. " * 6},
]
ANSWER = MESSAGES[1]["content"]


def _fake_llm() -> str:
    return ANSWER


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
            nonlocal count
            with lock:
                value = count
                if self.path.startswith("/reset"):
                    count = 0
            self._reply(str(value).encode())

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

    def reset(self) -> None:
        requests.get(self.url + "/reset", timeout=10)

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


def _wait_for(url: str, total: int, timeout: float = 300) -> float:
    started = time.perf_counter()
    with requests.Session() as http:
        while time.perf_counter() - started < timeout:
            if int(http.get(url + "/count", timeout=10).text) >= total:
                return time.perf_counter()
            time.sleep(0.002)
    raise RuntimeError(f"the sink did not get {total} events")


def _lumi_tracker(url: str, **options: Any) -> Any:
    from lumi.events import Tracker

    return Tracker(endpoint=url, write_key="gi_bench", persist_identity=False, **options)


def _posthog_client(url: str) -> Any:
    import posthog

    return posthog.Client("phc_bench", host=url, max_queue_size=1_000_000)


def _full_turn(session: Any) -> None:
    turn = session.turn()
    turn.wrap_llm(_fake_llm, model="gpt-4o", prompt_id="bench-v1")
    turn.set_messages(MESSAGES)
    turn.annotate(tokens=42)
    turn.finish()


def _posthog_capture(client: Any, distinct_id: str, session_id: str, seq: list[int]) -> None:
    seq[0] += 1
    client.capture(
        "turn",
        distinct_id=distinct_id,
        properties={
            "session_id": session_id,
            "turn_seq": seq[0],
            "model": "gpt-4o",
            "prompt_id": "bench-v1",
            "latency_ms": 0.01,
            "status": "ok",
            "messages": MESSAGES,
            "tokens": 42,
        },
    )


# -- 1. caller-thread CPU ------------------------------------------------------------------------


def _burst_cpu(fn: Callable[[], None], size: int) -> float:
    started = time.thread_time()
    for _ in range(size):
        fn()
    return (time.thread_time() - started) / size


def caller_cpu(rounds: int, size: int) -> tuple[float, float]:
    """Median caller-thread CPU seconds per call: (posthog capture, lumi full turn)."""
    sink = Sink()
    tracker = _lumi_tracker(sink.url, max_queue_events=1_000_000)
    client = _posthog_client(sink.url)
    session = tracker.session.start()
    distinct_id = tracker.get_distinct_id()
    seq = [0]
    candidates: dict[str, tuple[Callable[[], None], Callable[[], object]]] = {
        "posthog": (
            lambda: _posthog_capture(client, distinct_id, session.session_id, seq),
            client.flush,
        ),
        "lumi": (lambda: _full_turn(session), lambda: tracker.flush(timeout=120)),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for fn, drain in candidates.values():  # warm up
        _burst_cpu(fn, size)
        drain()
    for _ in range(rounds):
        for name, (fn, drain) in candidates.items():
            samples[name].append(_burst_cpu(fn, size))
            drain()
    stats = tracker.stats()
    assert stats["dropped"] == 0 and stats["pending"] == 0, stats
    tracker.shutdown(timeout=60)
    client.shutdown()
    sink.close()
    return statistics.median(samples["posthog"]), statistics.median(samples["lumi"])


# -- 2. sustained delivery, one process per round ------------------------------------------------


def _delivery_child(kind: str, url: str, total: int, out: Any) -> None:
    """In a fresh process: send ``total`` full turns (or captures), wait for the sink."""
    import gc

    if kind == "lumi":
        tracker = _lumi_tracker(url)  # the default queue: 10,000 events
        session = tracker.session.start()
        gc.collect()
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        started = time.perf_counter()
        for _ in range(total):
            _full_turn(session)
        tracker.flush(timeout=300)
        ended = _wait_for(url, total)
        cpu = time.process_time() - cpu
        stats = tracker.stats()
        tracker.shutdown(timeout=10)
    else:
        client = _posthog_client(url)
        seq = [0]
        gc.collect()
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        started = time.perf_counter()
        for _ in range(total):
            _posthog_capture(client, "u", "s" * 32, seq)
        client.flush()
        ended = _wait_for(url, total)
        cpu = time.process_time() - cpu
        stats = {}
        client.shutdown()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put(
        {
            "rate": total / (ended - started),
            "cpu_us": cpu / total * 1e6,
            "peak_mb": peak / 1024,
            "growth_mb": (peak - base_rss) / 1024,
            "stats": stats,
        }
    )


def delivery(sink: Sink, kind: str, total: int) -> dict[str, Any]:
    sink.reset()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_delivery_child, args=(kind, sink.url, total, out))
    child.start()
    result: dict[str, Any] = out.get(timeout=600)
    child.join()
    return result


def main(rounds: int = 5, total: int = 20_000, cpu_rounds: int = 15, size: int = 200) -> None:
    posthog_cpu, lumi_cpu = caller_cpu(cpu_rounds, size)
    print(f"caller-thread CPU per call ({cpu_rounds} interleaved rounds of {size}, median)")
    print(f"  posthog Client.capture() (async mode)   {posthog_cpu * 1e6:8.1f} µs")
    print(f"  lumi.events full turn                    {lumi_cpu * 1e6:8.1f} µs")
    print(f"  ratio lumi / posthog: x{lumi_cpu / posthog_cpu:.2f}")

    sink = Sink()
    rates: dict[str, list[float]] = {"posthog": [], "lumi": []}
    peaks: list[float] = []
    for _ in range(rounds):
        for kind in ("posthog", "lumi"):
            result = delivery(sink, kind, total)
            rates[kind].append(result["rate"])
            if kind == "lumi":
                stats = result["stats"]
                assert stats["dropped"] == 0 and stats["sent"] == total, stats
                peaks.append(result["peak_mb"])
    big = delivery(sink, "lumi", 5 * total)
    assert big["stats"]["dropped"] == 0, big["stats"]
    sink.close()
    ph, lumi = statistics.median(rates["posthog"]), statistics.median(rates["lumi"])
    print(f"sustained delivery of {total} events to a loopback sink ({rounds} rounds, median)")
    print(f"  posthog-python (capture + flush)         {ph:8.0f} events/s")
    print(f"  lumi.events (full turns, default queue)  {lumi:8.0f} events/s, 0 dropped")
    print(f"  ratio lumi.events / posthog: x{lumi / ph:.2f}")
    print(
        f"  lumi.events peak RSS: {statistics.median(peaks):.1f} MB at {total} events, "
        f"{big['peak_mb']:.1f} MB at {5 * total} events ({big['rate']:.0f} events/s)"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
