"""Loopback servers that misbehave on purpose, at the byte level.

``ScriptedServer(script)`` accepts connections, reads one HTTP request from each, and lets
``script(connection, request)`` write whatever bytes it likes (or none) before the connection is
closed. ``read_request`` and ``http_response`` help scripts speak (or break) HTTP/1.1.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

import attrs


@attrs.define
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    raw: bytes


def read_request(conn: socket.socket, timeout: float = 5.0) -> RawRequest | None:
    """One request from ``conn`` (Content-Length bodies), or None if the peer closed first."""
    conn.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            piece = conn.recv(65536)
            if not piece:
                return None
            data += piece
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        while len(rest) < length:
            piece = conn.recv(65536)
            if not piece:
                return None
            rest += piece
    except (OSError, ValueError):
        return None
    return RawRequest(method, target, headers, rest[:length], head + b"\r\n\r\n" + rest[:length])


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    reason: str = "OK",
    length: bool = True,
) -> bytes:
    """The bytes of a response; ``length=False`` leaves out Content-Length."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


Script = Callable[[socket.socket, RawRequest], None]


class LoopbackServer:
    """Accepts connections on a loopback port and hands each to :meth:`handle` in a thread."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._accepter = threading.Thread(target=self._accept, daemon=True)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._accepter.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closed = True
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.handle(conn)


class ScriptedServer(LoopbackServer):
    """``with ScriptedServer(script) as server:`` -> ``server.url``; ``server.requests`` counts."""

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script
        self.requests: list[RawRequest] = []

    def handle(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is None:
            return
        self.requests.append(request)
        self.script(conn, request)
        conn.shutdown(socket.SHUT_WR)
