"""Django: the notes example (decorators and mixins), the middleware, the management command,
and a real threaded server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

import lumi
from lumi.contrib.django import get_integration
from lumi.emulator.server import Emulator
from lumi.events import Tracker
from lumi.testing.plugin import TEST_PROJECT_ID

from .concurrency import check_no_crossing, hammer, serving
from .conftest import PASSWORD, Account, turn_events
from .error_cases import ERROR_CASES, SECRET

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def lumi_settings(emulator: Emulator, **extra: Any) -> dict[str, Any]:
    return {
        "PROJECT_ID": TEST_PROJECT_ID,
        "API_BASE_URL": emulator.url,
        "API_KEY": "lk_test",
        **extra,
    }


@pytest.fixture
def configured(lumi_emulator: Emulator, tracker: Tracker) -> Iterator[None]:
    with override_settings(LUMI=lumi_settings(lumi_emulator, EVENTS_TRACKER=tracker)):
        yield


@pytest.fixture
def web(configured: None) -> Client:
    return Client()


def bearer(account: Account) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {account.token}"}


def test_sign_in_and_the_lazy_user(web: Client, accounts: dict[str, Account]):
    ada = accounts["ada"]
    reply = web.post(
        "/api/signin", {"email": ada.email, "password": PASSWORD}, content_type="application/json"
    )
    assert reply.status_code == 200 and reply.json()["user"]["userId"] == ada.user_id
    me = web.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {reply.json()['token']}")
    assert me.json()["email"] == ada.email
    assert web.get("/t/anonymous").json() == {
        "user_is_none": True,
        "lazy_user_falsy": True,
        "authenticated": False,
    }
    wrong = web.post(
        "/api/signin", {"email": ada.email, "password": "no"}, content_type="application/json"
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 10401


def test_crud_as_two_users_each_sees_only_their_own(web: Client, accounts: dict[str, Account]):
    ada, bob = bearer(accounts["ada"]), bearer(accounts["bob"])
    js = "application/json"
    first = web.post("/api/notes", {"title": "ada 1", "body": "x"}, content_type=js, **ada)
    web.post("/api/notes", {"title": "ada 2"}, content_type=js, **ada)
    web.post("/api/notes", {"title": "bob 1"}, content_type=js, **bob)
    assert first.status_code == 201 and first.json()["creator"] == accounts["ada"].user_id
    note = f"/api/notes/{first.json()['_id']}"
    assert [n["title"] for n in web.get("/api/notes", **ada).json()["notes"]] == ["ada 2", "ada 1"]
    assert [n["title"] for n in web.get("/api/notes", **bob).json()["notes"]] == ["bob 1"]
    assert web.get(note, **bob).status_code == 404
    assert web.patch(note, {"title": "h"}, content_type=js, **bob).status_code == 404
    assert web.delete(note, **bob).status_code == 404
    patched = web.patch(note, {"title": "ada 1b"}, content_type=js, **ada).json()
    assert (patched["title"], patched["body"]) == ("ada 1b", "x")
    assert web.delete(note, **ada).status_code == 204
    assert web.get(note, **ada).json()["error"]["code"] == 10404
    missing = web.post("/api/notes", {"body": "no title"}, content_type=js, **ada)
    assert missing.status_code == 400 and "'title'" in missing.json()["error"]["message"]
    anonymous = web.get("/api/notes")  # the mixin
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")


def test_admin_only_views(web: Client, accounts: dict[str, Account]):
    assert web.get("/api/admin/notes", **bearer(accounts["ada"])).json() == {
        "total": 0,
        "per_user": {},
    }
    denied = web.get("/api/admin/notes", **bearer(accounts["bob"]))  # the mixin
    assert denied.status_code == 403 and denied.json()["error"]["code"] == 10403
    assert web.get("/t/admin", **bearer(accounts["bob"])).status_code == 403  # the decorator
    assert web.get("/t/admin", **bearer(accounts["ada"])).json() == {"admin": True}
    bad = web.get("/t/admin", HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert bad.status_code == 401 and SECRET not in bad.content.decode()


def test_management_command_forwards_to_the_lumi_cli(
    web: Client, accounts: dict[str, Account], lumi_emulator: Emulator, capsys
):
    args = ["emulator", "set-role", "bob@example.com", "ADMIN", "--project", TEST_PROJECT_ID]
    call_command("lumi", *args, "--url", lumi_emulator.url)
    assert web.get("/t/admin", **bearer(accounts["bob"])).json() == {"admin": True}
    call_command("lumi", "emulator", "--help")
    assert "Run the local Lumi emulator" in capsys.readouterr().out
    with pytest.raises(CommandError, match="lumi exited with status"):
        call_command(
            "lumi",
            "emulator",
            "set-role",
            "x@y.z",
            "ADMIN",
            "--project",
            "p",
            "--url",
            "http://127.0.0.1:9",
        )


def test_ai_summary_is_a_turn_with_the_users_distinct_id(
    web: Client, accounts: dict[str, Account], tracker: Tracker, lumi_emulator: Emulator
):
    for account in accounts.values():
        note = web.post(
            "/api/notes",
            {"title": account.name},
            content_type="application/json",
            **bearer(account),
        ).json()
        reply = web.post(
            f"/api/notes/{note['_id']}/summary", HTTP_TRACEPARENT=TRACEPARENT, **bearer(account)
        )
        assert reply.status_code == 200 and account.name in reply.json()["summary"]
        assert reply["traceparent"].split("-")[1] == TRACE_ID
    assert tracker.flush(10)
    assert [(t["distinct_id"], t["session_id"]) for t in turn_events(lumi_emulator)] == [
        (accounts["ada"].user_id, TRACE_ID),
        (accounts["bob"].user_id, TRACE_ID),
    ]


@pytest.mark.parametrize("kind", sorted(ERROR_CASES))
def test_lumi_errors_become_json_answers(web: Client, kind: str):
    make, status, code, passed_on = ERROR_CASES[kind]
    reply = web.get(f"/t/raise/{kind}")
    assert reply.status_code == status and reply["Content-Type"] == "application/json"
    assert reply.json()["error"]["code"] == code
    assert (reply.json()["error"]["message"] == make().message) is passed_on
    assert SECRET not in reply.content.decode()


def test_error_handling_can_be_left_to_the_app(lumi_emulator: Emulator):
    settings = lumi_settings(lumi_emulator, HANDLE_ERRORS=False)
    with override_settings(LUMI=settings), pytest.raises(lumi.NotFoundError):
        Client().get("/t/raise/not_found")


def test_settings_changes_rebuild_the_integration_and_name_bad_settings(lumi_emulator: Emulator):
    with override_settings(LUMI=lumi_settings(lumi_emulator, EVENTS_ENDPOINT=lumi_emulator.url)):
        first = get_integration()
        assert first.tracker is not None and first.tracker.config.endpoint == lumi_emulator.url
        assert get_integration() is first
    assert get_integration() is not first  # override_settings ended: rebuilt from settings
    assert first.tracker.shutdown() is True  # the built tracker was shut down with it
    bad = override_settings(LUMI={"PROJECT_ID": "p", "TIMEOUTS": 3})
    with bad, pytest.raises(lumi.ValidationError, match=r"settings.LUMI\['TIMEOUTS'\]"):
        get_integration()


def test_threaded_server_never_mixes_users(
    configured: None, lumi_emulator: Emulator, accounts: dict[str, Account], tracker: Tracker
):
    with serving(WSGIHandler()) as url:
        results = hammer(f"{url}/t/probe", accounts)
    check_no_crossing(results, accounts, tracker, lumi_emulator)
