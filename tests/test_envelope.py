"""Whatever the server answers, only LumiError subclasses escape the envelope decoder."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumi.envelope import decode_envelope, decode_json, excerpt
from lumi.errors import (
    APIError,
    AuthenticationError,
    HTTPStatusError,
    InvalidResponseError,
    LumiError,
    NotFoundError,
)

WHAT = "POST /lm/p1/Posts/documents/list"


@given(st.integers(min_value=100, max_value=599), st.binary(max_size=300))
def test_arbitrary_bytes_and_statuses(status, body):
    with contextlib.suppress(LumiError):
        decode_envelope(status, "Reason", body, WHAT)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["code", "message", "data", "x"]), json_values))
def test_arbitrary_json_objects(payload):
    body = json.dumps(payload).encode()
    try:
        data = decode_envelope(200, "OK", body, WHAT)
    except LumiError:
        return
    assert payload.get("code") == 200
    assert data == payload.get("data")


def test_success_returns_data():
    assert decode_envelope(200, "OK", b'{"code":200,"message":"ok","data":[1]}', WHAT) == [1]


def test_error_envelope_carries_code_and_message():
    with pytest.raises(APIError) as info:
        decode_envelope(200, "OK", b'{"code":10001,"message":"entity missing","data":null}', WHAT)
    assert (info.value.code, info.value.message) == (10001, "entity missing")


def test_code_2100_is_an_authentication_error():
    with pytest.raises(AuthenticationError):
        decode_envelope(200, "OK", b'{"code":2100,"message":"token expired"}', WHAT)


def test_not_found_code():
    with pytest.raises(NotFoundError):
        decode_envelope(200, "OK", b'{"code":404,"message":"nope"}', WHAT)


def test_proxy_html_page_gives_status_and_excerpt():
    html = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    with pytest.raises(HTTPStatusError) as info:
        decode_envelope(502, "Bad Gateway", html, WHAT)
    assert info.value.status == 502
    assert "Bad Gateway" in info.value.body_excerpt
    assert "<h1>" not in info.value.body_excerpt
    assert "502" in str(info.value)


def test_truncated_json_with_200():
    with pytest.raises(InvalidResponseError) as info:
        decode_envelope(200, "OK", b'{"code":200,"data":{"_id":"a', WHAT)
    assert "not JSON" in info.value.message and WHAT in info.value.message


def test_html_with_200_is_invalid_response():
    with pytest.raises(InvalidResponseError):
        decode_envelope(200, "OK", b"<!doctype html><p>login</p>", WHAT)


@pytest.mark.parametrize(
    "body", [b"[]", b'"x"', b'{"data":1}', b'{"code":"200"}', b'{"code":true}']
)
def test_json_that_is_not_an_envelope(body):
    with pytest.raises(InvalidResponseError):
        decode_envelope(200, "OK", body, WHAT)


def test_excerpt_is_short_and_single_line():
    text = excerpt(b"<p>" + b"word\n" * 500 + b"</p>")
    assert len(text) <= 200 and "\n" not in text


def test_a_deeply_nested_reply_never_runs_finalizers_out_of_stack() -> None:
    """A reply nested 100,000 deep recurses to the interpreter's limit inside the parser; a
    garbage collection starting there would run other objects' finalizers with no stack left
    (an "unraisable" RecursionError, which showed up in the garbage-reply tests). The parser
    runs with the collector paused: over many parses at some depth, no finalizer fails."""
    import gc
    import random
    import sys

    from lumi.envelope import decode_envelope
    from lumi.errors import InvalidResponseError

    deep = b"[" * 100_000 + b"]" * 100_000
    failures: list[str] = []

    def finalizer_with_work():  # a suspended generator: its `finally` runs when collected
        try:
            yield
        finally:
            def down(n: int) -> int:
                return down(n - 1) if n else 0

            down(40)

    class Cycle:
        def __init__(self) -> None:
            self.me = self
            self.gen = finalizer_with_work()
            next(self.gen)

    def nested(n: int) -> None:  # a caller some frames deep, as in a web app or a test run
        if n:
            return nested(n - 1)
        with pytest.raises(InvalidResponseError, match="not JSON"):
            decode_envelope(200, "OK", deep, "GET /x")
        return None

    rng = random.Random(7)
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: failures.append(repr(unraisable.exc_value))
    try:
        assert gc.isenabled()
        for _ in range(300):
            Cycle()
            padding = [[] for _ in range(rng.randrange(700))]  # shifts when a collection starts
            nested(250)
            del padding
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert gc.isenabled()  # paused only during the parse
    assert failures == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]


@given(
    st.one_of(
        st.tuples(_JSON, st.sampled_from(_ENCODINGS)).map(
            lambda pair: json.dumps(pair[0], ensure_ascii=False).encode(pair[1], "surrogatepass")
        ),
        st.binary(max_size=40).map(lambda tail: b"{" + tail),
    )
)
def test_decode_json_reads_as_json_loads_does(body: bytes) -> None:
    """The UTF-8 shortcut changes no result: same value, or an error both ways."""
    try:
        expected = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        with pytest.raises(InvalidResponseError):
            decode_json(200, body, WHAT)
    else:
        assert decode_json(200, body, WHAT) == expected
