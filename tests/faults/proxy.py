"""A loopback HTTP proxy that injects faults between the client and a real server (the emulator).

For each request it draws, from a seeded ``random.Random``, one of:

- ``close_before``: close the connection without forwarding (the server never sees it);
- ``drop_after``: forward, let the server act, then close without passing the reply on;
- ``busy_503``: answer ``503`` with ``Retry-After: 0`` without forwarding;
- ``delay``: forward, then hold the reply past the client's read timeout (and close);
- ``none``: forward and pass the reply on.

It counts what it did by kind, and how many requests reached the server.
"""

from __future__ import annotations

import collections
import http.client
import random
import socket
import threading
import time
from urllib.parse import urlsplit

from .servers import LoopbackServer, http_response, read_request

#: Headers that belong to one hop, never forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str, rates: dict[str, float], *, seed: int, delay: float) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rates = rates
        self._rng = random.Random(seed)
        self._delay = delay
        self._lock = threading.Lock()
        self.faults: collections.Counter[str] = collections.Counter()
        self.forwarded = 0

    def _draw(self) -> str:
        with self._lock:
            roll = self._rng.random()
            for kind, rate in self._rates.items():
                if roll < rate:
                    self.faults[kind] += 1
                    return kind
                roll -= rate
            self.faults["none"] += 1
            return "none"

    def handle(self, conn: socket.socket) -> None:
        while True:
            request = read_request(conn, timeout=30)
            if request is None:
                return
            fault = self._draw()
            if fault == "close_before":
                return
            if fault == "busy_503":
                conn.sendall(
                    http_response(503, b"busy", {"Retry-After": "0"}, reason="Unavailable")
                )
                return
            reply = self._forward(request)
            if fault == "drop_after":
                return
            if fault == "delay":
                time.sleep(self._delay)
                conn.sendall(reply)
                return
            conn.sendall(reply)

    def _forward(self, request) -> bytes:
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
            upstream.request(request.method, request.target, body=request.body, headers=headers)
            response = upstream.getresponse()
            body = response.read()
            with self._lock:
                self.forwarded += 1
        finally:
            upstream.close()
        kept = {
            k: v
            for k, v in response.getheaders()
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
        }
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [f"{k}: {v}" for k, v in kept.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
