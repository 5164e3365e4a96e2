"""Never a 500 and never a stack trace: garbage in, a named error envelope out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumi.emulator.server import Emulator

from .conftest import PID, Api

PATHS = [
    "/lm/user/password/login",
    "/lm/user/email/code/send",
    "/lm/user/password/register",
    "/lm/user/password/reset",
    "/lm/user/info",
    f"/lm/{PID}/e/documents/list",
    f"/lm/{PID}/e/documents/listByPage",
    f"/lm/{PID}/e/documents",
    f"/lm/{PID}/e/documents/batch",
    f"/lm/{PID}/email/send",
    f"/lm/{PID}/file/batch",
    f"/lm/{PID}/ai/chat/completions",
    f"/lm/{PID}/ai/chat/stream",
    f"/lm/{PID}/ai/image/task",
    f"/lm/{PID}/ai/image/get",
]

KEYS = ["filter", "sort", "limit", "to", "email", "$gt", "a.b", "_id", "update", "chatMessages"]
KEYS += ["lumiApiKey", "projectId", "code", "password", "messageId", "fileUrls", "emailType"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=12,
)


def assert_envelope(response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    reply: dict[str, Any] = response.json()
    assert set(reply) == {"code", "message", "data"}
    assert "Traceback" not in response.text
    return reply


def test_unknown_routes_and_methods(emu: Emulator) -> None:
    reply = assert_envelope(requests.get(emu.url + "/lm/nope", timeout=10), 404)
    assert reply == {"code": 10404, "message": "unknown route: GET /lm/nope", "data": None}
    reply = assert_envelope(requests.get(emu.url + "/lm/user/info", timeout=10), 405)
    assert reply["message"] == "method GET not allowed on /lm/user/info (allowed: POST)"


def test_garbage_bodies_and_content_types(api: Api) -> None:
    bodies: list[tuple[bytes, str]] = [
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b"null", "application/json"),
        (b"--x\r\nbroken multipart", "multipart/form-data; boundary=x"),
        (b"a=1&b=2", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
        (b"", "application/json"),
    ]
    for path in PATHS:
        for raw, content_type in bodies:
            response = api.request("POST", path, raw=raw, headers={"Content-Type": content_type})
            reply = assert_envelope(response)
            # a multipart body is signed as empty, so signing its bytes is refused (10403)
            allowed = {200, 2100, 10400, 10404} | (
                {10403} if "multipart" in content_type else set()
            )
            assert reply["code"] in allowed, (path, raw[:20], reply)


def test_huge_and_odd_ids(api: Api) -> None:
    for doc_id in ("x" * 20_000, "%00", "%2e%2e", "6939311e8458665713e0b52Z", "é" * 100):
        reply = api.envelope("GET", f"/lm/{PID}/e/documents/{doc_id}")
        assert reply["code"] in {200, 10400} and reply["data"] is None
        reply = api.envelope("DELETE", f"/lm/{PID}/e/documents/{doc_id}")
        assert reply["code"] in {200, 10400}
        reply = api.envelope(
            "PUT", f"/lm/{PID}/e/documents", {"filter": {"_id": doc_id}, "update": {"a": 1}}
        )
        assert reply["code"] in {10400, 10404}


def test_a_body_over_the_limit(api: Api) -> None:
    reply = api.envelope(
        "POST", f"/lm/{PID}/e/documents", raw=b"{" + b" " * (16 * 1024 * 1024) + b"}"
    )
    assert reply["code"] == 10413 and "larger than" in reply["message"]


def test_an_internal_error_is_http_500_with_an_envelope_and_a_logged_traceback(
    emu: Emulator, api: Api, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(emu.services.store, "find", explode)
    with caplog.at_level(logging.ERROR, logger="lumi.emulator"):
        response = api.request("POST", f"/lm/{PID}/e/documents/list", {})
    reply = assert_envelope(response, 500)
    assert reply["code"] == 10500 and "disk on fire" not in reply["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # a browser app can read it
    [record] = [r for r in caplog.records if r.exc_info]
    assert "POST /lm/p_emu/e/documents/list" in record.getMessage()
    assert "disk on fire" in logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
    monkeypatch.undo()
    assert api.ok("POST", f"/lm/{PID}/e/documents/list", {}) == []  # it keeps serving


def test_a_crash_outside_the_handlers_is_http_500_too(emu: Emulator, monkeypatch: Any) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError("routing bug")

    monkeypatch.setattr(emu.app, "dispatch", explode)
    response = requests.get(emu.url + "/openapi.yaml", timeout=10)
    assert assert_envelope(response, 500)["code"] == 10500


def test_cors_preflight(emu: Emulator) -> None:
    response = requests.options(emu.url + f"/lm/{PID}/e/documents/list", timeout=10)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Sign" in response.headers["Access-Control-Allow-Headers"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), body=json_values)
def test_random_json_never_breaks_the_server(api: Api, path: str, body: Any) -> None:
    reply = assert_envelope(api.request("POST", path, body))
    assert isinstance(reply["code"], int) and isinstance(reply["message"], str)
    assert reply["code"] != 10500, reply


def test_a_reply_that_fails_to_build_is_http_500(emu: Emulator, monkeypatch: Any) -> None:
    from werkzeug.wrappers import Response

    def broken(*args: Any) -> Any:
        raise RuntimeError("cannot build")

    monkeypatch.setattr(Response, "get_wsgi_response", broken)
    response = requests.get(emu.url + "/openapi.yaml", timeout=10)
    assert assert_envelope(response, 500)["code"] == 10500
