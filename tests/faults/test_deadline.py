"""``Timeout(total=...)`` bounds a call end to end, whatever the server does.

Each server here stays within the per-read timeout (one byte every 0.3-0.5 s against a 1 s read
timeout), so only the call's deadline can end the call; the servers record how far they got, so
the tests check that the call was cut, not how long it took.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

import lumi
from lumi import RetryPolicy, Timeout

from .servers import RawRequest, ScriptedServer, http_response

DOC = b'{"code":200,"message":"ok","data":{"_id":"6939311e8458665713e0b522","title":"x"}}'


class Drip:
    """A script that sends ``head`` at once, then ``drip`` one byte per ``every`` seconds."""

    def __init__(self, head: bytes, drip: bytes, every: float) -> None:
        self.head, self.drip, self.every = head, drip, every
        self.sent = 0
        self.finished = False
        self.stopped = threading.Event()

    def __call__(self, conn, _request: RawRequest) -> None:
        try:
            conn.sendall(self.head)
            for byte in self.drip:
                time.sleep(self.every)
                conn.sendall(bytes([byte]))
                self.sent += 1
            self.finished = True
        finally:
            self.stopped.set()


def client_for(url: str, **kwargs) -> lumi.LumiClient:
    return lumi.create_client(project_id="p1", api_base_url=url, rate_limit=None, **kwargs)


def test_a_body_dripping_within_the_read_timeout_is_cut_at_the_deadline():
    body = DOC
    head = http_response(200, b"", {"Content-Type": "application/json"}, length=False)
    head = head.replace(b"\r\n\r\n", f"\r\nContent-Length: {len(body)}\r\n\r\n".encode(), 1)
    script = Drip(head, body, every=0.4)
    with ScriptedServer(script) as server:
        client = client_for(server.url, timeout=Timeout(connect=1, read=1, total=2))
        started = time.monotonic()
        with pytest.raises(lumi.APITimeoutError) as info:
            client.entities.Posts.get("6939311e8458665713e0b522")
        elapsed = time.monotonic() - started
        assert script.stopped.wait(10)
    error = info.value
    assert "deadline of 2 s" in error.message and error.request_sent
    assert isinstance(error, TimeoutError)  # the builtin, too
    assert error.method == "GET" and error.path.endswith("/documents/6939311e8458665713e0b522")
    assert not script.finished and script.sent < len(body)
    # A GET is safe to repeat, but the deadline leaves no room for a second attempt.
    assert len(server.requests) == error.attempts == 1
    print(f"body drip: cut after {script.sent} of {len(body)} bytes, {elapsed:.2f} s")


def test_headers_dripping_are_cut_at_the_deadline_too():
    head = http_response(200, DOC, {"Content-Type": "application/json"})
    script = Drip(b"", head, every=0.3)
    with ScriptedServer(script) as server:
        client = client_for(server.url, timeout=Timeout(connect=1, read=1, total=1.5))
        with pytest.raises(lumi.APITimeoutError, match="deadline"):
            client.entities.Posts.list()
        assert script.stopped.wait(10)
    assert not script.finished and script.sent < len(head)


def test_opening_a_stream_is_bounded_by_the_deadline(monkeypatch):
    monkeypatch.setenv("LUMI_API_KEY", "lk")
    head = http_response(200, b"data: {}\n\n", {"Content-Type": "text/event-stream"})
    script = Drip(b"", head, every=0.3)
    with ScriptedServer(script) as server:
        client = client_for(server.url, timeout=Timeout(connect=1, read=1, total=1))
        with pytest.raises(lumi.OutcomeUnknownTimeoutError) as info:
            client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "x"}])
        assert script.stopped.wait(10)
    # AI generation is not safe to repeat: the outcome is unknown, and that is a timeout too.
    assert isinstance(info.value, lumi.APITimeoutError) and info.value.request_sent
    assert "outcome unknown" in info.value.message and not script.finished


def test_retries_and_their_waits_stay_within_the_deadline(monkeypatch):
    def busy(conn, _request: RawRequest) -> None:
        conn.sendall(http_response(503, b"busy", {"Retry-After": "1"}, reason="Unavailable"))

    with ScriptedServer(busy) as server:
        client = client_for(
            server.url,
            timeout=Timeout(connect=1, read=1, total=2.5),
            retry=RetryPolicy(max_attempts=10),
        )
        with pytest.raises(lumi.HTTPStatusError) as info:
            client.entities.Posts.list()
    # Waits of 1 s (Retry-After): a third attempt at about 2 s, no fourth (it would start at 3 s).
    assert info.value.status == 503 and 2 <= info.value.attempts <= 3
    assert len(server.requests) == info.value.attempts


def test_a_silent_server_ends_at_the_deadline_not_the_read_timeout():
    def silent(_conn, _request: RawRequest) -> None:
        time.sleep(3)

    with ScriptedServer(silent) as server:
        client = client_for(server.url, timeout=Timeout(connect=1, read=30, total=0.5))
        with pytest.raises(lumi.APITimeoutError, match=r"deadline of 0\.5 s"):
            client.entities.Posts.get("x")


def test_a_session_of_your_own_still_caps_each_wait_at_the_deadline():
    def silent(_conn, _request: RawRequest) -> None:
        time.sleep(3)

    with ScriptedServer(silent) as server:
        client = client_for(
            server.url, timeout=Timeout(connect=1, read=30, total=0.5), session=requests.Session()
        )
        with pytest.raises(lumi.APITimeoutError, match="deadline"):
            client.entities.Posts.get("x")


def test_no_deadline_when_total_is_none():
    assert Timeout(total=None).total is None
    with pytest.raises(lumi.ValidationError, match=r"Timeout\.total"):
        Timeout(total=0)
    with pytest.raises(lumi.ValidationError, match=r"Timeout\.read"):
        Timeout(read=-1)


def test_deadlines_of_some_calls_never_break_the_others_on_shared_connections():
    """Threads share one client (one pool of keep-alive connections); half the calls run into
    their deadline and have their socket shut, the other half must all succeed."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.recorder import RecordingServer

    def respond(request):
        if request.path.endswith("/slow"):
            time.sleep(0.4)
        return 200, {"Content-Type": "application/json"}, DOC

    with RecordingServer(respond) as server:
        shared = client_for(server.url, timeout=Timeout(connect=2, read=5, total=10))
        hasty = shared.with_options(timeout=Timeout(connect=2, read=5, total=0.15))

        def one(index: int) -> str:
            if index % 2:
                try:
                    hasty.entities.Posts.get("slow")
                except lumi.APITimeoutError:
                    return "deadline"
                return "slow call finished?"
            return shared.entities.Posts.get(f"fast{index}").title

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(one, range(160)))
    assert outcomes.count("x") == 80 and outcomes.count("deadline") == 80


def test_the_deadline_holds_through_a_proxy_from_the_environment(monkeypatch):
    """HTTP_PROXY (read when the client is made) points at a proxy that drips its reply."""
    body = DOC
    head = http_response(200, b"", {"Content-Type": "application/json"}, length=False)
    head = head.replace(b"\r\n\r\n", f"\r\nContent-Length: {len(body)}\r\n\r\n".encode(), 1)
    script = Drip(head, body, every=0.4)
    with ScriptedServer(script) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        client = client_for("http://api.lumi.invalid", timeout=Timeout(connect=1, read=1, total=2))
        with pytest.raises(lumi.APITimeoutError, match="deadline"):
            client.entities.Posts.get("6939311e8458665713e0b522")
        assert script.stopped.wait(10)
    assert proxy.requests[0].target.startswith("http://api.lumi.invalid/lm/p1/")  # proxied
    assert not script.finished and script.sent < len(body)
