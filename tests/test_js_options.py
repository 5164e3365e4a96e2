"""Every public call, given what a line-by-line port of ``@lumi.new/sdk`` code passes it.

Each public method of the client and its sub-APIs (and each settable property) has an entry in
``CASES``: the JavaScript-style call either works as the keyword form does (:class:`Same`: the
same requests on the wire, recorded with ``responses``, and the same result), or it is refused at
the call, before any request, with an error whose message shows the Python form
(:class:`Refused`). ``test_every_public_method_has_an_entry`` finds the methods by introspection,
so a method added later fails it until it has an entry here.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

import lumi
from lumi import RetryPolicy
from lumi._options import camel_case
from lumi.data import Repository, repository
from lumi.data.query import QuerySet
from lumi.documents import JS_LIST_OPTIONS
from lumi.keyset import Pager

from .data.conftest import generate_module

BASE = "https://api.example.test"
PID = "p_js_options"
DOC_ID = "6939311e8458665713e0b522"
DOC = {"_id": DOC_ID, "creator": "u1", "title": "Hello", "views": 3, "published": True}
USER = {
    "userId": "u1",
    "email": "ada@example.com",
    "userName": "Ada",
    "userRole": "USER",
    "createdTime": 1,
}
SSE = b'data: {"chatId":"c1","content":"Hel"}\n\nevent: message\ndata: {"chatId":"c1","content":"lo"}\n\n'
FILE_URL = "https://files.example.test/p/a.txt"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a haiku about the sea."},
]
ENVELOPE_DATA: dict[tuple[str, str], Any] = {  # (method, end of the path) -> the reply's data
    ("POST", "/lm/user/password/login"): {**USER, "userToken": "tok-signed-in"},
    ("POST", "/lm/user/email/code/send"): None,
    ("POST", "/lm/user/password/register"): {**USER, "userToken": "tok-signed-up"},
    ("POST", "/lm/user/password/reset"): None,
    ("POST", "/lm/user/info"): USER,
    ("POST", "/documents/list"): [DOC],
    ("POST", "/documents/listByPage"): {"list": [DOC], "total": 1},
    ("GET", f"/documents/{DOC_ID}"): DOC,
    ("DELETE", f"/documents/{DOC_ID}"): None,
    ("POST", "/documents"): DOC,
    ("PUT", "/documents"): DOC,
    ("POST", "/documents/batch"): [DOC, DOC],
    ("DELETE", "/documents/batch-by-ids"): None,
    ("POST", "/email/send"): None,
    ("POST", "/file/batch"): [{"fileName": "a.txt", "fileUrl": FILE_URL}],
    ("DELETE", "/file/batch"): None,
    ("POST", "/ai/chat/completions"): {"chatId": "c1", "content": "Hello"},
    ("POST", "/ai/image/task"): {
        "chatId": "c2",
        "messageId": "m1",
        "generationStatus": "SUCCESS",
        "imageURL": "https://img.example.test/1.png",
    },
}
SIGNING_HEADERS = {"x-timestamp", "x-nonce", "x-sign"}


def reply(request: Any) -> tuple[int, dict[str, str], bytes]:
    """The server: an envelope for each Lumi call, SSE for the stream, JSON for functions."""
    method, path = request.method, urlsplit(request.url).path
    if path == f"/v1/functions/{PID}/ai-stream":  # the README's relay function
        return 200, {"Content-Type": "text/event-stream"}, SSE
    if path.startswith(f"/v1/functions/{PID}/"):
        return 200, {"Content-Type": "application/json"}, json.dumps({"ok": method}).encode()
    if path.endswith("/ai/chat/stream"):
        return 200, {"Content-Type": "text/event-stream"}, SSE
    for (verb, end), data in ENVELOPE_DATA.items():
        if verb == method and path.endswith(end):
            envelope = {"code": 200, "message": "success", "data": data}
            return 200, {"Content-Type": "application/json"}, json.dumps(envelope).encode()
    return 404, {}, f"no route for {method} {path}".encode()


@pytest.fixture
def server() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(r"https://.*"), callback=reply)
        yield mock


def on_the_wire(mock: responses.RequestsMock) -> list[tuple[Any, ...]]:
    """The requests sent: method, URL, body and headers, less what differs on every request
    (nonce, timestamp, signature, multipart boundary)."""
    sent = []
    for call in mock.calls:
        request = call.request
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        headers = {
            k.lower(): v for k, v in request.headers.items() if k.lower() not in SIGNING_HEADERS
        }
        boundary = re.search(r"boundary=([^;\s]+)", headers.get("content-type", ""))
        if boundary:
            body = body.replace(boundary.group(1).encode(), b"BOUNDARY")
            headers["content-type"] = headers["content-type"].replace(boundary.group(1), "BOUNDARY")
        sent.append((request.method, request.url, body, sorted(headers.items())))
    return sent


# -- the API under test -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def post_class(tmp_path_factory: pytest.TempPathFactory) -> type:
    """A ``Posts`` entity class written by the real codegen."""
    app = tmp_path_factory.mktemp("app")
    properties = {
        "title": {"bsonType": "string"},
        "views": {"bsonType": "int"},
        "published": {"bsonType": "bool"},
    }
    schema = {"bsonType": "object", "properties": properties}
    (app / "Posts.json").write_text(
        json.dumps({"name": "Posts", "options": {"validator": {"$jsonSchema": schema}}})
    )
    module = generate_module(app, tmp_path_factory.mktemp("gen"), "lumi_test_js_options_posts")
    return module.ENTITIES["Posts"]  # type: ignore[no-any-return]


@dataclass
class Api:
    """What a case calls: a fresh client (signed in as ``tok0``), its Posts, a typed repo."""

    client: lumi.LumiClient
    posts: lumi.EntityClient
    repo: Repository[Any]
    post_class: type


@pytest.fixture(scope="module")
def make_api(post_class: type) -> Callable[[], Api]:
    def make() -> Api:
        client = lumi.create_client(
            project_id=PID,
            api_base_url=BASE,
            authorization="Bearer tok0",
            api_key="lk_test",
            rate_limit=None,
        )
        repo = repository(client, post_class, validation="off")
        return Api(client, client.entities.Posts, repo, post_class)

    return make


def owners(api: Api) -> dict[str, Any]:
    """Every object of the public API reached from a client, by the name a user writes."""
    client = api.client
    return {
        "client": client,
        "client.auth": client.auth,
        "client.entities": client.entities,
        "client.entities.Posts": api.posts,
        "client.tools": client.tools,
        "client.tools.email": client.tools.email,
        "client.tools.file": client.tools.file,
        "client.tools.ai": client.tools.ai,
        "client.functions": client.functions,
        "repository": api.repo,
    }


def public_calls(name: str, obj: Any) -> set[str]:
    """``name.method()`` for each public method of ``obj``, ``name.prop=`` for each setter."""
    found = set()
    for attribute in dir(type(obj)):
        if attribute.startswith("_"):
            continue
        static = inspect.getattr_static(type(obj), attribute)
        if isinstance(static, property):
            if static.fset is not None:
                found.add(f"{name}.{attribute}=")
        elif inspect.isfunction(static) or isinstance(static, (classmethod, staticmethod)):
            found.add(f"{name}.{attribute}()")
    return found


def module_calls() -> set[str]:
    return {f"lumi.{n}()" for n in lumi.__all__ if inspect.isfunction(getattr(lumi, n))}


def settle(value: Any) -> Any:
    """A call's result in a form to compare: streams read, lazy things run, clients used."""
    if isinstance(value, lumi.LumiClient):
        return ("client", value.config, value.auth.access_token, value.auth.refresh_user())
    if isinstance(value, lumi.RawStream):
        with value:
            return b"".join(value)
    if isinstance(value, lumi.TextStream):
        with value:
            return list(value)
    if isinstance(value, Repository):
        return ("repository", value.model, value.entity_name, value.validation)
    if isinstance(value, QuerySet):
        return list(value)
    if isinstance(value, Pager):
        return list(value.pages())
    if isinstance(value, Iterator):
        return list(value)
    return value


