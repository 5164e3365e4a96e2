"""Fixtures for the emulator tests: one shared emulator (reset per test) and a signed HTTP helper.

Everything goes over real HTTP with ``requests`` and ``lumi.signing.sign_headers``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lumi.emulator.server import Emulator
from lumi.signing import sign_headers

HERE = Path(__file__).resolve().parent
FUNCTIONS_FILE = HERE / "sample_functions.py"
API_KEY = "gi_test_key"
MAX_FILE_SIZE = 64 * 1024
PID = "p_emu"
_NO_BODY: Any = object()


class FakeClock:
    """Real time plus an offset that tests move forward."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


def sha(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Api:
    """Signed calls to an emulator, signed at the emulator's (fake) time."""

    def __init__(self, url: str, clock: Any = time.time) -> None:
        self.url = url
        self.clock = clock
        self.http = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        body: Any = _NO_BODY,
        *,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        raw: bytes | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        stream: bool = False,
    ) -> requests.Response:
        data = raw
        if body is not _NO_BODY:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        all_headers: dict[str, str] = {}
        if data is not None and files is None:
            all_headers["Content-Type"] = "application/json"
        if sign:
            all_headers.update(sign_headers(params, None if files else data, now=self.clock()))
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return self.http.request(
            method,
            self.url + path,
            data=data,
            params=params,
            files=files,
            headers=all_headers,
            stream=stream,
            timeout=30,
        )

    def envelope(self, method: str, path: str, body: Any = _NO_BODY, **kw: Any) -> dict[str, Any]:
        response = self.request(method, path, body, **kw)
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        assert set(reply) == {"code", "message", "data"}, reply
        return reply

    def ok(self, method: str, path: str, body: Any = _NO_BODY, **kw: Any) -> Any:
        reply = self.envelope(method, path, body, **kw)
        assert reply["code"] == 200, reply
        return reply["data"]

    def error(self, method: str, path: str, body: Any = _NO_BODY, **kw: Any) -> dict[str, Any]:
        reply = self.envelope(method, path, body, **kw)
        assert reply["code"] != 200, reply
        assert reply["data"] is None
        return reply

    # --- flows ------------------------------------------------------------------------------
    def send_otp(self, email: str, kind: str = "register", project: str = PID) -> None:
        body = {"projectId": project, "email": email, "emailType": kind}
        self.ok("POST", "/lm/user/email/code/send", body)

    def sign_up(
        self, emu: Emulator, email: str, password: str = "secret", project: str = PID
    ) -> dict[str, Any]:
        self.send_otp(email, project=project)
        code = emu.latest_otp(email, project)
        body = {"projectId": project, "email": email, "password": sha(password), "code": code}
        user: dict[str, Any] = self.ok("POST", "/lm/user/password/register", body)
        return user

    def sign_in(self, email: str, password: str = "secret", project: str = PID) -> Any:
        body = {"projectId": project, "email": email, "password": sha(password)}
        return self.envelope("POST", "/lm/user/password/login", body)


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def shared_emulator(clock: FakeClock) -> Iterator[Emulator]:
    with Emulator(
        functions=FUNCTIONS_FILE, api_key=API_KEY, max_file_size=MAX_FILE_SIZE, clock=clock
    ) as emulator:
        yield emulator


@pytest.fixture
def emu(shared_emulator: Emulator, clock: FakeClock) -> Emulator:
    shared_emulator.reset()
    clock.offset = 0.0
    return shared_emulator


@pytest.fixture
def api(emu: Emulator, clock: FakeClock) -> Iterator[Api]:
    client = Api(emu.url, clock)
    yield client
    client.http.close()
