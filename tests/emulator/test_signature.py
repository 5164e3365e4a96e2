"""The signature gate: every protocol endpoint verifies X-Timestamp, X-Nonce and X-Sign."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
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
        assert checker.live_nonces() < 2100  # bounded: memory and database alike
        assert Api(emu.url, clock=lambda: now[0]).ok("POST", LIST, {}) == []


def test_a_replay_after_a_restart_on_the_same_data_is_refused(tmp_path: Path) -> None:
    """Nonces live in the data folder's database: restarting does not reopen the window."""
    body = json.dumps({"title": "once"}).encode()
    create = f"/lm/{PID}/posts/documents"
    with Emulator(data_dir=tmp_path) as emu:
        headers = {"Content-Type": "application/json", **sign_headers(None, body)}
        first = requests.post(emu.url + create, data=body, headers=headers, timeout=10).json()
        assert first["code"] == 200
        port = emu.port
    with Emulator(data_dir=tmp_path, port=port) as again:
        replay = requests.post(again.url + create, data=body, headers=headers, timeout=10).json()
        assert replay["code"] == 10403 and "already used" in replay["message"]
        listed = Api(again.url).ok("POST", f"{create}/list", {})
        assert [d["title"] for d in listed] == ["once"]  # created exactly once


def test_a_temporary_emulator_forgets_nonces_with_its_data() -> None:
    headers = sign_headers(None, b"{}")
    for _ in range(2):  # two fresh temporary emulators: the same request is new to each
        with Emulator() as emu:
            reply = requests.post(emu.url + LIST, data=b"{}", headers=headers, timeout=10).json()
            assert reply["code"] == 200


def test_nonces_are_refused_across_concurrent_requests(api: Api) -> None:
    """Eight threads send the same signed request at once: exactly one gets through."""
    headers = {"Content-Type": "application/json", **sign_headers(None, b'{"t":1}')}
    url = api.url + f"/lm/{PID}/posts/documents"
    barrier = threading.Barrier(8)

    def send() -> int:
        barrier.wait()
        code: int = requests.post(url, data=b'{"t":1}', headers=headers, timeout=30).json()["code"]
        return code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: send(), range(8)))
    assert codes == [200] + [10403] * 7
    assert len(api.ok("POST", LIST, {})) == 1


def test_an_overlong_nonce_is_refused(api: Api) -> None:
    headers = sign_headers(None, b"{}", now=api.clock())
    headers["X-Nonce"] = "n" * 65
    reply = api.error("POST", LIST, raw=b"{}", sign=False, headers=headers)
    assert reply["code"] == 10403 and "longer than 64" in reply["message"]


@pytest.mark.parametrize("chunked", [False, True])
def test_a_get_with_a_body_is_signed_over_that_body(api: Api, chunked: bool) -> None:
    """A body on a GET is read and signed like any other (the emulator skips reading only
    where there is provably none), also when it arrives chunked, without Content-Length."""
    created = api.ok("POST", f"/lm/{PID}/posts/documents", {"t": 1})
    path = f"/lm/{PID}/posts/documents/{created['_id']}"
    body = b'{"x":1}'
    data: Any = iter([body]) if chunked else body  # a generator: requests sends it chunked
    signed_empty = sign_headers(None, None, now=api.clock())
    refused = api.error("GET", path, raw=data, sign=False, headers=signed_empty)
    assert refused["code"] == 10403 and "X-Sign does not match" in refused["message"]
    data = iter([body]) if chunked else body
    signed_body = sign_headers(None, body, now=api.clock())
    assert api.ok("GET", path, raw=data, sign=False, headers=signed_body)["t"] == 1