# -- the table ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Same:
    """The JavaScript-style call ``js`` does what the keyword form ``py`` does."""

    js: Callable[[Api], Any]
    py: Callable[[Api], Any]


@dataclass(frozen=True)
class Refused:
    """The JavaScript-style call ``js`` raises ``error`` at the call, naming the Python form."""

    js: Callable[[Api], Any]
    error: type[Exception]
    shows: str


def _set(attribute: str, value: Any) -> Callable[[Api], Any]:
    def assign(api: Api) -> Any:
        seen: list[Any] = []
        api.client.auth.on_auth_change(lambda c: seen.append((c.is_authenticated, c.user)))
        setattr(api.client.auth, attribute, value)
        return getattr(api.client.auth, attribute), api.client.auth.is_authenticated, seen

    return assign


def _listening(sign_in: Callable[[Api], Any]) -> Callable[[Api], Any]:
    def run(api: Api) -> Any:
        seen: list[Any] = []
        unsubscribe = api.client.auth.on_auth_change(
            lambda c: seen.append((c.is_authenticated, c.user))
        )
        sign_in(api)
        unsubscribe()
        api.client.auth.sign_out()  # not heard: unsubscribed
        return seen

    return run


def _signed_out(api: Api) -> Any:
    seen: list[Any] = []
    api.client.auth.on_auth_change(lambda c: seen.append(c.is_authenticated))
    api.client.auth.sign_out()
    return api.client.auth.access_token, api.client.auth.user, seen


def _upload(api: Api, files: Any) -> Any:
    return api.client.tools.file.upload(files)


JS_CONFIG = {
    "projectId": PID,
    "apiBaseUrl": BASE,
    "authOrigin": "https://auth.example.test",
    "authorization": "Bearer tokA",
}
PY_CONFIG = {
    "project_id": PID,
    "api_base_url": BASE,
    "auth_origin": "https://auth.example.test",
    "authorization": "Bearer tokA",
}
JS_EMAIL = {
    "to": "ada@example.com",
    "subject": "Welcome to Our Service!",
    "fromName": "The Team",
    "html": "<h1>Welcome!</h1>",
    "replyTo": "team@example.com",
    "scheduledAt": "2026-03-01T10:00:00.000Z",
}
PY_EMAIL = {
    "to": "ada@example.com",
    "subject": "Welcome to Our Service!",
    "from_name": "The Team",
    "html": "<h1>Welcome!</h1>",
    "reply_to": "team@example.com",
    "scheduled_at": "2026-03-01T10:00:00.000Z",
}
NEWSLETTER = {
    "method": "POST",
    "headers": {"X-Campaign-ID": "weekly-digest"},
    "body": {"to": "ada@example.com", "subject": "Your Weekly Newsletter"},
    "query": {"page": "1"},
}
LIST_OPTIONS = {"filter": {"published": True}, "sort": {"createdAt": -1}, "limit": 10, "skip": 0}

