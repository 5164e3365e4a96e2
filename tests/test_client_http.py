"""Every client method at the HTTP level: exact method, path, query, body, headers, signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

import lumi
from lumi import signing

BASE = "https://api.example.test"
PID = "p354701818687631360"
DOC = {"_id": "6939311e8458665713e0b522", "creator": "u1", "title": "Hello", "views": 3}


def ok(data=None):
    return {"code": 200, "message": "success", "data": data}


def independent_signature(request) -> str:
    """Recompute X-Sign from the request as it went on the wire (docs/protocol.md §2)."""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(request.url).query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    from urllib.parse import quote

    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(','.join(v), safe='-_.~')}"
        for k, v in sorted(query.items())
    )
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/"):
        body = b""
    canonical = "\n".join(
        [
            canonical_query,
            f"x-nonce:{request.headers['X-Nonce']}\nx-timestamp:{request.headers['X-Timestamp']}",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    mac = hmac.new(signing.CLIENT_KEY.encode(), canonical.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def sent(index: int = -1):
    request = responses.calls[index].request
    assert request.headers["X-Sign"] == independent_signature(request)
    return request


def body_of(request):
    return json.loads(request.body)


@pytest.fixture
def client(monkeypatch):
    monkeypatch.delenv("TOP_ACCESS_KEY", raising=False)
    monkeypatch.setenv("LUMI_API_KEY", "lk_test")
    return lumi.create_client(project_id=PID, api_base_url=BASE, authorization="Bearer tok1")


# -- auth ---------------------------------------------------------------------------------------
@responses.activate
def test_sign_in_with_password(client):
    user = {"userId": "u1", "email": "a@b.c", "userName": "A", "userRole": "USER", "createdTime": 1}
    responses.post(f"{BASE}/lm/user/password/login", json=ok({**user, "userToken": "tok2"}))
    result = client.auth.sign_in_with_password(email="a@b.c", password="pässword")
    request = sent()
    assert body_of(request) == {
        "projectId": PID,
        "email": "a@b.c",
        "password": hashlib.sha256("pässword".encode()).hexdigest(),
    }
    assert (
        request.body
        == (
            f'{{"projectId":"{PID}","email":"a@b.c","password":"{hashlib.sha256("pässword".encode()).hexdigest()}"}}'
        ).encode()
    )
    assert request.headers["Authorization"] == "Bearer tok1"
    assert request.headers["Content-Type"] == "application/json"
    assert (result.project_id, result.access_token, result.user.user_id) == (PID, "tok2", "u1")
    assert client.auth.access_token == "tok2" and client.auth.user.email == "a@b.c"
    assert "userToken" not in client.auth.user.extra
    assert "tok2" not in repr(result) and "tok2" not in repr(client.auth.user)


@responses.activate
def test_send_otp_sign_up_reset(client):
    responses.post(f"{BASE}/lm/user/email/code/send", json=ok())
    responses.post(
        f"{BASE}/lm/user/password/register",
        json=ok({"userId": "u9", "email": "n@b.c", "userRole": "USER", "userToken": "t9"}),
    )
    responses.post(f"{BASE}/lm/user/password/reset", json=ok())
    client.auth.send_otp(email="n@b.c", type="register")
    assert body_of(sent()) == {"projectId": PID, "email": "n@b.c", "emailType": "register"}
    client.auth.sign_up_with_password(email="n@b.c", password="pw", otp="123456", user_name="N")
    assert body_of(sent()) == {
        "projectId": PID,
        "email": "n@b.c",
        "password": hashlib.sha256(b"pw").hexdigest(),
        "code": "123456",
        "userName": "N",
    }
    assert client.auth.access_token == "t9"
    client.auth.reset_password(email="n@b.c", new_password="pw2", otp="654321")
    assert body_of(sent()) == {
        "projectId": PID,
        "email": "n@b.c",
        "newPassword": hashlib.sha256(b"pw2").hexdigest(),
        "code": "654321",
    }


@responses.activate
def test_refresh_user_posts_without_body(client):
    responses.post(
        f"{BASE}/lm/user/info", json=ok({"userId": "u1", "email": "a@b.c", "userRole": "ADMIN"})
    )
    user = client.auth.refresh_user()
    request = sent()
    assert request.body is None
    assert request.headers["Authorization"] == "Bearer tok1"
    assert user.user_role == "ADMIN" and client.auth.user == user


@responses.activate
def test_code_2100_drops_the_token_and_notifies(client):
    changes = []
    unsubscribe = client.auth.on_auth_change(changes.append)
    responses.post(
        f"{BASE}/lm/user/info", json={"code": 2100, "message": "token expired", "data": None}
    )
    with pytest.raises(lumi.AuthenticationError):
        client.auth.refresh_user()
    assert client.auth.access_token is None and not client.auth.is_authenticated
    assert [c.is_authenticated for c in changes] == [False]
    unsubscribe()
    client.auth.access_token = "again"
    assert len(changes) == 1


def test_browser_only_methods_say_what_to_use(client):
    with pytest.raises(lumi.BrowserOnlyError) as info:
        client.auth.sign_in()
    assert info.value.code == 10400 and "sign_in_with_password" in info.value.message
    with pytest.raises(lumi.BrowserOnlyError):
        client.auth.sign_in_with_oauth(provider="google")


# -- entities -----------------------------------------------------------------------------------
def entity_url(suffix: str = "") -> str:
    return f"{BASE}/lm/{PID}/Posts/documents{suffix}"


@responses.activate
def test_list_without_limit_uses_list(client):
    responses.post(entity_url("/list"), json=ok([DOC]))
    page = client.entities.Posts.list(filter={"status": "active"}, sort={"createdAt": -1})
    assert sent().body == b'{"filter":{"status":"active"},"sort":{"createdAt":-1}}'
    assert page.total == 1 and page.list[0].id == DOC["_id"]
    record = page.list[0]
    assert record.title == "Hello" and record["views"] == 3 and record["_id"] == DOC["_id"]


@responses.activate
def test_list_no_arguments_sends_empty_object(client):
    responses.post(entity_url("/list"), json=ok([]))
    client.entities["Posts"].list()
    assert sent().body == b"{}"


@responses.activate
def test_list_with_limit_uses_list_by_page(client):
    responses.post(entity_url("/listByPage"), json=ok({"list": [DOC], "total": 42}))
    page = client.entities.Posts.list(filter={"a": 1}, limit=10, skip=20)
    assert body_of(sent()) == {"filter": {"a": 1}, "limit": 10, "skip": 20}
    assert page.total == 42


def test_list_rejects_skip_without_limit_and_bad_sort(client):
    with pytest.raises(lumi.ValidationError, match="skip"):
        client.entities.Posts.list(skip=20)
    with pytest.raises(lumi.ValidationError, match="sort"):
        client.entities.Posts.list(sort={"a": 2})


@responses.activate
def test_iterate_pages_by_signed_keyset_requests(client):
    second = {**DOC, "_id": "6939311e8458665713e0b523"}
    responses.post(entity_url("/listByPage"), json=ok({"list": [DOC], "total": 2}))
    responses.post(entity_url("/listByPage"), json=ok({"list": [second], "total": 1}))
    ids = [record.id for record in client.entities.Posts.iterate({"filter": {"a": 1}, "limit": 5},
                                                                 page_size=1)]  # fmt: skip
    assert ids == [DOC["_id"], second["_id"]] and len(responses.calls) == 2
    first, then = sent(0), sent(1)
    assert first.method == "POST" and first.body == (
        b'{"filter":{"a":1},"sort":{"_id":1},"limit":1,"skip":0}'
    )
    assert body_of(then) == {
        "filter": {"$and": [{"a": 1}, {"_id": {"$gt": DOC["_id"]}}]},
        "sort": {"_id": 1},
        "limit": 1,
        "skip": 0,
    }


@responses.activate
def test_get_create_create_many_update_delete(client):
    doc_id = DOC["_id"]
    responses.get(entity_url(f"/{doc_id}"), json=ok(DOC))
    responses.get(entity_url("/000000000000000000000000"), json=ok(None))
    responses.post(entity_url(), json=ok(DOC))
    responses.post(entity_url("/batch"), json=ok([DOC, DOC]))
    responses.put(entity_url(), json=ok({**DOC, "views": 4}))
    responses.delete(entity_url(f"/{doc_id}"), json=ok())

    assert client.entities.Posts.get(doc_id).title == "Hello"
    request = sent()
    assert request.method == "GET" and request.body is None
    assert client.entities.Posts.get("000000000000000000000000") is None

    client.entities.Posts.create({"title": "Hello", "views": 3})
    assert sent().body == b'{"title":"Hello","views":3}'

    created = client.entities.Posts.create_many([{"title": "a"}, {"title": "b"}])
    assert sent().body == b'[{"title":"a"},{"title":"b"}]' and len(created) == 2

    updated = client.entities.Posts.update(doc_id, {"views": 4, "stats.total": 1})
    assert (
        sent().body
        == f'{{"filter":{{"_id":"{doc_id}"}},"update":{{"views":4,"stats.total":1}}}}'.encode()
    )
    assert updated.views == 4

    assert client.entities.Posts.delete(doc_id) is None
    assert sent().method == "DELETE"


@responses.activate
def test_delete_many_repeats_ids_and_signs_them_joined(client):
    responses.delete(entity_url("/batch-by-ids"), json=ok())
    client.entities.Posts.delete_many(["a1", "b2"])
    request = sent()
    assert urlsplit(request.url).query == "ids=a1&ids=b2"
    expected = signing.signature(
        {"ids": ["a1", "b2"]}, request.headers["X-Timestamp"], request.headers["X-Nonce"], None
    )
    assert request.headers["X-Sign"] == expected
    client.entities.Posts.delete_many([])
    assert len(responses.calls) == 1


@responses.activate
def test_unknown_fields_are_kept_and_round_trip(client):
    responses.get(entity_url("/x1"), json=ok({**DOC, "brandNew": {"nested": [1, 2]}}))
    record = client.entities.Posts.get("x1")
    assert record.extra["brandNew"] == {"nested": [1, 2]}
    assert lumi.unstructure(record) == {**DOC, "brandNew": {"nested": [1, 2]}}


# -- tools --------------------------------------------------------------------------------------
@responses.activate
def test_email_send_body(client):
    responses.post(f"{BASE}/lm/{PID}/email/send", json=ok())
    client.tools.email.send(
        to="x@y.z", subject="Hi", html="<b>hi</b>", from_name="Shop", reply_to="r@y.z"
    )
    assert sent().body == (
        b'{"to":["x@y.z"],"subject":"Hi","fromName":"Shop","html":"<b>hi</b>","text":"","replyTo":["r@y.z"]}'
    )


def test_email_requires_to_subject_and_content(client):
    with pytest.raises(lumi.ValidationError, match="html or text"):
        client.tools.email.send(to="x@y.z", subject="Hi")
    with pytest.raises(lumi.ValidationError, match="to"):
        client.tools.email.send(to=[], subject="Hi", text="t")


@responses.activate
def test_file_upload_is_multipart_and_unsigned_body(client, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 data")
    responses.post(
        f"{BASE}/lm/{PID}/file/batch",
        json=ok(
            [
                {"fileName": "report.pdf", "fileUrl": "https://cdn/x/report.pdf"},
                {"fileName": "a.txt", "uploadError": "too large"},
            ]
        ),
    )
    import io

    results = client.tools.file.upload([path, ("a.txt", b"hello"), io.BytesIO(b"zz")])
    request = sent()
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.body.count(b'name="files"') == 3
    assert b'filename="report.pdf"' in request.body and b"%PDF-1.4 data" in request.body
    assert results[0].file_url == "https://cdn/x/report.pdf"
    assert results[1].upload_error == "too large"


@responses.activate
def test_file_delete(client):
    responses.delete(f"{BASE}/lm/{PID}/file/batch", json=ok())
    client.tools.file.delete(["https://cdn/x/report.pdf"])
    assert sent().body == b'{"fileUrls":["https://cdn/x/report.pdf"]}'


@pytest.mark.parametrize(
    ("urls", "wanted"),
    [
        ([], "got none"),
        (["https://cdn/a.pdf?X-Signature=s3cr3t", ""], "item 1 is an empty string"),
        (["https://cdn/a.pdf?X-Signature=s3cr3t", None], "item 1 is NoneType"),
        ([b"https://cdn/b.pdf?sig=s3cr3t"], "item 0 is bytes"),
    ],
)
def test_file_delete_refuses_bad_urls_without_echoing_them(client, urls, wanted):
    """A file URL may be signed: the error says which item is wrong, never what the URLs are."""
    with pytest.raises(lumi.ValidationError, match=wanted) as refused:
        client.tools.file.delete(urls)
    assert "s3cr3t" not in str(refused.value) and "cdn" not in str(refused.value)


@responses.activate
def test_generate_text(client):
    responses.post(
        f"{BASE}/lm/{PID}/ai/chat/completions", json=ok({"chatId": "c1", "content": "Hi!"})
    )
    result = client.tools.ai.generate_text(messages=[{"role": "user", "content": "Hello"}])
    assert sent().body == (
        b'{"lumiApiKey":"lk_test","modelName":"gemini-2.5-flash",'
        b'"chatMessages":[{"role":"user","content":"Hello"}]}'
    )
    assert result.content == "Hi!" and "lk_test" not in repr(result)


def test_generate_text_needs_api_key(client, monkeypatch):
    monkeypatch.delenv("LUMI_API_KEY")  # read at each AI call
    with pytest.raises(lumi.ValidationError, match="LUMI_API_KEY") as info:
        client.tools.ai.generate_text(messages=[{"role": "user", "content": "x"}])
    assert info.value.code == 10400


def test_generate_text_checks_messages(client):
    with pytest.raises(lumi.ValidationError, match=r"messages\[0\]"):
        client.tools.ai.generate_text(messages=[{"role": "robot", "content": "x"}])


@responses.activate
def test_generate_text_stream(client):
    stream_body = (
        b'data: {"chatId":"c1","content":"Hel"}\n\n'
        b'event: message\ndata: {"chatId":"c1","content":"lo"}\n\n'
    )
    responses.post(
        f"{BASE}/lm/{PID}/ai/chat/stream",
        body=stream_body,
        content_type="text/event-stream",
    )
    with client.tools.ai.generate_text_stream(
        messages=[lumi.Message(role="user", content="x")]
    ) as stream:
        chunks = list(stream)
    request = sent()
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Cache-Control"] == "no-cache"
    assert request.headers["X-Accel-Buffering"] == "no"
    assert [c.data.content for c in chunks] == ["Hel", "lo"]
    assert [c.event for c in chunks] == [lumi.UNSET, "message"]
    assert stream.closed


@responses.activate
def test_stream_answering_an_error_envelope_raises(client):
    responses.post(f"{BASE}/lm/{PID}/ai/chat/stream", json={"code": 10400, "message": "bad key"})
    with pytest.raises(lumi.APIError, match="bad key"):
        client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "x"}])


@responses.activate
def test_generate_image_polls_until_done(client, monkeypatch):
    waits = []
    monkeypatch.setattr("lumi.tools.ai._sleep", waits.append)
    processing = {"chatId": "c", "messageId": "m1", "generationStatus": "PROCESSING"}
    responses.post(f"{BASE}/lm/{PID}/ai/image/task", json=ok(processing))
    responses.post(f"{BASE}/lm/{PID}/ai/image/get", json=ok(processing))
    responses.post(
        f"{BASE}/lm/{PID}/ai/image/get",
        json=ok({**processing, "generationStatus": "SUCCESS", "imageURL": "https://cdn/i.png"}),
    )
    result = client.tools.ai.generate_image(messages=[{"role": "user", "content": "a cat"}])
    assert result.image_url == "https://cdn/i.png"
    assert waits == [1.0, 1.5]
    assert body_of(sent()) == {"lumiApiKey": "lk_test", "messageId": "m1"}
    assert body_of(sent(0))["modelName"] == "gemini-2.5-flash-image"


# -- functions ----------------------------------------------------------------------------------
@responses.activate
def test_function_invoke_json(client):
    responses.post(f"{BASE}/v1/functions/{PID}/sendQuote", json={"success": True})
    result = client.functions.invoke("sendQuote", body={"id": 1}, query={"dry": True})
    request = responses.calls[-1].request
    assert "X-Sign" not in request.headers
    assert request.headers["Authorization"] == "Bearer tok1"
    assert urlsplit(request.url).query == "dry=true"
    assert request.body == b'{"id":1}'
    assert result == {"success": True}


@responses.activate
def test_function_caller_authorization_wins_and_errors_carry_data(client):
    responses.get(f"{BASE}/v1/functions/{PID}/check", status=403, json={"error": "forbidden"})
    with pytest.raises(lumi.FunctionError) as info:
        client.functions.invoke("check", method="GET", headers={"authorization": "Bearer other"})
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer other"
    assert info.value.status == 403 and info.value.data == {"error": "forbidden"}


@responses.activate
def test_function_response_types(client):
    responses.get(f"{BASE}/v1/functions/{PID}/raw", body=b"\x00\x01bytes")
    assert client.functions.invoke("raw", method="GET", response_type="bytes") == b"\x00\x01bytes"
    assert client.functions.invoke("raw", method="GET", response_type="text") == "\x00\x01bytes"
    with client.functions.invoke("raw", method="GET", response_type="stream") as stream:
        assert b"".join(stream) == b"\x00\x01bytes"


# -- headers, options, secrets -----------------------------------------------------------------
@responses.activate
def test_top_access_header_from_environment_when_the_client_is_made(client, monkeypatch):
    responses.post(entity_url("/list"), json=ok([]))
    monkeypatch.setenv("TOP_ACCESS_KEY", "top-secret")
    client.entities.Posts.list()  # made before: no header
    assert "X-Top-Access" not in sent().headers
    made_now = lumi.create_client(project_id=PID, api_base_url=BASE)
    monkeypatch.delenv("TOP_ACCESS_KEY")
    made_now.entities.Posts.list()
    made_now.for_request("Bearer u").with_options(timeout=3).entities.Posts.list(filter={"a": 1})
    assert [c.request.headers["X-Top-Access"] for c in responses.calls[1:]] == ["top-secret"] * 2
    assert "top-secret" not in repr(made_now) + repr(made_now.config)


def test_reprs_hold_no_secrets(client):
    client.auth.access_token = "very-secret-token"
    text = (
        repr(client)
        + repr(client.auth)
        + repr(client.config)
        + repr(client.for_request("Bearer x2"))
    )
    assert "very-secret-token" not in text and "x2" not in text


def test_create_client_from_environment(monkeypatch):
    monkeypatch.setenv("LUMI_PROJECT_ID", "p_env")
    monkeypatch.setenv("LUMI_API_BASE_URL", "http://127.0.0.1:9/")
    client = lumi.create_client()
    assert (
        client.config.project_id == "p_env" and client.config.api_base_url == "http://127.0.0.1:9"
    )
    monkeypatch.delenv("LUMI_PROJECT_ID")
    with pytest.raises(lumi.ValidationError, match="project_id"):
        lumi.create_client()


@responses.activate
def test_debug_log_redacts_secrets(monkeypatch, caplog):
    monkeypatch.setenv("TOP_ACCESS_KEY", "top-secret")
    client = lumi.create_client(project_id=PID, api_base_url=BASE, authorization="Bearer tok1")
    responses.post(entity_url("/list"), json=ok([]))
    with caplog.at_level("DEBUG", logger="lumi"):
        client.entities.Posts.list()
    request = sent()
    assert "POST /lm/" in caplog.text and "X-Nonce" in caplog.text
    for secret in ("tok1", "top-secret", request.headers["X-Sign"]):
        assert secret not in caplog.text


@pytest.mark.parametrize("value", [object(), {1, 2}, b"raw bytes"])
def test_values_json_cannot_carry_are_a_validation_error(client, value):
    with responses.RequestsMock() as mock:  # nothing may be sent
        with pytest.raises(lumi.ValidationError, match="JSON"):
            client.entities.Posts.create({"x": value})
        with pytest.raises(lumi.ValidationError, match="JSON"):
            client.functions.invoke("f", body={"x": value})
        assert len(mock.calls) == 0


@responses.activate
def test_function_body_goes_through_the_converter(client):
    import datetime as dt

    responses.post(f"{BASE}/v1/functions/{PID}/f", json={})
    moment = dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    client.functions.invoke("f", body={"at": moment, "msg": lumi.Message(role="user", content="x")})
    assert responses.calls[-1].request.body == (
        b'{"at":"2026-03-01T10:00:00.000Z","msg":{"role":"user","content":"x"}}'
    )


# -- functions: form and multipart bodies ------------------------------------------------------
@responses.activate
def test_function_form_body_is_url_encoded(client):
    responses.post(f"{BASE}/v1/functions/{PID}/subscribe", json={"ok": True})
    assert client.functions.invoke("subscribe", form={"email": "a@b.c", "tags": ["x", "y"]}) == {
        "ok": True
    }
    request = responses.calls[-1].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == b"email=a%40b.c&tags=x&tags=y"
    assert request.headers["Authorization"] == "Bearer tok1" and "X-Sign" not in request.headers


@responses.activate
def test_function_multipart_body_with_files(client, tmp_path):
    path = tmp_path / "cv.pdf"
    path.write_bytes(b"%PDF-1.4")
    responses.post(f"{BASE}/v1/functions/{PID}/apply", json={"ok": True})
    with open(path, "rb") as handle:
        client.functions.invoke(
            "apply",
            form={"name": "Ada"},
            files={"cv": handle, "note": ("note.txt", b"hello", "text/plain")},
        )
    request = responses.calls[-1].request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request.body
    assert b'name="name"\r\n\r\nAda' in body and b"%PDF-1.4" in body
    assert b'name="note"; filename="note.txt"\r\nContent-Type: text/plain\r\n\r\nhello' in body


def test_function_form_refuses_a_body_too_and_bad_forms(client):
    with responses.RequestsMock() as mock:
        with pytest.raises(lumi.ValidationError, match="not both"):
            client.functions.invoke("f", body={"a": 1}, form={"b": 2})
        with pytest.raises(lumi.ValidationError, match="form"):
            client.functions.invoke("f", form=42)
        assert len(mock.calls) == 0


def test_a_multipart_retry_sends_the_same_bytes(client, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda _s: None)
    with responses.RequestsMock() as mock:
        url = f"{BASE}/v1/functions/{PID}/put"
        mock.put(url, status=503)
        mock.put(url, json={"ok": True})
        client.functions.invoke("put", method="PUT", files={"f": ("a.bin", b"\x00\x01")})
        first, second = (call.request.body for call in mock.calls)
        assert first == second and b"\x00\x01" in first


# -- raw streams and parse_stream ----------------------------------------------------------------
STREAM_BODY = (
    b'data: {"chatId":"c1","content":"Hel"}\n\n'
    b'event: message\ndata: {"chatId":"c1","content":"lo"}\n\n'
)


@responses.activate
def test_raw_stream_gives_the_bytes_and_parse_stream_takes_them(client):
    responses.post(
        f"{BASE}/lm/{PID}/ai/chat/stream", body=STREAM_BODY, content_type="text/event-stream"
    )
    raw = client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "x"}], raw=True)
    assert isinstance(raw, lumi.RawStream) and raw.status_code == 200
    assert raw.headers["Content-Type"] == "text/event-stream"
    with raw:
        data = b"".join(raw)
    assert data == STREAM_BODY and raw.closed
    assert sent().headers["Accept"] == "text/event-stream"
    for source in (
        data,
        data.decode(),
        [data[:7], data[7:30].decode(), data[30:]],
        (bytes([b]) for b in data),
        bytearray(data),
    ):
        chunks = list(client.tools.ai.parse_stream(source))
        assert [c.data.content for c in chunks] == ["Hel", "lo"]
        assert [c.event for c in chunks] == [lumi.UNSET, "message"]
    raw_again = client.tools.ai.generate_text_stream(
        messages=[{"role": "user", "content": "x"}], raw=True
    )
    assert lumi.parse_stream(raw_again).text() == "Hello" and raw_again.closed


def test_parse_stream_takes_a_requests_response():
    with responses.RequestsMock() as mock:
        mock.get("https://relay.example.test/sse", body=STREAM_BODY)
        response = requests.get("https://relay.example.test/sse", stream=True, timeout=5)
        with lumi.parse_stream(response) as chunks:
            assert chunks.text() == "Hello"


@responses.activate
def test_parse_stream_refuses_what_is_not_a_raw_stream(client):
    responses.post(
        f"{BASE}/lm/{PID}/ai/chat/stream", body=STREAM_BODY, content_type="text/event-stream"
    )
    parsed = client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "x"}])
    with pytest.raises(lumi.ValidationError, match="raw=True"):
        client.tools.ai.parse_stream(parsed)
    parsed.close()
    with pytest.raises(lumi.ValidationError, match="got int"):
        lumi.parse_stream(42)
    with pytest.raises(lumi.ValidationError, match="must yield bytes or str, got dict"):
        list(lumi.parse_stream([b": comment\n", {"not": "bytes"}]))


def test_raw_stream_hands_on_each_chunk_as_it_arrives():
    """The second event is sent only once the first reached the caller: no buffering."""
    from tests.faults.servers import ScriptedServer

    first_seen = threading.Event()

    def script(conn, _request):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            b'data: {"chatId":"c","content":"one"}\n\n'
        )
        if first_seen.wait(10):
            conn.sendall(b'data: {"chatId":"c","content":"two"}\n\n')

    with ScriptedServer(script) as server:
        client = lumi.create_client(project_id=PID, api_base_url=server.url, api_key="k")
        with client.tools.ai.generate_text_stream(
            messages=[{"role": "user", "content": "x"}]
        ) as stream:
            first = next(stream)
            first_seen.set()
            rest = list(stream)
    assert first.data.content == "one" and [c.data.content for c in rest] == ["two"]
    assert stream.closed


def test_a_header_that_is_not_valid_http_is_refused_without_leaking_it(client):
    with responses.RequestsMock() as mock:
        with pytest.raises(lumi.ValidationError) as info:
            client.functions.invoke("f", headers={"X-Secret": "s3cret\r\nInjected: 1"})
        assert len(mock.calls) == 0
    assert "s3cret" not in str(info.value) and info.value.path == f"/v1/functions/{PID}/f"
