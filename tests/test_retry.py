"""Retries: safe calls on 408/429/5xx, timeouts and resets; unsafe calls only if never sent."""

from __future__ import annotations

import logging
import pickle
import re
import socket
import threading
import time

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

import lumi
from lumi._generated.operations import OPERATIONS
from lumi.config import RetryPolicy
from lumi.ratelimit import IdenticalRequestLimiter
from lumi.retry import backoff_seconds, is_repeatable, should_retry

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
    assert should_retry(repeatable=True, status=500)
    assert not should_retry(repeatable=False, status=500)
    assert not should_retry(repeatable=True, status=400)
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


# -- retry safety decided per request ---------------------------------------------------------
UPDATE = OPERATIONS["updateDocument"]
CREATE = OPERATIONS["createDocument"]
CREATE_MANY = OPERATIONS["createDocuments"]


@pytest.mark.parametrize(
    ("operation", "body", "repeatable"),
    [
        (UPDATE, {"filter": {"_id": "a"}, "update": {"title": "x", "stats.n": 2}}, True),
        (UPDATE, {"filter": {"_id": "a"}, "update": {"$set": {"n": 2}}}, True),
        (UPDATE, {"filter": {"_id": "a"}, "update": {"$unset": {"n": ""}, "$set": {"m": 1}}}, True),
        (UPDATE, {"filter": {"_id": "a"}, "update": {"$inc": {"n": 1}}}, False),
        (UPDATE, {"filter": {"_id": "a"}, "update": {"$set": {"m": 1}, "$inc": {"n": 1}}}, False),
        (UPDATE, {"filter": {"_id": "a"}, "update": {"$push": {"tags": "x"}}}, False),  # future
        (UPDATE, {"filter": {"_id": "a"}, "update": {"nested": {"$inc": 1}}}, True),  # a value
        (UPDATE, {"filter": {"_id": "a"}, "update": []}, False),
        (UPDATE, {"filter": {"_id": "a"}}, False),
        (CREATE, {"title": "x"}, False),
        (CREATE, {"_id": "6939311e8458665713e0b522", "title": "x"}, True),
        (CREATE, {"_id": "", "title": "x"}, False),
        (CREATE, {"_id": 5}, False),
        (CREATE_MANY, [{"_id": "a"}, {"_id": "b"}], True),
        (CREATE_MANY, [{"_id": "a"}, {"title": "no id"}], False),
        (CREATE_MANY, [], True),  # creates nothing, twice
        (OPERATIONS["getDocument"], None, True),
        (OPERATIONS["sendEmail"], {"_id": "a"}, False),  # no rule: the operation decides
    ],
)
def test_is_repeatable(operation, body, repeatable):
    assert is_repeatable(operation, body) is repeatable


operator_names = st.one_of(
    st.sampled_from(["$set", "$unset", "$inc", "$push", "$mul", "$min"]), st.text(max_size=6)
)


@given(st.dictionaries(operator_names, st.integers(), max_size=5))
def test_an_update_is_repeatable_exactly_when_its_only_operators_are_set_and_unset(update):
    expected = all(not k.startswith("$") or k in ("$set", "$unset") for k in update)
    assert is_repeatable(UPDATE, {"filter": {"_id": "a"}, "update": update}) is expected


def _refused(client_call):
    with pytest.raises(lumi.APIConnectionError) as info:
        client_call()
    return info.value


def test_after_sending_an_inc_update_is_never_repeated(sleeps):
    server = _ResetServer()
    try:
        client = make_client(server.url, retry=RetryPolicy(max_attempts=3))
        error = _refused(lambda: client.entities.Posts.update("a1", {"$inc": {"n": 1}}))
        assert server.received == 1 and sleeps == []
        assert isinstance(error, lumi.OutcomeUnknownError) and error.request_sent
        assert "may or may not have applied it" in error.message
        assert (error.method, error.path, error.attempts) == ("PUT", f"/lm/{PID}/Posts/documents", 1)
        # The same update as a plain merge or with $set is repeatable: retried, then a plain error.
        error = _refused(lambda: client.entities.Posts.update("a1", {"$set": {"n": 1}}))
        assert server.received == 4 and not isinstance(error, lumi.OutcomeUnknownError)
        assert error.request_sent and error.attempts == 3 and "safe to repeat" in error.message
    finally:
        server.close()


def test_creates_that_carry_their_own_id_are_retried(sleeps):
    server = _ResetServer()
    try:
        client = make_client(server.url, retry=RetryPolicy(max_attempts=3))
        _refused(lambda: client.entities.Posts.create({"_id": lumi.new_id(), "a": 1}))
        assert server.received == 3
        _refused(lambda: client.entities.Posts.create_many([{"_id": lumi.new_id()}] * 2))
        assert server.received == 6
        error = _refused(lambda: client.entities.Posts.create_many([{"_id": "x"}, {"b": 1}]))
        assert server.received == 7 and isinstance(error, lumi.OutcomeUnknownError)
    finally:
        server.close()