CASES: dict[str, list[Same | Refused]] = {
    # -- lumi ---------------------------------------------------------------------------------
    "lumi.create_client()": [
        Same(lambda a: lumi.create_client(JS_CONFIG), lambda a: lumi.create_client(**PY_CONFIG)),
        Same(  # Python names in the object, and the Python-only options, work too
            lambda a: lumi.create_client({**PY_CONFIG, "rateLimit": None, "api_key": "k"}),
            lambda a: lumi.create_client(**PY_CONFIG, rate_limit=None, api_key="k"),
        ),
        Refused(
            lambda a: lumi.create_client({"projectID": PID}),
            lumi.ValidationError,
            "create_client(project_id=..., api_base_url=..., auth_origin=..., authorization=...",
        ),
        Refused(
            lambda a: lumi.create_client(PID, {"apiBaseUrl": BASE}),
            lumi.ValidationError,
            "api_base_url must be a string",
        ),
        Refused(
            lambda a: lumi.create_client(JS_CONFIG, api_key="k"), lumi.ValidationError, "not both"
        ),
    ],
    "lumi.parse_stream()": [
        Same(lambda a: lumi.parse_stream(SSE), lambda a: lumi.parse_stream(source=SSE)),
        Refused(
            lambda a: lumi.parse_stream({"stream": SSE}),
            lumi.ValidationError,
            "parse_stream() takes a raw stream",
        ),
    ],
    "lumi.structure()": [
        Same(
            lambda a: lumi.structure(USER, lumi.User), lambda a: lumi.structure(USER, cls=lumi.User)
        )
    ],
    "lumi.unstructure()": [
        Same(
            lambda a: lumi.unstructure(lumi.structure(USER, lumi.User)),
            lambda a: lumi.unstructure(obj=lumi.structure(USER, lumi.User)),
        )
    ],
    "lumi.new_id()": [Refused(lambda a: lumi.new_id({}), TypeError, "new_id()")],
    # -- client -------------------------------------------------------------------------------
    "client.for_request()": [
        Same(
            lambda a: a.client.for_request("Bearer tokB"),
            lambda a: a.client.for_request(authorization="Bearer tokB"),
        ),
        Refused(
            lambda a: a.client.for_request({"authorization": "Bearer tokB"}),
            lumi.ValidationError,
            "client.for_request(request.headers.get('Authorization'))",
        ),
    ],
    "client.with_options()": [
        Same(
            lambda a: a.client.with_options({"timeout": 7, "retry": RetryPolicy.none()}),
            lambda a: a.client.with_options(timeout=7, retry=RetryPolicy.none()),
        ),
        Refused(
            lambda a: a.client.with_options(7),
            lumi.ValidationError,
            "with_options(timeout=..., retry=..., rate_limit=...)",
        ),
        Refused(
            lambda a: a.client.with_options(timeout={"read": 7}),
            lumi.ValidationError,
            "timeout=lumi.Timeout(...)",
        ),
    ],
    "client.repository()": [
        Same(
            lambda a: a.client.repository(a.post_class, validation="off"),
            lambda a: repository(a.client, a.post_class, validation="off"),
        ),
        Refused(
            lambda a: a.client.repository(a.post_class, {"validation": "off"}),
            TypeError,
            "repository()",
        ),
    ],
    "client.close()": [Refused(lambda a: a.client.close({}), TypeError, "close()")],
    # -- auth ---------------------------------------------------------------------------------
    "client.auth.access_token=": [
        Same(_set("access_token", "tokC"), _set("access_token", "tokC")),
        Refused(
            _set("access_token", {"accessToken": "tokC"}),
            lumi.ValidationError,
            "auth.access_token takes the token (a str) or None",
        ),
    ],
    "client.auth.user=": [
        Same(_set("user", dict(USER)), _set("user", lumi.structure(USER, lumi.User))),
        Same(_set("user", None), _set("user", None)),
        Refused(_set("user", "u1"), lumi.ValidationError, "auth.user takes a lumi.User"),
        Refused(_set("user", {"email": "a@b.c"}), lumi.SchemaError, "userId"),
    ],
    "client.auth.on_auth_change()": [
        Same(
            _listening(
                lambda a: a.client.auth.sign_in_with_password(
                    {"email": "ada@example.com", "password": "pw"}
                )
            ),
            _listening(
                lambda a: a.client.auth.sign_in_with_password(
                    email="ada@example.com", password="pw"
                )
            ),
        ),
        Refused(
            lambda a: a.client.auth.on_auth_change({"callback": print}),
            lumi.ValidationError,
            "on_auth_change(lambda change:",
        ),
    ],
    "client.auth.sign_out()": [
        Same(_signed_out, _signed_out),
        Refused(lambda a: a.client.auth.sign_out({}), TypeError, "sign_out()"),
    ],
    "client.auth.sign_in_with_password()": [
        Same(
            lambda a: a.client.auth.sign_in_with_password(
                {"email": "ada@example.com", "password": "pässwörd"}
            ),
            lambda a: a.client.auth.sign_in_with_password(
                email="ada@example.com", password="pässwörd"
            ),
        ),
        Refused(
            lambda a: a.client.auth.sign_in_with_password("ada@example.com", "pw"),
            lumi.ValidationError,
            "sign_in_with_password(email=..., password=...)",
        ),
        Refused(
            lambda a: a.client.auth.sign_in_with_password({"email": "ada@example.com"}),
            lumi.ValidationError,
            "lacks 'password': sign_in_with_password(email=..., password=...)",
        ),
    ],
    "client.auth.send_otp()": [
        Same(
            lambda a: a.client.auth.send_otp({"email": "ada@example.com", "type": "register"}),
            lambda a: a.client.auth.send_otp(email="ada@example.com", type="register"),
        ),
        Refused(
            lambda a: a.client.auth.send_otp({"email": "ada@example.com", "emailType": "x"}),
            lumi.ValidationError,
            "send_otp(email=..., type=...)",
        ),
    ],
    "client.auth.sign_up_with_password()": [
        Same(
            lambda a: a.client.auth.sign_up_with_password(
                {"email": "n@example.com", "password": "pw", "otp": "123456", "userName": "New"}
            ),
            lambda a: a.client.auth.sign_up_with_password(
                email="n@example.com", password="pw", otp="123456", user_name="New"
            ),
        ),
        Refused(
            lambda a: a.client.auth.sign_up_with_password(
                {"email": "n@e.com", "password": "p", "otp": "1", "userName": "A", "user_name": "B"}
            ),
            lumi.ValidationError,
            "gives user_name twice",
        ),
    ],
    "client.auth.reset_password()": [
        Same(
            lambda a: a.client.auth.reset_password(
                {"email": "ada@example.com", "newPassword": "new-pw", "otp": "123456"}
            ),
            lambda a: a.client.auth.reset_password(
                email="ada@example.com", new_password="new-pw", otp="123456"
            ),
        ),
        Refused(
            lambda a: a.client.auth.reset_password({"email": "ada@example.com"}, otp="1"),
            lumi.ValidationError,
            "reset_password(email=..., new_password=..., otp=...)), not both",
        ),
    ],
    "client.auth.refresh_user()": [
        Refused(lambda a: a.client.auth.refresh_user({}), TypeError, "refresh_user()")
    ],
    "client.auth.sign_in()": [
        Refused(
            lambda a: a.client.auth.sign_in(),
            lumi.BrowserOnlyError,
            "auth.sign_in_with_password(email=..., password=...)",
        )
    ],
    "client.auth.sign_in_with_oauth()": [
        Refused(
            lambda a: a.client.auth.sign_in_with_oauth({"provider": "google"}),
            lumi.BrowserOnlyError,
            "client.for_request('Bearer <token>')",
        )
    ],
    # -- entities (untyped) ---------------------------------------------------------------------
    "client.entities.Posts.list()": [
        Same(lambda a: a.posts.list(LIST_OPTIONS), lambda a: a.posts.list(**LIST_OPTIONS)),
        Refused(
            lambda a: a.posts.list({"published": True}),
            lumi.ValidationError,
            "list(filter={...})",
        ),
    ],
    "client.entities.Posts.iterate()": [
        Same(
            lambda a: a.posts.iterate({"filter": {"published": True}, "limit": 3}),
            lambda a: a.posts.iterate(filter={"published": True}, limit=3),
        )
    ],
    "client.entities.Posts.count()": [
        Same(
            lambda a: a.posts.count({"filter": {"published": True}}),
            lambda a: a.posts.count(filter={"published": True}),
        )
    ],
    "client.entities.Posts.first()": [
        Same(
            lambda a: a.posts.first({"filter": {"published": True}, "sort": {"views": -1}}),
            lambda a: a.posts.first(filter={"published": True}, sort={"views": -1}),
        )
    ],
    "client.entities.Posts.pager()": [
        Same(
            lambda a: a.posts.pager({"filter": {"published": True}, "sort": {"views": -1}}),
            lambda a: a.posts.pager(filter={"published": True}, sort={"views": -1}),
        ),
        Refused(
            lambda a: a.posts.pager({"published": True}),
            lumi.ValidationError,
            "pager(filter=..., sort=..., limit=..., skip=...)",
        ),
    ],
    "client.entities.Posts.get()": [
        Same(lambda a: a.posts.get(DOC_ID), lambda a: a.posts.get(id=DOC_ID)),
        Refused(
            lambda a: a.posts.get({"id": DOC_ID}),
            lumi.ValidationError,
            "a document id must be a non-empty string",
        ),
    ],
    "client.entities.Posts.create()": [
        Same(
            lambda a: a.posts.create({"title": "Mine", "published": False}),
            lambda a: a.posts.create(data={"title": "Mine", "published": False}),
        )
    ],
    "client.entities.Posts.create_many()": [
        Same(
            lambda a: a.posts.create_many([{"title": "One"}, {"title": "Two"}]),
            lambda a: a.posts.create_many(items=[{"title": "One"}, {"title": "Two"}]),
        ),
        Refused(
            lambda a: a.posts.create_many({"title": "One"}),
            lumi.ValidationError,
            "create_many() takes a list of documents",
        ),
    ],
    "client.entities.Posts.update()": [
        Same(
            lambda a: a.posts.update(DOC_ID, {"published": True, "title": "Updated"}),
            lambda a: a.posts.update(id=DOC_ID, data={"published": True, "title": "Updated"}),
        )
    ],
    "client.entities.Posts.delete()": [
        Same(lambda a: a.posts.delete(DOC_ID), lambda a: a.posts.delete(id=DOC_ID)),
        Refused(
            lambda a: a.posts.delete({"_id": DOC_ID}),
            lumi.ValidationError,
            "a document id must be a non-empty string",
        ),
    ],
    "client.entities.Posts.delete_many()": [
        Same(
            lambda a: a.posts.delete_many([DOC_ID, "6939311e8458665713e0b523"]),
            lambda a: a.posts.delete_many(ids=[DOC_ID, "6939311e8458665713e0b523"]),
        ),
        Refused(
            lambda a: a.posts.delete_many(DOC_ID),
            lumi.ValidationError,
            "delete_many() takes a list of ids",
        ),
    ],
    # -- tools --------------------------------------------------------------------------------
    "client.tools.email.send()": [
        Same(
            lambda a: a.client.tools.email.send(JS_EMAIL),
            lambda a: a.client.tools.email.send(**PY_EMAIL),
        ),
        Refused(
            lambda a: a.client.tools.email.send("ada@example.com", "Hi"),
            lumi.ValidationError,
            "send(to=..., subject=..., html=..., text=..., from_name=..., reply_to=...",
        ),
        Refused(
            lambda a: a.client.tools.email.send({**JS_EMAIL, "to": {"email": "a@b.c"}}),
            lumi.ValidationError,
            "email to= takes a list of addresses",
        ),
    ],
    "client.tools.file.upload()": [
        Same(
            lambda a: _upload(a, [("a.txt", b"hello", "text/plain")]),
            lambda a: a.client.tools.file.upload(files=[("a.txt", b"hello", "text/plain")]),
        ),
        Refused(
            lambda a: _upload(a, ("a.txt", b"hello")),
            lumi.ValidationError,
            "upload() takes a list of files: wrap one in a list",
        ),
        Refused(
            lambda a: _upload(a, b"hello"), lumi.ValidationError, "upload() takes a list of files"
        ),
    ],
    "client.tools.file.delete()": [
        Same(
            lambda a: a.client.tools.file.delete([FILE_URL]),
            lambda a: a.client.tools.file.delete(file_urls=[FILE_URL]),
        ),
        Refused(
            lambda a: a.client.tools.file.delete({"fileUrls": [FILE_URL]}),
            lumi.ValidationError,
            "delete() takes a list of file URLs",
        ),
    ],
    "client.tools.ai.generate_text()": [
        Same(
            lambda a: a.client.tools.ai.generate_text(
                {"model": "gemini-2.5-flash", "messages": MESSAGES}
            ),
            lambda a: a.client.tools.ai.generate_text(model="gemini-2.5-flash", messages=MESSAGES),
        ),
        Refused(
            lambda a: a.client.tools.ai.generate_text(MESSAGES),
            lumi.ValidationError,
            "generate_text(messages=..., model=...)",
        ),
        Refused(
            lambda a: a.client.tools.ai.generate_text({"messages": MESSAGES[0]}),
            lumi.ValidationError,
            "messages= takes a list of {role, content} messages",
        ),
    ],
    "client.tools.ai.generate_text_stream()": [
        Same(
            lambda a: a.client.tools.ai.generate_text_stream({"messages": MESSAGES}),
            lambda a: a.client.tools.ai.generate_text_stream(messages=MESSAGES),
        ),
        Same(
            lambda a: a.client.tools.ai.generate_text_stream({"messages": MESSAGES, "raw": True}),
            lambda a: a.client.tools.ai.generate_text_stream(messages=MESSAGES, raw=True),
        ),
    ],
    "client.tools.ai.parse_stream()": [
        Same(
            lambda a: a.client.tools.ai.parse_stream(
                a.client.functions.invoke("ai-stream", {"responseType": "stream"})
            ),
            lambda a: a.client.tools.ai.parse_stream(
                raw=a.client.functions.invoke("ai-stream", response_type="stream")
            ),
        ),
        Refused(
            lambda a: a.client.tools.ai.parse_stream(lumi.parse_stream(SSE)),
            lumi.ValidationError,
            "generate_text_stream(..., raw=True)",
        ),
    ],
    "client.tools.ai.generate_image()": [
        Same(
            lambda a: a.client.tools.ai.generate_image(
                {"model": "gemini-2.5-flash-image", "messages": MESSAGES[1:]}
            ),
            lambda a: a.client.tools.ai.generate_image(
                model="gemini-2.5-flash-image", messages=MESSAGES[1:]
            ),
        )
    ],
    # -- functions ----------------------------------------------------------------------------
    "client.functions.invoke()": [
        Same(
            lambda a: a.client.functions.invoke("sendNewsletter", NEWSLETTER),
            lambda a: a.client.functions.invoke("sendNewsletter", **NEWSLETTER),
        ),
        Same(
            lambda a: a.client.functions.invoke(
                "verifyAccessCode", {"body": {"code": "x"}, "responseType": "text"}
            ),
            lambda a: a.client.functions.invoke(
                "verifyAccessCode", body={"code": "x"}, response_type="text"
            ),
        ),
        Refused(
            lambda a: a.client.functions.invoke("sendNewsletter", "GET"),
            lumi.ValidationError,
            "invoke(name, method=..., query=..., body=..., headers=..., response_type=...",
        ),
        Refused(
            lambda a: a.client.functions.invoke("f", {"method": "POST", "retry": 3}),
            lumi.ValidationError,
            "unknown key 'retry'",
        ),
    ],
    # -- typed repository ---------------------------------------------------------------------
    "repository.list()": [
        Same(lambda a: a.repo.list(LIST_OPTIONS), lambda a: a.repo.list(**LIST_OPTIONS)),
        Refused(lambda a: a.repo.list({"published": True}), lumi.ValidationError, "list(filter="),
    ],
    "repository.get()": [
        Same(lambda a: a.repo.get(DOC_ID), lambda a: a.repo.get(id=DOC_ID)),
        Refused(
            lambda a: a.repo.get({"id": DOC_ID}),
            lumi.ValidationError,
            "a document id must be a non-empty string",
        ),
    ],
    "repository.create()": [
        Same(
            lambda a: a.repo.create({"title": "Mine", "published": False}),
            lambda a: a.repo.create(title="Mine", published=False),
        )
    ],
    "repository.create_many()": [
        Same(
            lambda a: a.repo.create_many([{"title": "One"}, {"title": "Two"}]),
            lambda a: a.repo.create_many([a.post_class(title="One"), a.post_class(title="Two")]),
        ),
        Refused(
            lambda a: a.repo.create_many({"title": "One"}),
            lumi.ValidationError,
            "create_many() takes a list of records",
        ),
        Refused(
            lambda a: a.repo.create_many(a.post_class(title="One")),
            lumi.ValidationError,
            "create_many() takes a list of records",
        ),
    ],
    "repository.update()": [
        Same(
            lambda a: a.repo.update(DOC_ID, {"published": True, "title": "Updated"}),
            lambda a: a.repo.update(DOC_ID, published=True, title="Updated"),
        )
    ],
    "repository.delete()": [
        Same(lambda a: a.repo.delete(DOC_ID), lambda a: a.repo.delete(id=DOC_ID)),
        Refused(
            lambda a: a.repo.delete({"_id": DOC_ID}),
            lumi.ValidationError,
            "a document id must be a non-empty string",
        ),
    ],
    "repository.delete_many()": [
        Same(
            lambda a: a.repo.delete_many([DOC_ID]),
            lambda a: a.repo.delete_many(ids=[DOC_ID]),
        ),
        Refused(
            lambda a: a.repo.delete_many(DOC_ID),
            lumi.ValidationError,
            "delete_many() takes a list of ids or records",
        ),
    ],
    "repository.where()": [
        Same(
            lambda a: a.repo.where({"published": True}),
            lambda a: a.repo.where(filter={"published": True}),
        )
    ],
    "repository.filter()": [
        Refused(
            lambda a: a.repo.filter({"published": True}),
            lumi.ValidationError,
            "takes Q objects and keyword lookups",
        )
    ],
    "repository.exclude()": [
        Refused(
            lambda a: a.repo.exclude({"published": True}),
            lumi.ValidationError,
            "takes Q objects and keyword lookups",
        )
    ],
    "repository.order_by()": [
        Same(lambda a: a.repo.order_by({"views": -1}), lambda a: a.repo.order_by("-views"))
    ],
    "repository.query()": [Refused(lambda a: a.repo.query({}), TypeError, "query()")],
    "repository.all()": [Refused(lambda a: a.repo.all({}), TypeError, "all()")],
    "repository.count()": [Refused(lambda a: a.repo.count({}), TypeError, "count()")],
    "repository.document()": [
        Same(
            lambda a: a.repo.document({"title": "x", "views": 1}, {}),
            lambda a: a.repo.document(data={"title": "x"}, fields={"views": 1}),
        )
    ],
}

