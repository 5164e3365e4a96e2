"""The emulator over HTTP, side by side with floors measured in the same run.

1. **Gets by id from 2 client threads** (a ``requests.Session`` each, signed like the client):
   the emulator (``lumi.emulator.Emulator``, waitress) against a minimal keep-alive Python HTTP
   server that answers a canned envelope (``http.server``, HTTP/1.1, one write per reply): the
   floor any Python server reaches on this machine; and against waitress, configured as the
   emulator's, serving the same canned envelope from an app that does nothing else (what the
   emulator's own work costs on top of its server). Interleaved rounds, medians, each server in
   its own process so that none shares the clients' interpreter lock. Also each server's CPU
   per get (its process's user + system time, Linux only): steadier than gets/s on a busy
   machine.
2. With ``--candidates``: the same emulator app under each server considered (waitress, cheroot
   when installed, Werkzeug's development server), the same gets, and a slow-client check: 16
   connections that send half a request and stall, then one normal get (served or starved).
3. A filtered (``$in`` + ranges), two-key sorted page over the documents, through the client and
   through raw signed ``requests`` (the client's share).

``python -m benchmarks.emulator_http [--size N] [--rounds R] [--candidates]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

import lumi
from lumi.jsonenc import dumps_bytes
from lumi.signing import sign_headers

from ._timing import compare, report

PROJECT = "p_bench"
STATUSES = ["agendada", "confirmada", "cancelada", "concluida"]
THREADS = 2


def _documents(size: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    return [
        {
            "student_id": f"s{rng.randrange(500)}",
            "status": rng.choice(STATUSES),
            "scheduledDate": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T10:00:00.000Z",
            "price": rng.randrange(50, 500),
            "tags": rng.sample(["a", "b", "c", "d"], 2),
        }
        for _ in range(size)
    ]


# --- the servers, each in its own process -----------------------------------------------------
class _CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    body = b""

    def do_GET(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        self.wfile.write(head % len(self.body) + self.body)  # one write: no Nagle stall

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve_canned(queue: Any, body: bytes) -> None:
    _CannedHandler.body = body
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CannedHandler)
    server.daemon_threads = True
    queue.put(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


def _serve_waitress_canned(queue: Any, body: bytes) -> None:
    from lumi.emulator.server import _waitress  # the emulator's own server settings

    def app(environ: Any, start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        return [body]

    listener = socket.create_server(("127.0.0.1", 0))
    server = _waitress(app, listener, 1 << 20)  # type: ignore[arg-type]
    queue.put(f"http://127.0.0.1:{listener.getsockname()[1]}")
    server.run()


def _serve_emulator(queue: Any, size: int, server_name: str) -> None:
    from lumi.emulator import Emulator

    emulator = Emulator()
    if server_name == "waitress":  # the shipped server
        emulator.start()
        url = emulator.url
    elif server_name == "cheroot":
        from cheroot import wsgi

        cheroot = wsgi.Server(("127.0.0.1", 0), emulator.app, numthreads=8)
        cheroot.prepare()
        threading.Thread(target=cheroot.serve, daemon=True).start()
        url = f"http://127.0.0.1:{cheroot.bind_addr[1]}"
    else:  # werkzeug: the development server the emulator used before
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log
        dev = make_server("127.0.0.1", 0, emulator.app, threaded=True)
        threading.Thread(target=dev.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{dev.server_port}"
    client = lumi.create_client(project_id=PROJECT, api_base_url=url, rate_limit=None)
    docs = _documents(size)
    ids: list[str] = []
    for start in range(0, size, 1000):
        ids.extend(
            str(r.id) for r in client.entities.lessons.create_many(docs[start : start + 1000])
        )
    queue.put((url, ids[len(ids) // 2]))
    while True:
        time.sleep(3600)


def _start(target: Callable[..., None], *args: Any) -> tuple[multiprocessing.Process, Any]:
    queue: Any = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=target, args=(queue, *args), daemon=True
    )
    process.start()
    return process, queue.get(timeout=600)


# --- the clients ------------------------------------------------------------------------------
def gets_per_second(url: str, calls: int) -> float:
    """Gets/s of THREADS threads, each with its own keep-alive session, `calls` gets each."""
    sessions = [requests.Session() for _ in range(THREADS)]
    for session in sessions:
        session.get(url, headers=sign_headers(None, None), timeout=30).json()

    def work(session: requests.Session) -> None:
        for _ in range(calls):
            session.get(url, headers=sign_headers(None, None), timeout=30).json()

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.close()
    return THREADS * calls / elapsed


def process_cpu(pid: int) -> float | None:
    """Seconds of CPU (user + system) the process has used; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_despite_slow_clients(url: str, stalled: int = 16) -> str:
    """Open `stalled` connections that send half a request, then time one normal get."""
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    try:
        for _ in range(stalled):
            sock = socket.create_connection((host, int(port)))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            sockets.append(sock)
        time.sleep(0.5)
        started = time.perf_counter()
        try:
            requests.get(url + "/", timeout=5)
        except requests.RequestException as exc:
            return f"starved ({type(exc).__name__} after {time.perf_counter() - started:.1f} s)"
        return f"served in {(time.perf_counter() - started) * 1000:.0f} ms"
    finally:
        for sock in sockets:
            sock.close()


