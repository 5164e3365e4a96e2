"""Functions from --functions FILE answer /v1/functions/{pid}/{name}: not enveloped, not signed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from lumi.emulator.server import Emulator

from .conftest import PID, Api


def url(emu: Emulator, name: str) -> str:
    return f"{emu.url}/v1/functions/{PID}/{name}"


def test_request_attributes(emu: Emulator) -> None:
    response = requests.post(
        url(emu, "echo"),
        params={"a": "1", "ids": ["x", "y"]},
        json={"hello": "world"},
        headers={"X-Custom": "yes"},
        timeout=10,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["method"] == "POST"
    assert data["query"] == {"a": "1", "ids": ["x", "y"]}
    assert data["header"] == "yes"
    assert data["json"] == {"hello": "world"}
    assert data["body"] == '{"hello": "world"}'
    assert data["user"] is None
    assert data["projectId"] == PID and data["name"] == "echo"
    assert data["apiBaseUrl"] == emu.url


def test_any_method_and_a_raw_body(emu: Emulator) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        assert requests.request(method, url(emu, "echo"), timeout=10).json()["method"] == method
    data = requests.post(url(emu, "echo"), data=b"a=1&b=2", timeout=10).json()
    assert data["json"] is None and data["body"] == "a=1&b=2"


def test_user_from_the_bearer_token(api: Api, emu: Emulator) -> None:
    user = api.sign_up(emu, "fn@example.com")
    headers = {"Authorization": f"Bearer {user['userToken']}"}
    data = requests.get(url(emu, "echo"), headers=headers, timeout=10).json()
    assert data["user"]["userId"] == user["userId"] and data["user"]["email"] == "fn@example.com"
    data = requests.get(url(emu, "echo"), headers={"Authorization": "Bearer junk"}, timeout=10)
    assert data.json()["user"] is None


def test_return_forms(emu: Emulator) -> None:
    created = requests.post(url(emu, "created"), timeout=10)
    assert created.status_code == 201 and created.json() == {"created": True}
    teapot = requests.get(url(emu, "teapot"), timeout=10)
    assert teapot.status_code == 418 and teapot.text == "short and stout"
    nothing = requests.get(url(emu, "nothing"), timeout=10)
    assert nothing.status_code == 200 and nothing.json() is None


def test_failures(emu: Emulator) -> None:
    boom = requests.get(url(emu, "boom"), timeout=10)
    assert boom.status_code == 500 and boom.json() == {
        "error": "function 'boom' raised RuntimeError: kaput"
    }
    bad = requests.get(url(emu, "not_json"), timeout=10)
    assert bad.status_code == 500 and "not JSON" in bad.json()["error"]
    for name in ("missing", "_private_helper", "FunctionRequest"):
        unknown = requests.get(url(emu, name), timeout=10)
        assert unknown.status_code == 404, name
        assert unknown.json()["error"].startswith(f"unknown function '{name}'")


def test_without_a_functions_file() -> None:
    with Emulator() as emu:
        response = requests.get(url(emu, "echo"), timeout=10)
    assert response.status_code == 404 and "--functions" in response.json()["error"]


def test_a_missing_or_broken_file_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="functions file not found"):
        Emulator(functions=tmp_path / "none.py")
    broken = tmp_path / "broken.py"
    broken.write_text("def oops(:\n")
    with pytest.raises(ValueError, match="cannot load functions file"):
        Emulator(functions=broken)


def test_edits_are_reloaded(tmp_path: Path) -> None:
    source = tmp_path / "live.py"
    source.write_text("def hello(request):\n    return 'v1'\n")
    with Emulator(functions=source) as emu:
        assert requests.get(url(emu, "hello"), timeout=10).json() == "v1"
        source.write_text("def hello(request):\n    return 'v2'\n")
        stamp = time.time() + 5
        os.utime(source, (stamp, stamp))
        assert requests.get(url(emu, "hello"), timeout=10).json() == "v2"
        source.write_text("def hello(request:\n")
        os.utime(source, (stamp + 5, stamp + 5))
        broken = requests.get(url(emu, "hello"), timeout=10)
        assert broken.status_code == 500 and "cannot load functions file" in broken.json()["error"]