#: The calls that take the JavaScript options object in place of their keywords.
ACCEPTING = {
    "lumi.create_client()",
    "client.with_options()",
    "client.auth.sign_in_with_password()",
    "client.auth.send_otp()",
    "client.auth.sign_up_with_password()",
    "client.auth.reset_password()",
    "client.auth.sign_in_with_oauth()",
    "client.tools.email.send()",
    "client.tools.ai.generate_text()",
    "client.tools.ai.generate_text_stream()",
    "client.tools.ai.generate_image()",
    "client.functions.invoke()",
    "client.entities.Posts.list()",
    "client.entities.Posts.iterate()",
    "client.entities.Posts.count()",
    "client.entities.Posts.first()",
    "client.entities.Posts.pager()",
    "repository.list()",
}


def _cases(kind: type) -> list[Any]:
    return [
        pytest.param(case, id=f"{name}#{index}")
        for name, cases in CASES.items()
        for index, case in enumerate(cases)
        if isinstance(case, kind)
    ]


# -- the tests ----------------------------------------------------------------------------------
def test_every_public_method_has_an_entry(make_api: Callable[[], Api]) -> None:
    api = make_api()
    found = module_calls()
    for name, obj in owners(api).items():
        found |= public_calls(name, obj)
    assert found - set(CASES) == set(), "public calls without an entry in CASES"
    assert set(CASES) - found == set(), "entries for calls that do not exist"
    # A new sub-API (client.x, client.tools.y) must be walked too.
    for name, obj in owners(api).items():
        for attribute, value in vars(obj).items():
            if attribute.startswith("_") or isinstance(value, type):
                continue
            if type(value).__module__.startswith("lumi.") and public_calls("x", value):
                assert f"{name}.{attribute}" in owners(api), f"{name}.{attribute} is not walked"


