"""Flask: the notes example and a probe app, on the emulator; a real threaded server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

import lumi
from lumi.contrib.flask import Lumi
from lumi.emulator.server import Emulator
from lumi.events import Tracker
from lumi.testing.plugin import TEST_PROJECT_ID

from .concurrency import check_no_crossing, hammer, serving
from .conftest import PASSWORD, Account, turn_events
from .error_cases import ERROR_CASES, SECRET
from .flask_apps import example_module, probe_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def notes(lumi_emulator: Emulator, tracker: Tracker) -> Iterator[FlaskClient]:
    app = example_module().create_app(
        {
            "LUMI_PROJECT_ID": TEST_PROJECT_ID,
            "LUMI_API_BASE_URL": lumi_emulator.url,
            "LUMI_API_KEY": "lk_test",
            "LUMI_EVENTS_TRACKER": tracker,
        }
    )
    yield app.test_client()
    app.extensions["lumi"].client.close()


@pytest.fixture
def probe(lumi_emulator: Emulator, tracker: Tracker) -> FlaskClient:
    return probe_app(lumi_emulator.url, tracker).test_client()


def test_sign_in_returns_a_token_that_works(notes: FlaskClient, accounts: dict[str, Account]):
    ada = accounts["ada"]
    reply = notes.post("/api/signin", json={"email": ada.email, "password": PASSWORD})
    assert reply.status_code == 200 and reply.json["user"]["userId"] == ada.user_id
    me = notes.get("/api/me", headers={"Authorization": f"Bearer {reply.json['token']}"})
    assert me.json["email"] == ada.email
    wrong = notes.post("/api/signin", json={"email": ada.email, "password": "nope"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == 10401
    missing = notes.post("/api/signin", json={"email": ada.email})
    assert missing.status_code == 400 and "'password'" in missing.json["error"]["message"]


def test_otp_sign_up_through_the_app(notes: FlaskClient, lumi_emulator: Emulator):
    assert notes.post("/api/signup/code", json={"email": "cy@example.com"}).json == {"sent": True}
    code = lumi_emulator.latest_otp("cy@example.com", TEST_PROJECT_ID)
    reply = notes.post(
        "/api/signup", json={"email": "cy@example.com", "password": "pw", "code": code}
    )
    assert reply.status_code == 201 and reply.json["user"]["userRole"] == "ADMIN"  # first user


def test_crud_as_two_users_each_sees_only_their_own(
    notes: FlaskClient, accounts: dict[str, Account]
):
    ada, bob = accounts["ada"].auth, accounts["bob"].auth
    first = notes.post("/api/notes", json={"title": "ada 1", "body": "x"}, headers=ada)
    notes.post("/api/notes", json={"title": "ada 2"}, headers=ada)
    notes.post("/api/notes", json={"title": "bob 1"}, headers=bob)
    assert first.status_code == 201 and first.json["creator"] == accounts["ada"].user_id
    note_id = first.json["_id"]
    assert [n["title"] for n in notes.get("/api/notes", headers=ada).json["notes"]] == [
        "ada 2",
        "ada 1",
    ]
    assert [n["title"] for n in notes.get("/api/notes", headers=bob).json["notes"]] == ["bob 1"]
    for method in ("get", "patch", "delete"):  # another user's note does not exist for bob
        reply = getattr(notes, method)(f"/api/notes/{note_id}", json={"title": "h"}, headers=bob)
        assert reply.status_code == 404 and reply.json["error"]["code"] == 10404
    assert notes.get(f"/api/notes/{note_id}", headers=ada).json["title"] == "ada 1"
    patched = notes.patch(f"/api/notes/{note_id}", json={"title": "ada 1b"}, headers=ada)
    assert patched.json["title"] == "ada 1b" and patched.json["body"] == "x"
    assert notes.delete(f"/api/notes/{note_id}", headers=ada).status_code == 204
    assert notes.get(f"/api/notes/{note_id}", headers=ada).status_code == 404
    assert notes.get("/api/notes", headers=ada).json["total"] == 1
    unauthenticated = notes.get("/api/notes")
    assert unauthenticated.status_code == 401 and unauthenticated.json["error"]["code"] == 2100
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_only_page(notes: FlaskClient, accounts: dict[str, Account]):
    notes.post("/api/notes", json={"title": "t"}, headers=accounts["bob"].auth)
    assert accounts["ada"].role == "ADMIN" and accounts["bob"].role == "USER"
    admin = notes.get("/api/admin/notes", headers=accounts["ada"].auth)
    assert admin.status_code == 200 and admin.json == {
        "total": 1,
        "per_user": {accounts["bob"].user_id: 1},
    }
    denied = notes.get("/api/admin/notes", headers=accounts["bob"].auth)
    assert denied.status_code == 403 and denied.json["error"] == {
        "code": 10403,
        "message": "this needs an ADMIN user",
    }
    assert notes.get("/api/admin/notes").status_code == 401
    bad = notes.get("/api/admin/notes", headers={"Authorization": f"Bearer {SECRET}"})
    assert bad.status_code == 401 and SECRET not in bad.get_data(as_text=True)


def test_ai_summary_is_a_turn_with_the_users_distinct_id(
    notes: FlaskClient, accounts: dict[str, Account], tracker: Tracker, lumi_emulator: Emulator
):
    for account in accounts.values():
        note = notes.post("/api/notes", json={"title": account.name}, headers=account.auth).json
        reply = notes.post(
            f"/api/notes/{note['_id']}/summary",
            headers={**account.auth, "traceparent": TRACEPARENT},
        )
        assert reply.status_code == 200 and account.name in reply.json["summary"]
        assert reply.headers["traceparent"].split("-")[1] == TRACE_ID  # the trace, echoed
    assert tracker.flush(10)
    turns = turn_events(lumi_emulator)
    assert [(t["distinct_id"], t["session_id"]) for t in turns] == [
        (accounts["ada"].user_id, TRACE_ID),
        (accounts["bob"].user_id, TRACE_ID),
    ]
    for turn, account in zip(turns, accounts.values(), strict=True):
        assert account.name in turn["messages"][1]["content"]
        assert [m["role"] for m in turn["messages"]] == ["system", "user", "assistant"]
        assert turn["parent_span_id"] == "00f067aa0ba902b7"


@pytest.mark.parametrize("kind", sorted(ERROR_CASES))
def test_lumi_errors_become_json_answers(probe: FlaskClient, kind: str):
    _, status, code, passed_on = ERROR_CASES[kind]
    reply = probe.get(f"/raise/{kind}")
    assert reply.status_code == status and reply.is_json
    assert reply.json["error"]["code"] == code
    assert (reply.json["error"]["message"] == ERROR_CASES[kind][0]().message) is passed_on
    assert SECRET not in reply.get_data(as_text=True)


def test_error_handling_can_be_left_to_the_app(lumi_emulator: Emulator):
    app = probe_app(lumi_emulator.url, None, LUMI_HANDLE_ERRORS=False)
    app.testing = True  # exceptions propagate to the test
    with pytest.raises(lumi.NotFoundError):
        app.test_client().get("/raise/not_found")


def test_anonymous_request_and_lazy_user(probe: FlaskClient, accounts, monkeypatch):
    calls = []
    real = lumi.auth.Auth.refresh_user
    monkeypatch.setattr(lumi.auth.Auth, "refresh_user", lambda self: calls.append(1) or real(self))
    first, second = (probe.get("/anonymous").json for _ in range(2))
    assert first["user_is_none"] and not first["authenticated"]
    assert first["distinct_id"].startswith("anon_") and second["distinct_id"].startswith("anon_")
    assert first["distinct_id"] != second["distinct_id"]  # anonymous per request
    assert calls == []  # no token: nothing to ask
    reply = probe.get("/probe", headers=accounts["ada"].auth)
    assert reply.json["user_id"] == accounts["ada"].user_id and reply.json["token_matches"]
    assert len(calls) == 1  # the decorator and three reads: one refresh_user
    assert probe.get("/admin", headers=accounts["ada"].auth).json == {"admin": True}


def test_misconfiguration_names_the_setting():
    app = Flask("bad")
    app.config.update(LUMI_PROJECT_ID="p", LUMI_TIMOUT=3)
    with pytest.raises(lumi.ValidationError, match=r"app.config\['LUMI_TIMOUT'\]"):
        Lumi(app)


def test_init_app_pattern_and_events_from_settings(lumi_emulator: Emulator, accounts):
    ext = Lumi()
    app = Flask("factory")
    app.config.update(
        LUMI_PROJECT_ID=TEST_PROJECT_ID,
        LUMI_API_BASE_URL=lumi_emulator.url,
        LUMI_EVENTS_ENDPOINT=lumi_emulator.url,
        LUMI_EVENTS_WRITE_KEY="wk",
        LUMI_ECHO_TRACEPARENT=False,
    )
    ext.init_app(app)

    @app.get("/turn")
    def turn() -> dict[str, str]:
        from lumi.contrib.flask import current_lumi_session

        with current_lumi_session().turn() as t:
            t.set_messages([{"role": "user", "content": "hi"}])
        return {"ok": "yes"}

    with app.app_context():
        tracker = ext.tracker
        assert tracker is not None and tracker.config.endpoint == lumi_emulator.url
    reply = app.test_client().get("/turn", headers=accounts["bob"].auth)
    assert "traceparent" not in reply.headers  # LUMI_ECHO_TRACEPARENT=False
    assert tracker.flush(10)
    assert [t["distinct_id"] for t in turn_events(lumi_emulator)] == [accounts["bob"].user_id]
    app.extensions["lumi"].close()


def test_threaded_server_never_mixes_users(
    lumi_emulator: Emulator, accounts: dict[str, Account], tracker: Tracker
):
    with serving(probe_app(lumi_emulator.url, tracker)) as url:
        results = hammer(f"{url}/probe", accounts)
    check_no_crossing(results, accounts, tracker, lumi_emulator)
