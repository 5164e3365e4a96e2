"""A local NDJSON collector (http.server on 127.0.0.1) with scriptable failures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .wire import wire_problems

#: what the collector does with one request: "ok", "fail" (503, nothing stored),
#: "store_then_drop" (stores, then closes the connection without answering),
#: "retry_after" (429 + Retry-After: 0, nothing stored), "hang" (never answers)
Behaviour = str


class Collector:
    def __init__(self, policy: Callable[[int], Behaviour] | None = None) -> None:
        self.policy = policy or (lambda n: "ok")
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []  # every request: headers, body, behaviour
        self.stored: list[dict[str, Any]] = []  # every event line stored (duplicates kept)
        self.unanswered_ids: set[str] = set()  # ids stored in requests that got no answer
        #: events that do not fit the schema or the generated classes (checked on receipt)
        self.wire_problems: list[tuple[str, list[str]]] = []
        self._server: ThreadingHTTPServer | None = None
        self._release = threading.Event()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def ids(self) -> list[str]:
        with self.lock:
            return [e["event_id"] for e in self.stored]

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.stored)

    def bodies(self) -> bytes:
        with self.lock:
            return b"".join(r["body"] for r in self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with collector.lock:
                    number = len(collector.requests)
                    behaviour = collector.policy(number)
                    collector.requests.append(
                        {"headers": dict(self.headers), "body": body, "behaviour": behaviour}
                    )
                    if behaviour in ("ok", "store_then_drop"):
                        lines = [json.loads(x) for x in body.split(b"\n") if x.strip()]
                        collector.stored.extend(lines)
                        for event in lines:
                            problems = wire_problems(event)
                            if problems:
                                collector.wire_problems.append((str(event)[:300], problems))
                        if behaviour == "store_then_drop":
                            collector.unanswered_ids.update(e["event_id"] for e in lines)
                if behaviour == "hang":
                    collector._release.wait(60)
                    self.close_connection = True
                    return
                if behaviour == "store_then_drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if behaviour == "fail":
                    self._reply(503, b'{"error":"unavailable"}')
                elif behaviour == "retry_after":
                    self._reply(429, b"{}", {"Retry-After": "0"})
                elif behaviour == "reject":
                    self._reply(400, b'{"error":"bad"}')
                elif behaviour == "too_large":
                    self._reply(413, b'{"error":"too large"}')
                else:
                    self._reply(200, b'{"accepted":true}')

            def _reply(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> Collector:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running_collector(policy: Callable[[int], Behaviour] | None = None) -> Iterator[Collector]:
    collector = Collector(policy).start()
    try:
        yield collector
        assert not collector.wire_problems, collector.wire_problems
    finally:
        collector.stop()


def refused_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