@pytest.mark.parametrize("case", _cases(Same))
def test_the_javascript_form_works_as_the_keyword_form(
    case: Same, make_api: Callable[[], Api], server: responses.RequestsMock
) -> None:
    js_result = settle(case.js(make_api()))
    js_wire = on_the_wire(server)
    server.calls.reset()
    py_result = settle(case.py(make_api()))
    assert on_the_wire(server) == js_wire
    assert js_result == py_result


@pytest.mark.parametrize("case", _cases(Refused))
def test_what_cannot_be_taken_is_refused_at_the_call(
    case: Refused, make_api: Callable[[], Api], server: responses.RequestsMock
) -> None:
    api = make_api()
    with pytest.raises(case.error) as caught:
        settle(case.js(api))
    message = (
        caught.value.message if isinstance(caught.value, lumi.LumiError) else str(caught.value)
    )
    assert case.shows in message
    assert len(server.calls) == 0, "refused after a request was sent"
    if isinstance(caught.value, lumi.LumiError):
        assert caught.value.attempts == 0 and caught.value.method is None


def test_the_wire_of_the_options_object_is_the_keyword_wire(
    make_api: Callable[[], Api], server: responses.RequestsMock
) -> None:
    """Not only equal to each other: the JS form sends what the JavaScript client sends."""
    make_api().client.tools.email.send(JS_EMAIL)
    body = json.loads(server.calls[0].request.body)
    assert body == {
        "to": ["ada@example.com"],
        "subject": "Welcome to Our Service!",
        "fromName": "The Team",
        "html": "<h1>Welcome!</h1>",
        "text": "",
        "replyTo": ["team@example.com"],
        "scheduledAt": "2026-03-01T10:00:00.000Z",
    }
    make_api().client.functions.invoke("sendNewsletter", NEWSLETTER)
    request = server.calls[1].request
    assert request.method == "POST" and request.url.endswith("/sendNewsletter?page=1")
    assert request.headers["X-Campaign-ID"] == "weekly-digest"
    assert request.headers["Authorization"] == "Bearer tok0"
    assert json.loads(request.body) == NEWSLETTER["body"]


