"""Retries: safe calls on 408/429/5xx, timeouts and resets; unsafe calls only if never sent."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
import requests
import responses

import lumi
from lumi.config import RetryPolicy
from lumi.retry import backoff_seconds, should_retry

BASE = "https://api.example.test"
PID = "p1"
OK = {"code": 200, "message": "success", "data": []}


@pytest.fixture
def sleeps(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    return waits


def make_client(url: str = BASE, **kwargs) -> lumi.LumiClient:
    return lumi.create_client(
        project_id=PID, api_base_url=url, authorization="Bearer secret-tok", **kwargs
    )


@responses.activate
def test_safe_call_retried_on_503_then_succeeds(sleeps, caplog):
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, status=503, body="busy")
    responses.post(url, json=OK)
    with caplog.at_level(logging.WARNING, logger="lumi"):
        assert make_client().entities.Posts.list().total == 0
    assert len(responses.calls) == 2 and len(sleeps) == 1
    nonces = {c.request.headers["X-Nonce"] for c in responses.calls}
    assert len(nonces) == 2  # every attempt is signed afresh
    assert "retrying POST /lm/p1/Posts/documents/list" in caplog.text
    assert "secret-tok" not in caplog.text


@responses.activate
def test_retry_after_seconds_is_honoured_and_capped(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/abc"
    responses.get(url, status=429, headers={"Retry-After": "2"})
    responses.get(url, status=429, headers={"Retry-After": "9999"})
    responses.get(url, json={"code": 200, "message": "", "data": None})
    client = make_client(retry=RetryPolicy(max_attempts=3, retry_after_max=5))
    assert client.entities.Posts.get("abc") is None
    assert sleeps == [2.0, 5.0]


@responses.activate
def test_retry_after_http_date(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/abc"
    responses.get(url, status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    responses.get(url, json={"code": 200, "message": "", "data": None})
    make_client().entities.Posts.get("abc")
    assert sleeps == [0.0]  # a date in the past means "now"


@responses.activate
def test_gives_up_after_max_attempts_with_status_error(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, status=502, body="<html><h1>502 Bad Gateway</h1></html>")
    with pytest.raises(lumi.HTTPStatusError) as info:
        make_client(retry=RetryPolicy(max_attempts=4)).entities.Posts.list()
    assert info.value.status == 502 and "Bad Gateway" in info.value.body_excerpt
    assert len(responses.calls) == 4 and len(sleeps) == 3


@responses.activate
def test_unsafe_call_not_retried_on_503(sleeps):
    responses.post(f"{BASE}/lm/{PID}/Posts/documents", status=503)
    with pytest.raises(lumi.HTTPStatusError):
        make_client().entities.Posts.create({"a": 1})
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_total_time_budget_stops_retries(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, status=503, headers={"Retry-After": "30"})
    with pytest.raises(lumi.HTTPStatusError):
        make_client(
            retry=RetryPolicy(max_attempts=5), timeout=lumi.Timeout(total=10)
        ).entities.Posts.list()
    assert len(responses.calls) == 1


@responses.activate
def test_per_call_options(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, status=503)
    client = make_client()
    with pytest.raises(lumi.HTTPStatusError):
        client.with_options(retry=RetryPolicy.none()).entities.Posts.list()
    assert len(responses.calls) == 1


def _refused_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens: connections are refused
    return f"http://127.0.0.1:{port}"


def test_unsafe_call_retried_when_connection_refused(sleeps):
    client = make_client(_refused_url(), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(lumi.ConnectionError) as info:
        client.entities.Posts.create({"a": 1})
    assert len(sleeps) == 2  # never reached the server: safe to repeat even a create
    assert "after 3 attempts" in info.value.message and "secret-tok" not in info.value.message


class _ResetServer:
    """Reads each request, then closes the connection without answering (it *was* received)."""

    def __init__(self) -> None:
        self.received = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.recv(65536)
            self.received += 1
            conn.close()

    def close(self) -> None:
        self._sock.close()


def test_reset_after_sending_retries_safe_but_not_unsafe(sleeps):
    server = _ResetServer()
    try:
        client = make_client(server.url, retry=RetryPolicy(max_attempts=3))
        with pytest.raises(lumi.ConnectionError):
            client.entities.Posts.create({"a": 1})
        assert server.received == 1 and sleeps == []
        with pytest.raises(lumi.ConnectionError):
            client.entities.Posts.list()
        assert server.received == 4 and len(sleeps) == 2
    finally:
        server.close()


def test_read_timeout_is_a_typed_timeout(sleeps):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # accepts (the kernel does) but never answers
    try:
        client = make_client(
            f"http://127.0.0.1:{sock.getsockname()[1]}",
            timeout=lumi.Timeout(connect=1, read=0.2),
            retry=RetryPolicy.none(),
        )
        with pytest.raises(lumi.TimeoutError):
            client.entities.Posts.get("x")
    finally:
        sock.close()


def test_predicate_and_backoff_shape():
    response = requests.Response()
    response.status_code = 500
    assert should_retry(response, "safe") and not should_retry(response, "unsafe")
    response.status_code = 400
    assert not should_retry(response, "safe")
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8)
    for n in range(1, 10):
        wait = backoff_seconds(policy, n, None)
        ceiling = min(0.5 * 2 ** (n - 1), 8)
        assert 0.75 * ceiling <= wait <= ceiling


@responses.activate
def test_fifth_identical_request_within_a_second_is_refused():
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, json=OK)
    client = make_client()
    for _ in range(4):
        client.entities.Posts.list()
    with pytest.raises(lumi.RateLimitError) as info:
        client.entities.Posts.list()
    assert info.value.code == 10429 and len(responses.calls) == 4
    client.entities.Posts.list(filter={"other": 1})  # a different request is fine
    client.for_request("Bearer other").entities.Posts.list()  # scoped to one client
    unlimited = make_client(rate_limit=None)
    for _ in range(10):
        unlimited.entities.Posts.list()
