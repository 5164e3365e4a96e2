"""The signature gate: every protocol endpoint verifies X-Timestamp, X-Nonce and X-Sign."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug.datastructures import Headers

from lumi.emulator.envelope import EmulatorError
from lumi.emulator.server import Emulator
from lumi.signing import sign_headers, signature

from .conftest import PID, Api

LIST = f"/lm/{PID}/posts/documents/list"


def test_a_correct_signature_is_accepted(api: Api) -> None:
    assert api.ok("POST", LIST, {}) == []


def test_missing_headers_are_named(api: Api) -> None:
    reply = api.error("POST", LIST, {}, sign=False)
    assert reply["code"] == 10403
    assert "X-Timestamp" in reply["message"] and "X-Sign" in reply["message"]


def test_a_wrong_signature_is_refused(api: Api) -> None:
    body = b'{"filter":{}}'
    headers = sign_headers(None, body, now=api.clock())
    headers["X-Sign"] = sign_headers(None, b"{}", now=api.clock())["X-Sign"]
    reply = api.error("POST", LIST, raw=body, sign=False, headers=headers)
    assert reply["code"] == 10403 and "X-Sign does not match" in reply["message"]


def test_the_body_bytes_are_what_is_signed(api: Api) -> None:
    signed = b'{"filter":{"t":"\xc3\xa9"}}'
    sent = json.dumps({"filter": {"t": "é"}}).encode()  # same JSON, other bytes (\u00e9, spaces)
    headers = {**sign_headers(None, signed, now=api.clock()), "Content-Type": "application/json"}
    assert api.error("POST", LIST, raw=sent, sign=False, headers=headers)["code"] == 10403
    headers = {**sign_headers(None, signed, now=api.clock()), "Content-Type": "application/json"}
    assert api.ok("POST", LIST, raw=signed, sign=False, headers=headers) == []


def test_the_query_is_signed(api: Api) -> None:
    path = f"/lm/{PID}/posts/documents/batch-by-ids"
    headers = sign_headers({"ids": "a"}, None, now=api.clock())
    reply = api.error("DELETE", path, params={"ids": "b"}, sign=False, headers=headers)
    assert reply["code"] == 10403


def test_repeated_query_keys_are_signed_joined_by_commas(api: Api) -> None:
    ids = ["6939311e8458665713e0b522", "6939311e8458665713e0b523"]
    path = f"/lm/{PID}/posts/documents/batch-by-ids"
    # What the JS client signs: String(["a","b"]) == "a,b".
    headers = sign_headers({"ids": ",".join(ids)}, None, now=api.clock())
    assert api.ok("DELETE", path, params={"ids": ids}, sign=False, headers=headers) is None


def test_old_and_future_timestamps_are_refused(api: Api) -> None:
    for skew in (-301, 301):
        headers = sign_headers(None, b"{}", now=api.clock() + skew)
        reply = api.error("POST", LIST, raw=b"{}", sign=False, headers=headers)
        assert reply["code"] == 10403 and "X-Timestamp" in reply["message"]
    headers = sign_headers(None, b"{}", now=api.clock() - 290)
    assert api.ok("POST", LIST, raw=b"{}", sign=False, headers=headers) == []


def test_a_non_numeric_timestamp_is_refused(api: Api) -> None:
    headers = sign_headers(None, b"{}", now=api.clock())
    headers["X-Timestamp"] = "soon"
    reply = api.error("POST", LIST, raw=b"{}", sign=False, headers=headers)
    assert reply["code"] == 10403 and "Unix seconds" in reply["message"]


def test_a_reused_nonce_is_refused(api: Api) -> None:
    headers = sign_headers(None, b"{}", now=api.clock())
    assert api.ok("POST", LIST, raw=b"{}", sign=False, headers=headers) == []
    reply = api.error("POST", LIST, raw=b"{}", sign=False, headers=headers)
    assert reply["code"] == 10403 and "X-Nonce was already used" in reply["message"]


def test_a_bad_signature_does_not_burn_the_nonce(api: Api) -> None:
    headers = sign_headers(None, b"{}", now=api.clock())
    bad = {**headers, "X-Sign": "AAAA"}
    assert api.error("POST", LIST, raw=b"{}", sign=False, headers=bad)["code"] == 10403
    assert api.ok("POST", LIST, raw=b"{}", sign=False, headers=headers) == []


def test_nonces_are_remembered_for_the_window_only() -> None:
    now = [time.time()]
    with Emulator(clock=lambda: now[0]) as emu:
        checker = emu.services.signatures

        def check(nonce: str) -> None:
            timestamp = str(int(now[0]))
            sign = signature(None, timestamp, nonce, b"")
            headers = Headers({"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Sign": sign})
            checker.check({}, headers, b"")

        check("abcdefghijk")
        with pytest.raises(EmulatorError, match="already used"):
            check("abcdefghijk")
        now[0] += 301
        check("abcdefghijk")  # its timestamp is out of the window: a replay is refused anyway
        for index in range(5000):  # one request a second: about 300 nonces are live at a time
            now[0] += 1
            check(f"n{index:010d}")
        assert checker.live_nonces() < 300 + 300 + 256  # the window, both sides, one pruning lag
        assert Api(emu.url, clock=lambda: now[0]).ok("POST", LIST, {}) == []
