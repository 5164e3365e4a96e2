"""Hostile input over HTTP for the emulator's HTTP layer: odd names and bytes, huge bodies, bad
multipart, bad limit/skip, malformed requests, slow clients. Never a 500 (the query engine's
pending bounds are tested in test_schemathesis.py), the data stays intact, the server keeps
serving other clients."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumi.emulator.limits import MAX_JSON_BODY
from lumi.emulator.server import THREADS, Emulator
from lumi.signing import sign_headers

from .conftest import PID, Api

DOCS = f"/lm/{PID}/things/documents"


@pytest.fixture
def kept(api: Api) -> Iterator[dict[str, Any]]:
    """A document created first; every test checks it is unchanged at the end."""
    document: dict[str, Any] = api.ok("POST", DOCS, {"title": "keep me", "n": 1})
    yield document
    assert api.ok("GET", f"{DOCS}/{document['_id']}") == document
    assert api.ok("POST", f"{DOCS}/list", {}) == [document]


def _envelope(response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    reply: dict[str, Any] = response.json()
    assert set(reply) == {"code", "message", "data"} and "Traceback" not in response.text
    return reply


# --- limit and skip -------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["limit", "skip"])
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("9223372036854775808", "9223372036854775808"),  # 2**63
        ("99999999999999999999999999999999999999", "99999999999999999999999999999999999999"),
        ("1e308", "1e+308"),
        ("-1e308", "-1e+308"),
        ("2.5", "2.5"),
        ("-1", "-1"),
        ("true", "a boolean"),
        ('"10"', "a string"),
        ("[1]", "an array"),
        ('{"$gt": 1}', "an object"),
    ],
)
def test_bad_limit_and_skip_are_10400_naming_the_bound(
    api: Api, kept: dict[str, Any], field: str, raw: str, shown: str
) -> None:
    other = "skip" if field == "limit" else "limit"
    body = f'{{"{field}": {raw}, "{other}": 1}}'.encode()
    reply = api.error("POST", f"{DOCS}/listByPage", raw=body)
    assert reply["code"] == 10400
    assert reply["message"] == f"{field} must be an integer from 0 to 2**63 - 1, not {shown}"


@pytest.mark.parametrize("value", ["0", "1", "10.0", "9223372036854775807", "1e18"])
def test_limit_and_skip_within_the_bound_are_answered(
    api: Api, kept: dict[str, Any], value: str
) -> None:
    body = f'{{"limit": {value}, "skip": {value}}}'.encode()
    reply = api.envelope("POST", f"{DOCS}/listByPage", raw=body)
    assert reply["code"] == 200 and reply["data"]["total"] == 1


# --- names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            f"/lm/{'p' * 129}/things/documents/list",
            "project id is 129 bytes long; the limit is 128",
        ),
        (
            f"/lm/{PID}/{'e' * 121}/documents/list",
            "entity name is 121 bytes long; the limit is 120",
        ),
        (f"/lm/{PID}/{'é' * 61}/documents/list", "entity name is 122 bytes long"),
        (f"/lm/{PID}/a%00b/documents/list", "entity name must not contain control characters"),
        (f"/lm/{PID}/a%0Ab/documents/list", "entity name must not contain control characters"),
        (f"/lm/{PID}/a%7Fb/documents/list", "entity name must not contain control characters"),
    ],
)
def test_overlong_and_control_names_are_10400_naming_the_limit(
    api: Api, kept: dict[str, Any], path: str, message: str
) -> None:
    reply = api.error("POST", path, {})
    assert reply["code"] == 10400 and message in reply["message"]


def test_an_overlong_document_id_and_project_id_in_a_body(api: Api, kept: dict[str, Any]) -> None:
    reply = api.error("GET", f"{DOCS}/{'f' * 257}")
    assert "document id is 257 bytes long; the limit is 256" in reply["message"]
    body = {"projectId": "p" * 200, "email": "a@example.com", "emailType": "register"}
    reply = api.error("POST", "/lm/user/email/code/send", body)
    assert "project id is 200 bytes long; the limit is 128" in reply["message"]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entity=st.text(min_size=1, max_size=40), doc_id=st.text(min_size=1, max_size=40))
def test_any_entity_name_or_id_is_answered_never_500(api: Api, entity: str, doc_id: str) -> None:
    base = f"/lm/{PID}/{quote(entity, safe='')}/documents"
    for method, path, body in (
        ("POST", base + "/list", {}),
        ("GET", f"{base}/{quote(doc_id, safe='')}", None),
        ("POST", base, {"k": doc_id}),
    ):
        response = (
            api.request(method, path, body) if body is not None else api.request(method, path)
        )
        assert response.status_code in (200, 404, 405), (entity, doc_id, response.text)
        assert response.json()["code"] != 10500


# --- odd bytes ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        b'{"t": "\\ud800"}',  # a lone surrogate: valid JSON, not encodable as UTF-8
        b'{"t": "\\u0000 nul"}',
        '{"t": "\U0001f600 \u202e rtl"}'.encode(),
        b'{"\\ud83d": 1}',
    ],
)
def test_odd_strings_round_trip_or_are_refused_never_500(
    api: Api, kept: dict[str, Any], raw: bytes
) -> None:
    reply = api.envelope("POST", DOCS, raw=raw)
    assert reply["code"] in (200, 10400), reply
    if reply["code"] == 200:
        stored = api.envelope("GET", f"{DOCS}/{reply['data']['_id']}")
        assert stored["code"] == 200 and stored["data"] == reply["data"]
        api.ok("DELETE", f"{DOCS}/{reply['data']['_id']}")


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{}",
        b'{"a": "\xc3"}',
        b"\x00" * 64,
        b"{" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_undecodable_or_deep_bodies_are_10400(api: Api, kept: dict[str, Any], raw: bytes) -> None:
    assert api.error("POST", DOCS, raw=raw)["code"] == 10400


# --- big bodies -----------------------------------------------------------------------------
def test_a_body_just_over_the_bound_is_10413(api: Api, kept: dict[str, Any]) -> None:
    raw = b'{"t": "' + b"x" * MAX_JSON_BODY + b'"}'
    reply = api.error("POST", DOCS, raw=raw)
    assert reply["code"] == 10413 and f"larger than {MAX_JSON_BODY} bytes" in reply["message"]


def test_a_body_far_over_the_bound_is_refused_before_it_is_read(
    emu: Emulator, kept: dict[str, Any]
) -> None:
    """Twice the upload bound: waitress answers 413 (or closes) without reading it all."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=30) as sock:
        sock.sendall(
            f"POST {DOCS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {64 * MAX_JSON_BODY}\r\n\r\n".encode()
        )
        sock.sendall(b"x" * 65536)
        reply = sock.recv(4096)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413"), reply[:200]