def test_new_id_is_a_fresh_object_id():
    ids = [lumi.new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)
    assert abs(int(ids[0][:8], 16) - time.time()) < 5  # leads with the creation time


# -- one error tree, as Python users expect ------------------------------------------------------
def test_connection_errors_are_the_builtins_too():
    assert issubclass(lumi.APIConnectionError, ConnectionError)
    assert issubclass(lumi.APITimeoutError, TimeoutError)
    assert issubclass(lumi.APITimeoutError, lumi.APIConnectionError)
    assert issubclass(lumi.OutcomeUnknownTimeoutError, lumi.OutcomeUnknownError)
    assert issubclass(lumi.OutcomeUnknownTimeoutError, lumi.APITimeoutError)
    # The former names are the same classes, kept importable but out of `import *`.
    assert lumi.ConnectionError is lumi.TransportError is lumi.APIConnectionError
    assert lumi.TimeoutError is lumi.APITimeoutError
    assert "ConnectionError" not in lumi.__all__ and "TimeoutError" not in lumi.__all__


def test_never_sent_says_so_and_is_caught_as_the_builtin(sleeps):
    client = make_client(_refused_url(), retry=RetryPolicy(max_attempts=2))
    try:
        client.entities.Posts.create({"a": 1})
    except ConnectionError as error:  # the builtin
        assert isinstance(error, lumi.APIConnectionError) and not error.request_sent
        assert "never reached the server" in error.message and error.attempts == 2
        assert error.status is None and error.method == "POST"
    else:
        pytest.fail("no error")


@responses.activate
def test_errors_carry_method_path_status_attempts_and_request_id(sleeps):
    url = f"{BASE}/lm/{PID}/Posts/documents/list"
    responses.post(url, status=503, headers={"X-Request-Id": "req-1"})
    responses.post(url, status=502, headers={"X-Request-Id": "req-2"})
    with pytest.raises(lumi.HTTPStatusError) as info:
        make_client(retry=RetryPolicy(max_attempts=2)).entities.Posts.list()
    error = info.value
    assert (error.method, error.path, error.status, error.attempts, error.request_id) == (
        "POST",
        f"/lm/{PID}/Posts/documents/list",
        502,
        2,
        "req-2",
    )
    get_url = f"{BASE}/lm/{PID}/Posts/documents/x"
    responses.get(get_url, json={"code": 10001, "message": "no"}, headers={"Request-Id": "r9"})
    with pytest.raises(lumi.APIError) as api:
        make_client().entities.Posts.get("x")
    assert (api.value.status, api.value.request_id, api.value.attempts) == (200, "r9", 1)
    ai_url = f"{BASE}/lm/{PID}/ai/chat/completions"
    responses.post(ai_url, json={"code": 200, "data": {"chatId": 5, "content": "x"}})
    with pytest.raises(lumi.InvalidResponseError) as bad:
        make_client(api_key="k").tools.ai.generate_text(messages=[{"role": "user", "content": "x"}])
    assert (bad.value.method, bad.value.path, bad.value.status) == ("POST", "/lm/p1/ai/chat/completions", 200)
    assert bad.value.field == "GenerateTextResult.chatId" and "chatId" in bad.value.message


def test_credentials_in_the_base_url_appear_nowhere(sleeps):
    url = _refused_url().replace("http://", "http://ada:hunter2@")
    client = make_client(url, retry=RetryPolicy(max_attempts=1))
    error = _refused(lambda: client.entities.Posts.list())
    texts = [error.message, str(error), repr(error), repr(client), repr(client.config)]
    texts.append(repr(client._transport))
    assert all("hunter2" not in text and "ada:" not in text for text in texts), texts


@pytest.mark.parametrize("url", ["ada:hunter2@example.com", "ftp://ada:hunter2@example.com/x"])
def test_credentials_in_a_malformed_url_appear_nowhere(url):
    """A URL refused as malformed is shown, its credentials are not: the base URL, the
    events endpoint, and the events sender's repr."""
    from lumi.events.config import EventsConfigError, _normalise_endpoint
    from lumi.events.transport import HttpSender

    with pytest.raises(lumi.ValidationError, match="api_base_url") as base:
        lumi.create_client(project_id=PID, api_base_url=url)
    with pytest.raises(EventsConfigError, match="endpoint") as endpoint:
        _normalise_endpoint(url)
    sender = repr(HttpSender("https://ada:hunter2@collector.example/collect", "wk"))
    for text in [str(base.value), str(endpoint.value), sender]:
        assert "hunter2" not in text and "ada" not in text and "***@" in text, text


