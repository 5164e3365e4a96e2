"""The HTTP server under the emulator: keep-alive, streaming, stopping, binding errors."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import requests

from lumi.emulator.ai import EmulatedAIProvider
from lumi.emulator.server import Emulator
from lumi.signing import sign_headers

from .conftest import PID, Api


def test_connections_are_kept_alive(api: Api, emu: Emulator) -> None:
    """One TCP connection serves many requests (Werkzeug's development server closed it)."""
    session = requests.Session()
    ports = set()
    for _ in range(5):
        response = session.post(
            emu.url + f"/lm/{PID}/e/documents/list",
            data=b"{}",
            headers=sign_headers(None, b"{}"),
            stream=True,
        )
        assert response.status_code == 200 and response.headers.get("Connection") != "close"
        ports.add(response.raw._connection.sock.getsockname()[1])  # type: ignore[union-attr]
        response.content  # noqa: B018  (read the body so that the connection goes back)
    assert len(ports) == 1


class GatedProvider(EmulatedAIProvider):
    """Streams one delta, then waits until the test has received it before the next one."""

    def __init__(self) -> None:
        self.first_frame_seen = threading.Event()
        self.waited: bool | None = None

    def stream_text(self, model: str, messages: list[dict[str, Any]]) -> Iterable[str]:
        yield "first "
        # A server that buffered the reply would not send "first" before this returns: the
        # wait would then time out and `waited` would be False.
        self.waited = self.first_frame_seen.wait(timeout=30)
        yield "second"


def test_server_sent_events_stream_frame_by_frame() -> None:
    provider = GatedProvider()
    with Emulator(ai_provider=provider) as emu:
        body = {"lumiApiKey": "k", "chatMessages": [{"role": "user", "content": "hi"}]}
        response = Api(emu.url).request("POST", f"/lm/{PID}/ai/chat/stream", body, stream=True)
        assert response.headers["Content-Type"].startswith("text/event-stream")
        lines = response.iter_lines()
        first = next(line for line in lines if line.startswith(b"data:"))
        assert json.loads(first[5:])["content"] == "first "
        provider.first_frame_seen.set()
        rest = [json.loads(line[5:])["content"] for line in lines if line.startswith(b"data:")]
    assert rest == ["second"] and provider.waited is True


def test_a_download_streams_from_the_file(api: Api, emu: Emulator) -> None:
    payload = bytes(range(256)) * 200
    files = [("files", ("blob.bin", payload, "application/octet-stream"))]
    [item] = api.ok("POST", f"/lm/{PID}/file/batch", files=files)
    response = requests.get(item["fileUrl"], stream=True, timeout=30)
    assert int(response.headers["Content-Length"]) == len(payload)
    assert b"".join(response.iter_content(4096)) == payload
    partial = requests.get(item["fileUrl"], headers={"Range": "bytes=10-19"}, timeout=30)
    assert partial.status_code == 206 and partial.content == payload[10:20]


def _port_is_free(port: int) -> bool:
    try:
        socket.create_server(("127.0.0.1", port)).close()
    except OSError:
        return False
    return True


def test_stop_frees_the_port_with_connections_open() -> None:
    emu = Emulator().start()
    idle = socket.create_connection(("127.0.0.1", emu.port))  # a keep-alive client, idle
    half = socket.create_connection(("127.0.0.1", emu.port))
    half.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")  # and one stuck mid-request
    session = requests.Session()
    assert session.get(emu.url + "/", timeout=10).status_code == 200
    emu.stop()
    assert _port_is_free(emu.port)
    assert idle.recv(1) == b"" and half.recv(1) == b""  # closed by the server
    with pytest.raises(requests.ConnectionError):
        session.get(emu.url + "/", timeout=10)
    idle.close()
    half.close()
    emu.stop()  # twice is harmless


def test_stopping_under_load_logs_no_worker_failure(caplog: pytest.LogCaptureFixture) -> None:
    """Requests still arriving and being served while stop() runs: each client gets an answer
    or a closed connection, and no worker fails on a closed socket (waitress logs that as
    "Exception when servicing", with a traceback, at ERROR)."""
    caplog.set_level(logging.WARNING, logger="waitress")
    answered = 0
    for _ in range(10):
        emu = Emulator().start()
        stopping = threading.Event()

        def hammer(url: str = emu.url, stopping: threading.Event = stopping) -> None:
            nonlocal answered
            session = requests.Session()
            while not stopping.is_set():
                try:
                    session.get(url + "/", timeout=5)
                    answered += 1
                except requests.RequestException:
                    pass

        clients = [threading.Thread(target=hammer) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.2)
        emu.stop()
        stopping.set()
        for client in clients:
            client.join()
    assert answered > 0
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []


def test_a_busy_port_raises_oserror_and_leaves_nothing_behind() -> None:
    with Emulator() as running:
        busy = Emulator(port=running.port)
        with pytest.raises(OSError):
            busy.start()
        busy.stop()
        assert not busy.data_dir.exists()
        with pytest.raises(OSError), Emulator(port=running.port) as never:
            pytest.fail(f"entered {never}")
        assert requests.get(running.url + "/", timeout=10).status_code == 200


def test_a_restart_on_the_same_port_and_data(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path) as first:
        Api(first.url).ok("POST", f"/lm/{PID}/e/documents", {"n": 1})
        port = first.port
    with Emulator(data_dir=tmp_path, port=port) as second:
        assert [d["n"] for d in Api(second.url).ok("POST", f"/lm/{PID}/e/documents/list", {})] == [
            1
        ]


def test_nonces_reach_the_database_while_the_emulator_runs(tmp_path: Path) -> None:
    """Written in batches in the background, not only at stop (what a crash would keep)."""
    with Emulator(data_dir=tmp_path) as emu:
        headers = sign_headers(None, b"{}")
        requests.post(emu.url + f"/lm/{PID}/e/documents/list", data=b"{}", headers=headers)
        with sqlite3.connect(tmp_path / "emulator.sqlite3") as db:
            for _ in range(600):  # the background writer runs every 0.1 s
                rows = db.execute("SELECT nonce FROM nonces").fetchall()
                if rows:
                    break
                time.sleep(0.05)
        assert rows == [(headers["X-Nonce"],)]