def main(size: int = 50_000, rounds: int = 9, calls: int = 300, candidates: bool = False) -> None:
    servers = ["waitress"]
    if candidates:
        servers += ["cheroot", "werkzeug"]
        try:
            import cheroot  # noqa: F401
        except ImportError:
            servers.remove("cheroot")
            print("cheroot is not installed: not measured (pip install cheroot)")
    started = time.perf_counter()
    emulators = {name: _start(_serve_emulator, size, name) for name in servers}
    print(f"loaded {size:,} documents per emulator in {time.perf_counter() - started:.1f} s")
    url, target = emulators["waitress"][1]
    document = requests.get(
        f"{url}/lm/{PROJECT}/lessons/documents/{target}",
        headers=sign_headers(None, None),
        timeout=30,
    ).content
    canned_process, canned_url = _start(_serve_canned, document)  # the same envelope, canned
    floor_process, floor_url = _start(_serve_waitress_canned, document)
    processes = [canned_process, floor_process] + [process for process, _ in emulators.values()]
    try:
        urls = {
            "canned keep-alive http.server": (canned_process.pid, canned_url + "/x"),
            "waitress, canned reply": (floor_process.pid, floor_url + "/x"),
        }
        for name, (process, (base, doc_id)) in emulators.items():
            urls[f"emulator ({name})"] = (
                process.pid,
                f"{base}/lm/{PROJECT}/lessons/documents/{doc_id}",
            )
        samples: dict[str, list[float]] = {name: [] for name in urls}
        cpu: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(rounds):  # interleaved: every server in every round
            for name, (pid, get_url) in urls.items():
                before = process_cpu(pid)
                samples[name].append(gets_per_second(get_url, calls))
                after = process_cpu(pid)
                if before is not None and after is not None:
                    cpu[name].append((after - before) / (THREADS * (calls + 1)))
        floor = statistics.median(samples["canned keep-alive http.server"])
        print(f"gets by id, {THREADS} threads x {calls} gets, median of {rounds} rounds")
        for name, values in samples.items():
            rate = statistics.median(values)
            used = (
                f"   server CPU {statistics.median(cpu[name]) * 1e6:5.0f} µs/get"
                if cpu[name]
                else ""
            )
            print(
                f"  {name:<32} {rate:8,.0f} gets/s   x{rate / floor:4.2f} of the canned floor{used}"
            )
        if candidates:
            print("one get while 16 connections stall half-way through a request")
            for name, (_, (base, _)) in emulators.items():
                print(f"  {name:<10} {served_despite_slow_clients(base)}")
        _list_page(url, size)
    finally:
        for process in processes:
            process.terminate()


def _list_page(url: str, size: int) -> None:
    session = requests.Session()
    client = lumi.create_client(project_id=PROJECT, api_base_url=url, rate_limit=None)
    lessons = client.entities.lessons
    base = f"{url}/lm/{PROJECT}/lessons/documents"
    query = {
        "filter": {
            "status": {"$in": ["agendada", "confirmada"]},
            "price": {"$gte": 100},
            "scheduledDate": {"$gte": "2026-03-01T00:00:00.000Z"},
        },
        "sort": {"scheduledDate": 1, "price": -1},
        "limit": 20,
        "skip": 40,
    }
    body = dumps_bytes(query)

    def raw_list() -> object:
        headers = {"Content-Type": "application/json", **sign_headers(None, body)}
        return json.loads(session.post(f"{base}/listByPage", data=body, headers=headers).content)

    def client_list() -> object:
        return lessons.list(**query)  # type: ignore[arg-type]

    rows = compare(
        {"raw signed requests POST": raw_list, "client entities.list": client_list},
        calls=3,
        rounds=5,
    )
    page = client_list()
    report(
        f"filtered + sorted page over {size:,} documents ({page.total:,} matches)",  # type: ignore[attr-defined]
        rows,
        "raw signed requests POST",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=300, help="gets per thread per round")
    parser.add_argument("--candidates", action="store_true", help="also cheroot and werkzeug")
    arguments = parser.parse_args()
    main(arguments.size, arguments.rounds, arguments.calls, arguments.candidates)