ERRORS = [
    lumi.APIError(10001, "m"),
    lumi.AuthenticationError(2100, "m"),
    lumi.NotFoundError(404, "m"),
    lumi.ValidationError("m"),
    lumi.BrowserOnlyError("m"),
    lumi.SchemaError("m"),
    lumi.RateLimitError(),
    lumi.APIConnectionError("m", request_sent=False),
    lumi.APITimeoutError("m"),
    lumi.OutcomeUnknownError("m"),
    lumi.OutcomeUnknownTimeoutError("m"),
    lumi.HTTPStatusError(502, "m", "excerpt"),
    lumi.InvalidResponseError(200, "m", "e", field="Record.createdAt"),
    lumi.FunctionError(500, "m", "e", {"error": "x"}),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_context(error):
    from lumi.errors import with_context

    with_context(error, method="GET", path="/p", attempts=3, status=503, request_id="r1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.__dict__ == error.__dict__
    assert (copy.code, copy.message, str(copy)) == (error.code, error.message, str(error))


# -- the schema rule compiles, or the generator names what is wrong ------------------------------
@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"rule": "documents-have-id"}, None),
        ({"rule": "idempotent-update", "field": "update", "operators": ["$set"]}, None),
        ({"rule": "sometimes"}, "x-lumi-retry-when must be"),
        ({"rule": "idempotent-update", "operators": ["$set"]}, "needs field"),
        ({"rule": "idempotent-update", "field": "u", "operators": ["set"]}, "operators must be"),
        ({"rule": "documents-have-id", "field": "u"}, "unknown keys"),
    ],
)
def test_retry_when_is_checked_by_the_generator(when, message):
    from codegen._models import CodegenError
    from codegen._operations import generate_operations

    operation = {
        "operationId": "x",
        "x-lumi-retry": "unsafe",
        "x-lumi-envelope": True,
        "x-lumi-signed": True,
        "x-lumi-retry-when": when,
    }
    document = {"paths": {"/x": {"post": operation}}}
    if message is None:
        assert "retry_when=RetryWhen(" in generate_operations(document, source_name="t")
        return
    with pytest.raises(CodegenError, match=message):
        generate_operations(document, source_name="t")
    operation["x-lumi-retry"] = "safe"
    if message is None:
        return


def test_retry_when_needs_an_unsafe_operation():
    from codegen._models import CodegenError
    from codegen._operations import generate_operations

    operation = {
        "operationId": "x",
        "x-lumi-retry": "safe",
        "x-lumi-envelope": True,
        "x-lumi-signed": True,
        "x-lumi-retry-when": {"rule": "documents-have-id"},
    }
    with pytest.raises(CodegenError, match="only applies to x-lumi-retry: unsafe"):
        generate_operations({"paths": {"/x": {"post": operation}}}, source_name="t")


# -- the identical-request limiter: O(1) per check, bounded memory -------------------------------
def test_limiter_forgets_idle_keys_and_caps_memory(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("lumi.ratelimit.time.monotonic", lambda: now[0])
    limiter = IdenticalRequestLimiter(lumi.RateLimit(max_identical=2, per_seconds=1.0), max_keys=50)
    for key in range(40):
        limiter.check(key)
    assert len(limiter) == 40
    now[0] += 1.5  # a whole window later, every key is idle: the next check forgets them
    limiter.check("fresh")
    assert len(limiter) == 1
    for key in range(500):  # more distinct keys in one window than the cap
        limiter.check(key)
    assert len(limiter) <= 50
    limiter.check("x")
    limiter.check("x")
    with pytest.raises(lumi.RateLimitError):
        limiter.check("x")
    now[0] += 1.01
    limiter.check("x")  # the window slid


@given(st.lists(st.tuples(st.integers(0, 5), st.floats(0, 0.7)), max_size=60))
def test_limiter_matches_a_naive_sliding_window(events):
    clock = [0.0]
    rule = lumi.RateLimit(max_identical=3, per_seconds=1.0)
    limiter = IdenticalRequestLimiter(rule)
    accepted: dict[int, list[float]] = {}
    original = time.monotonic
    try:
        import lumi.ratelimit as ratelimit_module

        ratelimit_module.time.monotonic = lambda: clock[0]  # type: ignore[attr-defined]
        for key, step in events:
            clock[0] += step
            recent = [t for t in accepted.get(key, []) if t > clock[0] - 1.0]
            allowed = len(recent) < 3
            try:
                limiter.check(key)
                assert allowed
                accepted[key] = [*recent, clock[0]]
            except lumi.RateLimitError:
                assert not allowed
    finally:
        ratelimit_module.time.monotonic = original  # type: ignore[attr-defined]