# -- which calls accept the object, and what every one of them refuses ---------------------------
def accepting_calls(api: Api) -> dict[str, Callable[..., Any]]:
    """The public calls that take an options object, found by introspection."""
    found: dict[str, Callable[..., Any]] = {"lumi.create_client()": lumi.create_client}
    for name, obj in owners(api).items():
        for call in public_calls(name, obj):
            if not call.endswith("()"):
                continue
            method = getattr(obj, call.rsplit(".", 1)[1][:-2])
            parameters = inspect.signature(method).parameters
            if hasattr(method, "__wrapped__") or "options_" in parameters:
                found[call] = method
    return found


def test_the_calls_that_accept_the_object_are_the_documented_ones(
    make_api: Callable[[], Api],
) -> None:
    """The README's table marks **yes** exactly the calls that take the object."""
    assert set(accepting_calls(make_api())) == ACCEPTING
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: from-js -->", 1)[1].split("<!-- /section: from-js -->")[0]
    documented: dict[bool, set[str]] = {True: set(), False: set()}
    for row in re.findall(r"^\|.*\|$", section, re.M):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) != 3 or set(cells[0]) <= {"-"}:
            continue
        calls = re.findall(r"`((?:lumi|client|posts|repo)\.[\w.]+)\(", cells[1])
        documented[cells[2] == "**yes**"].update(calls)
    readme_name = {
        call: call[:-2].replace("client.entities.Posts.", "posts.").replace("repository.", "repo.")
        for call in ACCEPTING
    }
    assert documented[True] == set(readme_name.values())
    assert documented[False] & documented[True] == set()