# --- multipart ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),  # no boundary parameter
        ("multipart/form-data; boundary=x", b"garbage without any boundary"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="files"'),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nabc',
        ),  # never closed
        ("multipart/form-data; boundary=" + "b" * 5000, b"--" + b"b" * 5000 + b"--\r\n"),
    ],
)
def test_bad_multipart_is_an_error_envelope_and_stores_nothing(
    api: Api, emu: Emulator, kept: dict[str, Any], content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type, **sign_headers(None, None, now=api.clock())}
    response = api.request("POST", f"/lm/{PID}/file/batch", raw=body, headers=headers, sign=False)
    reply = _envelope(response)
    assert reply["code"] in (10400, 10413), reply
    assert not any(p.is_file() for p in (emu.data_dir / "files").rglob("*"))


# --- malformed HTTP -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n",
        b"POST " + DOCS.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n",
        b"POST " + DOCS.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /\x00\xff HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"POST " + DOCS.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_malformed_requests_get_no_5xx_and_the_server_goes_on(
    emu: Emulator, api: Api, kept: dict[str, Any], request_bytes: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", emu.port), timeout=30) as sock:
        sock.sendall(request_bytes)
        reply = sock.recv(65536)
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else None
    assert status is None or status < 500, reply[:300]


# --- slow clients ---------------------------------------------------------------------------
def test_slow_clients_do_not_starve_the_others(
    emu: Emulator, api: Api, kept: dict[str, Any]
) -> None:
    """Twice as many stalled clients as worker threads (half-sent headers, half-sent bodies,
    a drip of one byte at a time): every normal request is still answered."""
    stop = threading.Event()
    stalled: list[socket.socket] = []
    for index in range(2 * THREADS):
        sock = socket.create_connection(("127.0.0.1", emu.port), timeout=30)
        if index % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        else:
            sock.sendall(
                f"POST {DOCS} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{{".encode()
            )
        stalled.append(sock)

    def drip() -> None:
        with socket.create_connection(("127.0.0.1", emu.port), timeout=30) as sock:
            for byte in b"GET / HTTP/1.1\r\nX-Slow: ".ljust(400, b"a"):
                if stop.wait(0.05):
                    return
                sock.send(bytes([byte]))

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        for index in range(20):
            created = api.ok("POST", DOCS, {"i": index})
            assert api.ok("GET", f"{DOCS}/{created['_id']}")["i"] == index
            api.ok("DELETE", f"{DOCS}/{created['_id']}")
    finally:
        stop.set()
        for sock in stalled:
            sock.close()
        dripper.join(timeout=30)


def test_a_client_that_does_not_read_its_download_blocks_no_one(
    emu: Emulator, api: Api, kept: dict[str, Any]
) -> None:
    payload = b"z" * (60 * 1024)
    files = [("files", ("big.bin", payload, "application/octet-stream"))]
    [item] = api.ok("POST", f"/lm/{PID}/file/batch", files=files)
    path = item["fileUrl"].removeprefix(emu.url)
    readers = []
    for _ in range(2 * THREADS):  # each asks for the file many times and never reads
        sock = socket.create_connection(("127.0.0.1", emu.port), timeout=30)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() * 20)
        readers.append(sock)
    try:
        time.sleep(0.5)
        assert requests.get(item["fileUrl"], timeout=30).content == payload
        assert api.ok("POST", f"{DOCS}/list", {})[0]["title"] == "keep me"
    finally:
        for sock in readers:
            sock.close()


def test_many_concurrent_clients_are_all_answered(emu: Emulator, kept: dict[str, Any]) -> None:
    """More clients than worker threads, each with its own keep-alive session."""
    errors: list[BaseException] = []

    def client(index: int) -> None:
        api = Api(emu.url)
        try:
            for step in range(5):
                doc = api.ok("POST", DOCS, {"c": index, "s": step})
                assert api.ok("GET", f"{DOCS}/{doc['_id']}")["s"] == step
                api.ok("DELETE", f"{DOCS}/{doc['_id']}")
        except BaseException as exc:  # collected: an assertion in a thread is not seen
            errors.append(exc)
        finally:
            api.http.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3 * THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]


def test_json_of_any_shape_never_crashes_a_private_route(emu: Emulator, kept: Any) -> None:
    for body in (b"[]", b"null", b'"x"', b"{", json.dumps({"projectId": 1}).encode()):
        response = requests.post(
            emu.url + "/_emulator/users/role",
            data=body,
            headers={**emu.private_headers, "Content-Type": "application/json"},
            timeout=10,
        )
        assert _envelope(response)["code"] == 10400, body
