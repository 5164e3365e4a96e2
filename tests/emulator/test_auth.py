"""Sign-up with a one-time code, sign-in, password reset, tokens and roles."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from lumi.emulator.cli import emulator as emulator_command
from lumi.emulator.server import Emulator

from .conftest import PID, Api, FakeClock, sha

USER_KEYS = {"userId", "email", "userName", "userRole", "createdTime"}


def test_sign_up_with_the_mailed_code(api: Api, emu: Emulator) -> None:
    api.send_otp("ann@example.com")
    [mail] = emu.outbox(PID)
    assert mail["kind"] == "otp" and mail["to"] == ["ann@example.com"]
    code = emu.latest_otp("ann@example.com")
    assert code is not None and len(code) == 6 and code.isdigit()
    assert code in mail["text"]
    body = {
        "projectId": PID,
        "email": "ann@example.com",
        "password": sha("pw"),
        "code": code,
        "userName": "Ann",
    }
    user = api.ok("POST", "/lm/user/password/register", body)
    assert set(user) == USER_KEYS | {"userToken"}
    assert user["userName"] == "Ann" and user["userRole"] == "ADMIN"
    info = api.ok("POST", "/lm/user/info", token=user["userToken"])
    assert info == {key: user[key] for key in USER_KEYS}


def test_a_code_is_single_use(api: Api, emu: Emulator) -> None:
    api.sign_up(emu, "bob@example.com")
    api.send_otp("bob2@example.com")
    code = emu.latest_otp("bob2@example.com")
    body = {"projectId": PID, "email": "bob2@example.com", "password": sha("x"), "code": code}
    api.ok("POST", "/lm/user/password/register", body)
    body["email"] = "bob2@example.com"
    assert api.error("POST", "/lm/user/password/register", body)["code"] == 10409
    # reset with an already consumed register code
    reset = {"projectId": PID, "email": "bob2@example.com", "newPassword": sha("y"), "code": code}
    reply = api.error("POST", "/lm/user/password/reset", reset)
    assert reply["code"] == 10400 and "no resetPassword code" in reply["message"]


def test_wrong_and_expired_codes(api: Api, emu: Emulator, clock: FakeClock) -> None:
    api.send_otp("cy@example.com")
    code = emu.latest_otp("cy@example.com")
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"projectId": PID, "email": "cy@example.com", "password": sha("x"), "code": wrong}
    reply = api.error("POST", "/lm/user/password/register", body)
    assert reply == {"code": 10400, "message": "wrong one-time code", "data": None}
    clock.advance(601)
    body["code"] = code
    reply = api.error("POST", "/lm/user/password/register", body)
    assert "expired" in reply["message"]


def test_too_many_wrong_codes_void_the_code(api: Api, emu: Emulator) -> None:
    api.send_otp("dee@example.com")
    code = emu.latest_otp("dee@example.com")
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"projectId": PID, "email": "dee@example.com", "password": sha("x"), "code": wrong}
    for _ in range(5):
        api.error("POST", "/lm/user/password/register", body)
    body["code"] = code
    assert "request one first" in api.error("POST", "/lm/user/password/register", body)["message"]


def test_a_new_code_replaces_the_old_one(api: Api, emu: Emulator) -> None:
    api.send_otp("eve@example.com")
    first = emu.latest_otp("eve@example.com")
    for _ in range(10):  # draw until the code differs (1 in a million to repeat)
        api.send_otp("eve@example.com")
        if emu.latest_otp("eve@example.com") != first:
            break
    body = {"projectId": PID, "email": "eve@example.com", "password": sha("x"), "code": first}
    assert api.error("POST", "/lm/user/password/register", body)["code"] == 10400


def test_sign_in_and_wrong_password(api: Api, emu: Emulator) -> None:
    created = api.sign_up(emu, "fay@example.com", "right")
    reply = api.sign_in("fay@example.com", "right")
    assert reply["code"] == 200 and reply["data"]["userId"] == created["userId"]
    assert reply["data"]["userToken"] != created["userToken"]
    assert api.sign_in("fay@example.com", "wrong")["code"] == 10401
    assert api.sign_in("nobody@example.com", "right")["code"] == 10401
    assert api.sign_in("FAY@example.com", "right")["code"] == 200  # emails are case-insensitive


def test_password_must_be_a_sha256_digest(api: Api, emu: Emulator) -> None:
    body = {"projectId": PID, "email": "g@example.com", "password": "plain text"}
    reply = api.error("POST", "/lm/user/password/login", body)
    assert reply["code"] == 10400 and "SHA-256" in reply["message"]


def test_missing_fields_are_named(api: Api) -> None:
    reply = api.error("POST", "/lm/user/email/code/send", {"email": "a@b.co", "emailType": "x"})
    assert reply["message"] == "projectId is required"
    reply = api.error("POST", "/lm/user/email/code/send", {"projectId": PID, "email": "nope"})
    assert reply["message"] == "email must be an email address"
    body = {"projectId": PID, "email": "a@b.co", "emailType": "spam"}
    assert (
        "emailType must be one of" in api.error("POST", "/lm/user/email/code/send", body)["message"]
    )


def test_otp_for_a_registered_or_unknown_email(api: Api, emu: Emulator) -> None:
    api.sign_up(emu, "hal@example.com")
    body = {"projectId": PID, "email": "hal@example.com", "emailType": "register"}
    assert api.error("POST", "/lm/user/email/code/send", body)["code"] == 10409
    body = {"projectId": PID, "email": "who@example.com", "emailType": "resetPassword"}
    assert api.error("POST", "/lm/user/email/code/send", body)["code"] == 10404


def test_reset_password_revokes_tokens(api: Api, emu: Emulator) -> None:
    user = api.sign_up(emu, "ida@example.com", "old")
    api.send_otp("ida@example.com", "resetPassword")
    mail = emu.outbox(PID)[-1]
    assert mail["emailType"] == "resetPassword"
    body = {
        "projectId": PID,
        "email": "ida@example.com",
        "newPassword": sha("new"),
        "code": emu.latest_otp("ida@example.com"),
    }
    assert api.ok("POST", "/lm/user/password/reset", body) is None
    assert api.sign_in("ida@example.com", "old")["code"] == 10401
    assert api.sign_in("ida@example.com", "new")["code"] == 200
    assert api.error("POST", "/lm/user/info", token=user["userToken"])["code"] == 2100


def test_first_user_is_admin_then_users(api: Api, emu: Emulator) -> None:
    assert api.sign_up(emu, "a1@example.com")["userRole"] == "ADMIN"
    assert api.sign_up(emu, "a2@example.com")["userRole"] == "USER"
    # projects are separate: the first user of another project is its admin
    assert api.sign_up(emu, "a2@example.com", project="p_other")["userRole"] == "ADMIN"
    assert emu.set_role("a2@example.com", "ADMIN", PID)["userRole"] == "ADMIN"
    assert api.sign_in("a2@example.com")["data"]["userRole"] == "ADMIN"
    roles = {u["email"]: u["userRole"] for u in emu.users(PID)}
    assert roles == {"a1@example.com": "ADMIN", "a2@example.com": "ADMIN"}


def test_set_role_over_http(api: Api, emu: Emulator) -> None:
    api.sign_up(emu, "b1@example.com")
    body = {"projectId": PID, "email": "b1@example.com", "userRole": "USER"}
    reply = api.http.post(
        emu.url + "/_emulator/users/role", json=body, headers=emu.private_headers
    ).json()
    assert reply["code"] == 200 and reply["data"]["userRole"] == "USER"
    body["userRole"] = "ROOT"
    reply = api.http.post(
        emu.url + "/_emulator/users/role", json=body, headers=emu.private_headers
    ).json()
    assert reply["code"] == 10400 and "userRole must be one of" in reply["message"]


def test_tokens_expire(api: Api, emu: Emulator, clock: FakeClock) -> None:
    user = api.sign_up(emu, "jo@example.com")
    assert api.ok("POST", "/lm/user/info", token=user["userToken"])["email"] == "jo@example.com"
    clock.advance(7 * 24 * 3600 + 1)
    reply = api.error("POST", "/lm/user/info", token=user["userToken"])
    assert reply["code"] == 2100 and "expired" in reply["message"]


def test_invalid_tokens_answer_2100(api: Api, emu: Emulator) -> None:
    assert api.error("POST", "/lm/user/info", token="made-up")["code"] == 2100
    assert api.error("POST", "/lm/user/info")["code"] == 2100
    reply = api.error("POST", "/lm/user/info", headers={"Authorization": "Basic abc"})
    assert reply["code"] == 2100 and "Bearer" in reply["message"]
    # a bad token is refused on project calls too, and a token is bound to its project
    assert api.error("POST", f"/lm/{PID}/x/documents/list", {}, token="made-up")["code"] == 2100
    user = api.sign_up(emu, "kim@example.com")
    reply = api.error("POST", "/lm/p_else/x/documents/list", {}, token=user["userToken"])
    assert reply["code"] == 2100 and "another project" in reply["message"]


def test_secrets_are_hashed_at_rest(api: Api, emu: Emulator) -> None:
    user = api.sign_up(emu, "lee@example.com", "pw")
    conn = sqlite3.connect(emu.data_dir / "emulator.sqlite3")
    try:
        dump = "\n".join(conn.iterdump())
        (stored,) = conn.execute("SELECT password_hash FROM users").fetchone()
    finally:
        conn.close()
    assert stored.startswith("scrypt$")
    assert sha("pw") not in dump
    assert user["userToken"] not in dump


def test_set_role_command_on_a_data_dir(tmp_path: object) -> None:
    data = tmp_path / "data"  # type: ignore[operator]
    with Emulator(data_dir=data, fixed_otp="111111") as emu:
        api = Api(emu.url)
        api.sign_up(emu, "ops@example.com")
        api.sign_up(emu, "dev@example.com")
        runner = CliRunner()
        args = ["set-role", "dev@example.com", "ADMIN", "--project", PID, "--data", str(data)]
        result = runner.invoke(emulator_command, args)
        assert result.exit_code == 0, result.output
        assert "dev@example.com is now ADMIN" in result.output
        assert api.sign_in("dev@example.com")["data"]["userRole"] == "ADMIN"
        args[1] = "ghost@example.com"
        result = runner.invoke(emulator_command, args)
        assert result.exit_code != 0 and "no user with email ghost@example.com" in result.output