def _keyword_only_accepting(api: Api) -> list[tuple[str, Callable[..., Any]]]:
    """The accepting calls whose options slot holds only the options object (everything but
    create_client, whose first parameter is also project_id)."""
    return sorted(
        (name, call)
        for name, call in accepting_calls(api).items()
        if name != "lumi.create_client()"
    )


NOT_A_MAPPING = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text(max_size=5)),
    st.sets(st.integers(), max_size=3),
)


@given(data=st.data())
def test_anything_but_a_mapping_in_the_options_place_is_refused(
    data: st.DataObject, make_api: Callable[[], Api]
) -> None:
    api = make_api()
    calls = _keyword_only_accepting(api)
    name, call = data.draw(st.sampled_from(calls))
    value = data.draw(NOT_A_MAPPING)
    lead = ["sendNewsletter"] if name == "client.functions.invoke()" else []
    with responses.RequestsMock() as mock:
        with pytest.raises(lumi.ValidationError) as caught:
            settle(call(*lead, value))
        assert len(mock.calls) == 0
    assert "takes keyword arguments" in caught.value.message
    assert f"{call.__name__}(" in caught.value.message and "=..." in caught.value.message


def _option_names(call: Callable[..., Any]) -> list[str]:
    """The Python names of a call's optional keyword parameters."""
    return [
        p.name
        for p in inspect.signature(call).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty
    ]


