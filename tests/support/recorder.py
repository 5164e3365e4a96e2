"""A small local HTTP server that records every request and answers canned envelopes."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs


@attrs.define
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Recorded], tuple[int, dict[str, str], bytes]]


def envelope_responder(routes: dict[str, Any]) -> Responder:
    """Answer ``{"code":200,"data":routes[path suffix]}``; ``/ai/chat/stream`` answers SSE."""

    def respond(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        if request.path.endswith("/ai/chat/stream"):
            body = (
                b'data: {"chatId":"c1","content":"Hel"}\n\ndata: {"chatId":"c1","content":"lo"}\n\n'
            )
            return 200, {"Content-Type": "text/event-stream"}, body
        if request.path.startswith("/v1/functions/"):
            return 200, {"Content-Type": "application/json"}, b'{"success":true}'
        for suffix, data in routes.items():
            if request.path.endswith(suffix):
                payload = {"code": 200, "message": "success", "data": data}
                return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()
        return (
            200,
            {"Content-Type": "application/json"},
            b'{"code":200,"message":"success","data":null}',
        )

    return respond


class RecordingServer:
    """``with RecordingServer(responder) as server:`` -> ``server.url``, ``server.requests``."""

    def __init__(self, responder: Responder) -> None:
        self.requests: list[Recorded] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and the
                # peer's delayed ACK add ~40 ms to every keep-alive exchange.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                request = Recorded(
                    self.command,
                    url.path,
                    url.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                recorder.requests.append(request)
                status, headers, payload = responder(request)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
