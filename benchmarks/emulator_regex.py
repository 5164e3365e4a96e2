"""Other clients during a heavy query (issue 11): the latency of gets by id while another client's
``$regex`` backtracks for the whole regex budget, against the same gets with no heavy query.

The emulator runs in a child process (its own GIL, as ``lumi emulator`` would), over HTTP, with
2,000 documents and one that makes ``(a|a)+$`` backtrack. One client thread gets a document by
id in a loop; in alternating rounds another thread sends the heavy ``list`` (answered 10400
when its budget is spent) or nothing. Each candidate store configuration is measured in the same
run, rounds interleaved; the figure is the p99 of the gets during heavy queries over the p99
without. Candidates: the store's connection pool (chosen: two connections, so that a get never
waits for the heavy query's connection) and the former single connection behind a lock.

Run: ``python -m benchmarks.emulator_regex`` (``--rounds N``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import threading
import time
from typing import Any

import requests

from lumi.signing import sign_headers

PID = "p_bench"
DOCS = f"/lm/{PID}/texts/documents"
HEAVY = b'{"filter":{"t":{"$regex":"(a|a)+$"}}}'


def _serve(connections: int, data_dir: str, urls: Any, stop: Any) -> None:
    import lumi.emulator.store as store_module
    from lumi.emulator.server import Emulator

    defaults = store_module.EntityStore.__init__.__kwdefaults__
    assert defaults is not None
    defaults["max_connections"] = connections
    with Emulator(data_dir=data_dir) as emulator:
        urls.put(emulator.url)
        stop.wait()


def _post(http: requests.Session, url: str, body: bytes) -> Any:
    headers = {"Content-Type": "application/json", **sign_headers(None, body)}
    return http.post(url, data=body, headers=headers, timeout=120).json()


def _get(http: requests.Session, url: str) -> Any:
    return http.get(url, headers=sign_headers(None, None), timeout=120).json()


def _round(url: str, doc_id: str, heavy: bool, seconds: float) -> list[float]:
    """Latencies of gets while the heavy query runs (heavy) or for ``seconds`` (not)."""
    done = threading.Event()
    latencies: list[float] = []

    def gets() -> None:
        with requests.Session() as http:
            while not done.is_set():  # every get sent during the round counts, however long
                started = time.perf_counter()
                assert _get(http, f"{url}{DOCS}/{doc_id}")["code"] == 200
                latencies.append(time.perf_counter() - started)

    getter = threading.Thread(target=gets)
    getter.start()
    try:
        if heavy:
            with requests.Session() as http:
                reply = _post(http, f"{url}{DOCS}/list", HEAVY)
            assert reply["code"] == 10400 and "regex budget" in reply["message"], reply
        else:
            time.sleep(seconds)
    finally:
        done.set()
        getter.join()
    return latencies


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(rounds: int = 3) -> None:
    candidates = {"pool of 2 connections (chosen)": 2, "one connection + lock (before)": 1}
    context = multiprocessing.get_context("spawn")
    servers: dict[str, tuple[Any, Any, str]] = {}
    for name, connections in candidates.items():
        urls, stop = context.Queue(), context.Event()
        data_dir = tempfile.mkdtemp(prefix="lumi-bench-regex-")
        process = context.Process(target=_serve, args=(connections, data_dir, urls, stop))
        process.start()
        url = urls.get(timeout=60)
        with requests.Session() as http:
            docs = [{"t": f"text {i}", "i": i} for i in range(2_000)] + [{"t": "a" * 30 + "!"}]
            body = requests.models.complexjson.dumps(docs).encode()
            created = _post(http, f"{url}{DOCS}/batch", body)["data"]
        servers[name] = (process, stop, f"{url}|{created[0]['_id']}")
    samples: dict[str, dict[bool, list[float]]] = {n: {True: [], False: []} for n in candidates}
    try:
        for _ in range(rounds):
            for name, (_, _, target) in servers.items():
                url, doc_id = target.split("|")
                heavy = _round(url, doc_id, True, 0)
                samples[name][True] += heavy
                samples[name][False] += _round(url, doc_id, False, 2.0)
    finally:
        for process, stop, _ in servers.values():
            stop.set()
            process.join(timeout=30)
    print("gets by id while another client's $regex runs out its budget (ms)")
    for name, by_heavy in samples.items():
        quiet, busy = by_heavy[False], by_heavy[True]
        ratio = _p(busy, 0.99) / _p(quiet, 0.99)
        print(
            f"  {name:<32} without: p50 {statistics.median(quiet) * 1e3:6.1f} "
            f"p99 {_p(quiet, 0.99) * 1e3:6.1f} (n={len(quiet)})   during: p50 "
            f"{statistics.median(busy) * 1e3:7.1f} p99 {_p(busy, 0.99) * 1e3:7.1f} "
            f"(n={len(busy)})   p99 during/without x{ratio:.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args().rounds)
