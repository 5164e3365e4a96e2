"""Who reaches the emulator: the Host allowlist on every route, the private token on /_emulator/*,
no CORS there, the browser login cookie with its CSRF rule, and how the CLI finds the token."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from lumi.emulator import runtime
from lumi.emulator.access import AccessPolicy, host_name
from lumi.emulator.app import ROUTES, Kind
from lumi.emulator.envelope import EmulatorError
from lumi.emulator.server import Emulator
from lumi.events.cli import events as events_command

from .conftest import PID, Api

TOKEN_HEADER = "X-Lumi-Emulator-Token"
#: The console's pages (their paths take values): tests/console checks each of them.
CONSOLE = "/_emulator/ui/"
PRIVATE_GETS = [
    path
    for path, methods, _, kind in ROUTES
    if kind is Kind.PRIVATE and methods == ["GET"] and not path.startswith(CONSOLE)
]
PRIVATE_POSTS = [
    path
    for path, methods, _, kind in ROUTES
    if kind is Kind.PRIVATE and methods == ["POST"] and not path.startswith(CONSOLE)
]


def refused(response: requests.Response) -> str:
    assert response.status_code == 403, response.text
    reply = response.json()
    assert reply["code"] == 10403 and reply["data"] is None
    assert "Access-Control-Allow-Origin" not in response.headers
    message: str = reply["message"]
    return message


def test_the_private_route_table_is_what_the_readme_lists() -> None:
    assert sorted(PRIVATE_GETS) == [
        "/_emulator",
        "/_emulator/events",
        "/_emulator/otp",
        "/_emulator/outbox",
        "/_emulator/users",
    ]
    assert sorted(PRIVATE_POSTS) == ["/_emulator/reset", "/_emulator/users/role"]
    # Everything under /_emulator/ is private (the login route checks its own token).
    for path, _, _, kind in ROUTES:
        if path.startswith("/_emulator"):
            assert kind in (Kind.PRIVATE, Kind.LOGIN), path


@pytest.mark.parametrize("path", PRIVATE_GETS + PRIVATE_POSTS)
def test_private_routes_refuse_without_the_token(emu: Emulator, path: str) -> None:
    method = "POST" if path in PRIVATE_POSTS else "GET"
    api = Api(emu.url)
    api.sign_up(emu, "keep@example.com")
    message = refused(requests.request(method, emu.url + path, json={}, timeout=10))
    assert TOKEN_HEADER in message and emu.private_token not in message
    wrong = requests.request(method, emu.url + path, headers={TOKEN_HEADER: "nope"}, timeout=10)
    assert "wrong" in refused(wrong)
    non_ascii = {TOKEN_HEADER: "é".encode().decode("latin-1")}
    refused(requests.request(method, emu.url + path, headers=non_ascii, timeout=10))
    assert [u["email"] for u in emu.users()] == ["keep@example.com"]  # nothing was reset


def test_private_routes_answer_with_the_token_and_never_with_cors(emu: Emulator) -> None:
    Api(emu.url).send_otp("o@example.com")
    response = requests.get(
        emu.url + "/_emulator/otp",
        params={"email": "o@example.com"},
        headers=emu.private_headers,
        timeout=10,
    )
    assert response.status_code == 200 and len(response.json()["data"]["otp"]) == 6
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:3000", "null"])
def test_private_routes_refuse_another_origin_even_with_the_token(
    emu: Emulator, origin: str
) -> None:
    headers = {**emu.private_headers, "Origin": origin}
    assert "another origin" in refused(
        requests.get(emu.url + "/_emulator/users", headers=headers, timeout=10)
    )
    assert "another origin" in refused(
        requests.post(emu.url + "/_emulator/reset", headers=headers, timeout=10)
    )
    own = {**emu.private_headers, "Origin": emu.url}
    assert requests.get(emu.url + "/_emulator/users", headers=own, timeout=10).status_code == 200


def test_a_private_preflight_gets_no_cors(emu: Emulator) -> None:
    preflight = requests.options(
        emu.url + "/_emulator/users/role",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    refused(preflight)
    public = requests.options(emu.url + f"/lm/{PID}/e/documents/list", timeout=10)
    assert public.status_code == 204 and public.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8787", "127.0.0.1.nip.io", "localhost.evil.example"]
)
def test_a_foreign_host_is_refused_on_every_kind_of_route(emu: Emulator, host: str) -> None:
    api = Api(emu.url)
    headers = {"Host": host}
    signed = api.request("POST", f"/lm/{PID}/e/documents", {"a": 1}, headers=headers)
    assert "DNS rebinding" in refused(signed)
    for path in ("/", "/openapi.yaml", "/_emulator/users", "/_emulator/login?token=x"):
        both = {**headers, **emu.private_headers}
        refused(requests.get(emu.url + path, headers=both, timeout=10))
    refused(requests.options(emu.url + f"/lm/{PID}/e/documents", headers=headers, timeout=10))
    assert api.ok("POST", f"/lm/{PID}/e/documents/list", {}) == []  # nothing was written


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_local_names_are_allowed(emu: Emulator, host: str) -> None:
    headers = {"Host": f"{host}:{emu.port}"}
    assert requests.get(emu.url + "/", headers=headers, timeout=10).status_code == 200


def test_names_given_at_start_up_are_allowed() -> None:
    with Emulator(allowed_hosts=["dev.example.test", "Box.Local"]) as emu:
        for host in ("dev.example.test", "box.local:8080"):
            response = requests.get(emu.url + "/", headers={"Host": host}, timeout=10)
            assert response.status_code == 200, host
            assert response.json()["apiBaseUrl"] == f"http://{host}"
        refused(requests.get(emu.url + "/", headers={"Host": "other.test"}, timeout=10))


def test_host_names_are_parsed_like_browsers_send_them() -> None:
    assert host_name("[::1]:8787") == "::1"
    assert host_name("LocalHost:1") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_name("[::1") == "[::1"
    policy = AccessPolicy(allowed_hosts=["  ", "x.test"])
    assert policy.allowed_hosts == {"localhost", "127.0.0.1", "::1", "x.test"}
    assert policy.token not in repr(policy)



def test_remembering_allowed_hosts_never_lets_another_through() -> None:
    policy = AccessPolicy(allowed_hosts=["x.test"])
    for port in range(200):  # more distinct allowed values than are remembered
        policy.check_host(f"localhost:{port}")
        policy.check_host(f"X.test:{port}")
    for _ in range(2):
        for host in ("evil.test", "localhost.evil.test:1", "x.test.evil:2", "[::2]:1"):
            with pytest.raises(EmulatorError) as refused_host:
                policy.check_host(host)
            assert refused_host.value.status == 403
    policy.check_host("localhost:199")  # still allowed, remembered or not
    policy.check_host("x.test:1000")


# --- the browser login ----------------------------------------------------------------------
def _login(emu: Emulator, session: requests.Session, next_path: str = "/_emulator/users") -> Any:
    return session.get(emu.login_url(next_path), allow_redirects=False, timeout=10)


def test_the_login_url_sets_a_strict_http_only_cookie_and_redirects(emu: Emulator) -> None:
    session = requests.Session()
    response = _login(emu, session)
    assert response.status_code == 303 and response.headers["Location"] == "/_emulator/users"
    cookie = response.headers["Set-Cookie"]
    assert f"lumi_emulator_{emu.port}={emu.private_token}" in cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/_emulator/"):
        assert attribute in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Access-Control-Allow-Origin" not in response.headers
    followed = session.get(emu.url + "/_emulator/users", timeout=10)  # the cookie alone
    assert followed.status_code == 200 and followed.json()["data"] == []


def test_a_wrong_login_token_or_a_foreign_next_is_refused(emu: Emulator) -> None:
    session = requests.Session()
    bad = session.get(emu.url + "/_emulator/login?token=nope", allow_redirects=False, timeout=10)
    assert "wrong" in refused(bad) and not session.cookies
    for next_path in ("//evil.example/", "https://evil.example/", "/\\evil.example", "x", "/a b"):
        assert "next must be a path" in refused(_login(emu, session, next_path)), next_path
    assert not session.cookies


def test_cookie_requests_that_change_state_need_the_own_origin(emu: Emulator) -> None:
    session = requests.Session()
    _login(emu, session)
    Api(emu.url).sign_up(emu, "csrf@example.com")
    body = {"projectId": PID, "email": "csrf@example.com", "userRole": "USER"}
    role = emu.url + "/_emulator/users/role"
    assert "must carry Origin" in refused(session.post(role, json=body, timeout=10))
    foreign = {"Origin": "http://localhost:3000"}  # same site, another origin
    refused(session.post(role, json=body, headers=foreign, timeout=10))
    assert emu.users(PID)[0]["userRole"] == "ADMIN"  # unchanged
    own = session.post(role, json=body, headers={"Origin": emu.url}, timeout=10)
    assert own.status_code == 200 and emu.users(PID)[0]["userRole"] == "USER"


def test_the_cookie_of_one_emulator_does_not_open_another() -> None:
    with Emulator() as first, Emulator() as second:
        session = requests.Session()
        _login(first, session)
        assert session.get(first.url + "/_emulator/users", timeout=10).status_code == 200
        # Cookies ignore ports: the cookie reaches the second emulator, and does not open it.
        refused(session.get(second.url + "/_emulator/users", timeout=10))


def test_the_cookie_from_a_previous_run_is_refused(tmp_path: Path) -> None:
    session = requests.Session()
    with Emulator(data_dir=tmp_path) as emu:
        _login(emu, session)
        port = emu.port
    with Emulator(data_dir=tmp_path, port=port) as again:
        refused(session.get(again.url + "/_emulator/users", timeout=10))


# --- public routes --------------------------------------------------------------------------
def test_public_routes_need_no_token_and_keep_cors(api: Api, emu: Emulator) -> None:
    files = [("files", ("n.txt", b"data", "text/plain"))]
    [uploaded] = api.ok("POST", f"/lm/{PID}/file/batch", files=files)
    assert uploaded["fileUrl"].startswith(f"{emu.url}/files/{PID}/")
    for url in (uploaded["fileUrl"], emu.url + "/openapi.yaml", emu.url + "/"):
        response = requests.get(url, headers={"Origin": "http://localhost:3000"}, timeout=10)
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert emu.private_token not in requests.get(emu.url + "/", timeout=10).text


# --- how the CLI finds the token ------------------------------------------------------------
def test_the_runtime_file_is_private_and_removed_at_stop(monkeypatch: Any) -> None:
    monkeypatch.delenv(runtime.ENV_TOKEN, raising=False)
    with Emulator() as emu:
        path = emu.runtime_file
        assert path is not None and path.name == f"emulator-{emu.port}.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        record = json.loads(path.read_text())
        assert record["token"] == emu.private_token and record["url"] == emu.url
        assert runtime.find_token(emu.url + "/_emulator/otp") == emu.private_token
        assert runtime.find_token(f"http://localhost:{emu.port}") == emu.private_token
        assert runtime.find_token(emu.url, "explicit") == "explicit"
        monkeypatch.setenv(runtime.ENV_TOKEN, "from-env")
        assert runtime.find_token(emu.url) == "from-env"
    assert not path.exists()
    monkeypatch.delenv(runtime.ENV_TOKEN)
    assert runtime.find_token(emu.url) is None
    assert runtime.find_token("http://[bad") is None


def test_a_stopping_emulator_leaves_a_newer_runtime_file_alone() -> None:
    with Emulator() as emu:
        path = emu.runtime_file
        assert path is not None
        path.write_text(json.dumps({"token": "someone else"}))
    assert path.exists()
    path.unlink()


def test_events_cli_finds_the_token_by_itself(emu: Emulator, monkeypatch: Any) -> None:
    monkeypatch.delenv(runtime.ENV_TOKEN, raising=False)
    result = CliRunner().invoke(events_command, ["tail", "--url", emu.url])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(events_command, ["sessions", "--url", emu.url, "--token", "x"])
    assert result.exit_code != 0 and "10403" in result.output


def test_the_token_env_variable_reaches_the_subcommands(emu: Emulator, monkeypatch: Any) -> None:
    from lumi.cli import cli

    monkeypatch.setenv(runtime.ENV_TOKEN, "wrong")
    result = CliRunner().invoke(cli, ["emulator", "outbox", "--url", emu.url])
    assert result.exit_code != 0 and "wrong for this run" in result.output
    monkeypatch.setenv(runtime.ENV_TOKEN, emu.private_token)
    result = CliRunner().invoke(cli, ["emulator", "outbox", "--url", emu.url])
    assert result.exit_code == 0 and "no mail" in result.output
    assert os.environ[runtime.ENV_TOKEN] == emu.private_token