@given(data=st.data())
def test_an_unknown_key_is_refused_naming_it_and_nothing_is_sent(
    data: st.DataObject, make_api: Callable[[], Api]
) -> None:
    api = make_api()
    name, call = data.draw(st.sampled_from(sorted(accepting_calls(api).items())))
    names = [*_option_names(call), "email", "password", "otp", "type", "messages", "to", "subject"]
    known = set(names) | {camel_case(name) for name in names}
    unknown = data.draw(
        st.one_of(st.text(min_size=1, max_size=12), st.integers(), st.none()).filter(
            lambda k: k not in known
        )
    )
    lead = ["sendNewsletter"] if name == "client.functions.invoke()" else []
    options = {unknown: data.draw(st.integers() | st.text(max_size=5))}
    with responses.RequestsMock() as mock:
        with pytest.raises(lumi.ValidationError) as caught:
            settle(call(*lead, options))
        assert len(mock.calls) == 0
    assert "unknown key" in caught.value.message and repr(unknown)[:40] in caught.value.message
    assert "=..." in caught.value.message  # the Python form


@pytest.mark.parametrize("name", sorted(ACCEPTING))
def test_the_object_and_keywords_together_are_refused(
    name: str, make_api: Callable[[], Api], server: responses.RequestsMock
) -> None:
    call = accepting_calls(make_api())[name]
    lead = ["sendNewsletter"] if name == "client.functions.invoke()" else []
    in_the_object = _option_names(call)
    if "options_" in inspect.signature(call).parameters:  # list & co.: page_size etc. go beside
        in_the_object = [name for name in in_the_object if name in JS_LIST_OPTIONS]
    for option in in_the_object:
        with pytest.raises(lumi.ValidationError, match="not both"):
            call(*lead, {}, **{option: 1})
    assert len(server.calls) == 0


def test_values_of_the_options_object_are_never_in_messages(
    make_api: Callable[[], Api], server: responses.RequestsMock
) -> None:
    auth = make_api().client.auth
    for options in (
        {"email": "a@b.c", "password": "s3cret-pw", "extra": 1},
        {"email": "a@b.c", "password": "s3cret-pw", "Password": "s3cret-pw"},
    ):
        with pytest.raises(lumi.ValidationError) as caught:
            auth.sign_in_with_password(options)
        assert "s3cret" not in str(caught.value) and "s3cret" not in repr(caught.value)
    with pytest.raises(lumi.ValidationError) as caught:
        lumi.create_client({"projectId": PID, "authorization": "Bearer s3cret", "apiKey": 5})
    assert "s3cret" not in str(caught.value)


@given(
    to=st.lists(st.emails(), min_size=1, max_size=3),
    subject=st.text(min_size=1, max_size=30),
    html=st.text(min_size=1, max_size=60),
    from_name=st.none() | st.text(max_size=20),
)
def test_email_options_object_and_keywords_send_the_same_bytes(
    to: list[str], subject: str, html: str, from_name: str | None, make_api: Callable[[], Api]
) -> None:
    js: dict[str, Any] = {"to": to, "subject": subject, "html": html}
    py: dict[str, Any] = dict(js)
    if from_name is not None:
        js["fromName"] = py["from_name"] = from_name
    with responses.RequestsMock() as mock:
        mock.add_callback("POST", re.compile(r"https://.*"), callback=reply)
        make_api().client.tools.email.send(js)
        make_api().client.tools.email.send(**py)
        first, second = (call.request.body for call in mock.calls)
    assert first == second


# -- auth.user -----------------------------------------------------------------------------------
def test_the_user_setter_calls_listeners_once_per_change(make_api: Callable[[], Api]) -> None:
    auth = make_api().client.auth
    heard: list[lumi.AuthChange] = []
    auth.on_auth_change(heard.append)
    auth.user = dict(USER)  # the wire dict, as JavaScript sets it
    assert isinstance(auth.user, lumi.User) and auth.user.user_name == "Ada"
    assert heard == [lumi.AuthChange(is_authenticated=True, user=auth.user)]
    auth.user = lumi.structure(USER, lumi.User)  # the same user again: no change, no call
    auth.user = MappingProxyType(USER)  # any mapping of the wire keys
    assert len(heard) == 1
    auth.user = None
    assert heard[-1] == lumi.AuthChange(is_authenticated=True, user=None) and len(heard) == 2
    with pytest.raises(lumi.SchemaError, match="userId"):
        auth.user = {"userId": 7, "email": "a@b.c"}
    with pytest.raises(lumi.ValidationError, match=r"auth\.user takes"):
        auth.user = ["u1"]  # type: ignore[assignment]
    assert auth.user is None and len(heard) == 2  # a refused value changes nothing
    auth.access_token = None
    auth.user = dict(USER)  # signed out: the user is kept, as in JavaScript
    assert heard[-1] == lumi.AuthChange(is_authenticated=False, user=auth.user)


def test_create_client_config_object_takes_the_environment_for_what_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LUMI_API_BASE_URL", "http://127.0.0.1:9")
    client = lumi.create_client({"projectId": "p_env", "authOrigin": ""})
    assert client.config.api_base_url == "http://127.0.0.1:9"
    assert client.config.auth_origin == "https://auth.lumi.new"
    for bad in (123, ["p"], b"p"):
        with pytest.raises(lumi.ValidationError, match="project_id must be a string"):
            lumi.create_client(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [{"entityName": "Posts"}, 3, None, ("Posts",)])
def test_an_entity_name_that_is_not_a_string_is_refused(
    name: Any, make_api: Callable[[], Api]
) -> None:
    with pytest.raises(lumi.ValidationError, match=r"client\.entities\[\.\.\.\] takes an entity"):
        make_api().client.entities[name]
