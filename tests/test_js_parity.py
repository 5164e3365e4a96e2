"""The official JavaScript client and this client put the same requests on the wire.

Both run the same scenario against one local recording server; the requests are compared field
by field (method, path, query, body bytes, the headers that carry meaning), and every signature is
verified. Only the nonce, timestamp (hence X-Sign) and transport headers may differ.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

import lumi
from lumi import signing

from .support.recorder import RecordingServer, envelope_responder

PID = "p354701818687631360"
USER = {"userId": "u1", "email": "a@b.c", "userName": "A", "userRole": "USER", "createdTime": 1}
DOC = {"_id": "6939311e8458665713e0b522", "title": "Hello"}
ROUTES = {
    "/password/login": {**USER, "userToken": "tok1"},
    "/user/info": USER,
    "/documents/list": [DOC],
    "/documents/listByPage": {"list": [DOC], "total": 1},
    "/documents/6939311e8458665713e0b522": DOC,
    "/documents": DOC,
    "/documents/batch": [DOC],
    "/ai/chat/completions": {"chatId": "c1", "content": "hi"},
    "/ai/image/task": {
        "chatId": "c",
        "messageId": "m1",
        "generationStatus": "SUCCESS",
        "imageURL": "u",
    },
    "/file/batch": [{"fileName": "a.txt", "fileUrl": "http://x/a.txt"}],
}

JS_SCENARIO = r"""
import fs from 'fs';
import { createClient } from '@lumi.new/sdk';
const { url, pid } = JSON.parse(fs.readFileSync(0, 'utf8'));
const lumi = createClient({ projectId: pid, apiBaseUrl: url, authOrigin: 'http://auth.invalid', authorization: 'Bearer tok0' });
await lumi.auth.signInWithPassword({ email: 'a@b.c', password: 'pässwörd' });
await lumi.auth.sendOtp({ email: 'n@b.c', type: 'register' });
await lumi.auth.refreshUser();
const posts = lumi.entities.Posts;
await posts.list();
await posts.list({ filter: { status: 'active', n: { $gte: 1.5 }, t: 'é' }, sort: { createdAt: -1, title: 1 } });
await posts.list({ filter: { a: null }, limit: 10, skip: 20 });
await posts.get('6939311e8458665713e0b522');
await posts.create({ title: 'Hello', tags: ['a', 'b'], n: 1, price: 9.99 });
await posts.createMany([{ title: 'a' }, { title: 'b' }]);
await posts.update('6939311e8458665713e0b522', { 'stats.total': 3, done: true });
await posts.delete('6939311e8458665713e0b522');
await posts.deleteMany(['6939311e8458665713e0b522', '6939311e8458665713e0b523']);
await lumi.tools.email.send({ to: 'x@y.z', subject: 'Hi', html: '<b>hi</b>', fromName: 'Shop', replyTo: 'r@y.z', scheduledAt: '2026-03-01T10:00:00.000Z' });
await lumi.tools.file.delete(['http://x/a.txt']);
await lumi.tools.ai.generateText({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }] });
const stream = await lumi.tools.ai.generateTextStream({ messages: [{ role: 'user', content: 'hello' }] });
for await (const chunk of await lumi.tools.ai.parseStream(stream)) {}
await lumi.tools.ai.generateImage({ messages: [{ role: 'user', content: 'a cat' }] });
await lumi.tools.file.upload([new File(['hello'], 'a.txt', { type: 'text/plain' })]);
await lumi.functions.invoke('sendQuote', { method: 'POST', body: { id: 1 } });
process.stdout.write('"done"');
"""


def python_scenario(url: str) -> None:
    client = lumi.create_client(
        project_id=PID,
        api_base_url=url,
        auth_origin="http://auth.invalid",
        authorization="Bearer tok0",
    )
    client.auth.sign_in_with_password(email="a@b.c", password="pässwörd")
    client.auth.send_otp(email="n@b.c", type="register")
    client.auth.refresh_user()
    posts = client.entities.Posts
    posts.list()
    posts.list(
        filter={"status": "active", "n": {"$gte": 1.5}, "t": "é"},
        sort={"createdAt": -1, "title": 1},
    )
    posts.list(filter={"a": None}, limit=10, skip=20)
    posts.get("6939311e8458665713e0b522")
    posts.create({"title": "Hello", "tags": ["a", "b"], "n": 1, "price": 9.99})
    posts.create_many([{"title": "a"}, {"title": "b"}])
    posts.update("6939311e8458665713e0b522", {"stats.total": 3, "done": True})
    posts.delete("6939311e8458665713e0b522")
    posts.delete_many(["6939311e8458665713e0b522", "6939311e8458665713e0b523"])
    client.tools.email.send(
        to="x@y.z",
        subject="Hi",
        html="<b>hi</b>",
        from_name="Shop",
        reply_to="r@y.z",
        scheduled_at="2026-03-01T10:00:00.000Z",
    )
    client.tools.file.delete(["http://x/a.txt"])
    client.tools.ai.generate_text(
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    )
    with client.tools.ai.generate_text_stream(messages=[{"role": "user", "content": "hello"}]) as s:
        list(s)
    client.tools.ai.generate_image(messages=[{"role": "user", "content": "a cat"}])
    client.tools.file.upload([("a.txt", b"hello", "text/plain")])
    client.functions.invoke("sendQuote", method="POST", body={"id": 1})


MEANINGFUL_HEADERS = (
    "authorization",
    "accept",
    "cache-control",
    "x-accel-buffering",
    "x-top-access",
)


def _multipart_parts(request) -> list[tuple[bytes, bytes]]:
    boundary = re.search(r"boundary=(.+)", request.headers["content-type"]).group(1).strip('"')
    parts = []
    for chunk in request.body.split(b"--" + boundary.encode())[1:-1]:
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = re.search(rb'name="([^"]+)"; filename="([^"]+)"', head)
        parts.append((disposition.group(1) + b"/" + disposition.group(2), content))
    return parts


def _normalise(request) -> dict:
    out = {"method": request.method, "path": request.path, "query": request.query}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        out["multipart"] = _multipart_parts(request)
    else:
        out["body"] = request.body
        out["json"] = "application/json" in content_type
    for name in MEANINGFUL_HEADERS:
        value = request.headers.get(name)
        if name == "accept" and not request.path.endswith("/stream"):
            value = (
                None  # ofetch's default Accept differs in form only ("application/json" vs list)
            )
        out[name] = value
    if not request.path.startswith("/v1/functions/"):
        query = {}
        for pair in request.query.split("&") if request.query else []:
            key, _, value = pair.partition("=")
            query.setdefault(key, []).append(value)
        signed = signing.verify(
            {k: v if len(v) > 1 else v[0] for k, v in query.items()},
            request.headers["x-timestamp"],
            request.headers["x-nonce"],
            b"" if "multipart" in out else request.body,
            request.headers["x-sign"],
        )
        out["signature_valid"] = signed
        assert re.fullmatch(r"[0-9a-z]{1,13}", request.headers["x-nonce"])
    return out


@pytest.mark.node
def test_same_requests_as_the_javascript_client(js_sdk, monkeypatch):
    monkeypatch.setenv("LUMI_API_KEY", "lk_test")
    monkeypatch.delenv("TOP_ACCESS_KEY", raising=False)
    with RecordingServer(envelope_responder(ROUTES)) as server:
        assert (
            js_sdk.run(
                JS_SCENARIO, {"url": server.url, "pid": PID}, env={"LUMI_API_KEY": "lk_test"}
            )
            == "done"
        )
        js_requests = list(server.requests)
        server.requests.clear()
        python_scenario(server.url)
        py_requests = list(server.requests)
    assert len(py_requests) == len(js_requests)
    for js_request, py_request in zip(js_requests, py_requests, strict=False):
        assert _normalise(py_request) == _normalise(js_request), js_request.path
    assert all(_normalise(r).get("signature_valid", True) for r in js_requests)
    password_hash = hashlib.sha256("pässwörd".encode()).hexdigest()
    assert json.loads(py_requests[0].body)["password"] == password_hash
