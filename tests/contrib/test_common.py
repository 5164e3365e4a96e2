"""The framework-independent parts: settings, error mapping, the per-request state."""

from __future__ import annotations

import logging

import pytest

import lumi
from lumi.contrib._common import LumiIntegration, LumiSettings, error_reply
from lumi.emulator.server import Emulator
from lumi.events import Tracker
from lumi.testing.plugin import TEST_PROJECT_ID

from .conftest import Account, turn_events
from .error_cases import ERROR_CASES, SECRET


def flask_name(name: str) -> str:
    return f"app.config['LUMI_{name}']"


@pytest.mark.parametrize("kind", sorted(ERROR_CASES))
def test_error_reply_maps_every_kind(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    make, status, code, passed_on = ERROR_CASES[kind]
    error = make()
    with caplog.at_level(logging.WARNING, logger="lumi.contrib"):
        reply = error_reply(error)
    assert reply.status == status
    assert set(reply.body) == {"error"} and set(reply.body["error"]) == {"code", "message"}
    assert reply.body["error"]["code"] == code
    message = reply.body["error"]["message"]
    assert (message == error.message) is passed_on
    assert SECRET not in str(reply.body) and SECRET not in str(reply.headers)
    if status >= 500:  # the details are logged for the operator, the caller gets a fixed text
        assert caplog.records and caplog.records[0].levelno == logging.WARNING
    if status == 401 and kind == "authentication":
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 429:
        assert reply.headers["Retry-After"] == "1"


def test_settings_name_the_wrong_setting() -> None:
    with pytest.raises(lumi.ValidationError, match=r"app.config\['LUMI_PROJCT_ID'\]"):
        LumiSettings.from_mapping({"PROJCT_ID": "p"}, flask_name)
    with pytest.raises(lumi.ValidationError, match=r"LUMI_TIMEOUT'\] must be a positive number"):
        LumiSettings.from_mapping({"TIMEOUT": "10"}, flask_name)
    with pytest.raises(lumi.ValidationError, match=r"LUMI_PROJECT_ID'\] must be a non-empty"):
        LumiSettings.from_mapping({"PROJECT_ID": ""}, flask_name)
    with pytest.raises(lumi.ValidationError, match=r"LUMI_RETRY'\] must be a lumi.RetryPolicy"):
        LumiSettings.from_mapping({"RETRY": 3}, flask_name)
    with pytest.raises(lumi.ValidationError, match=r"LUMI_EVENTS_TRACKER'\] must be a lumi"):
        LumiSettings.from_mapping({"EVENTS_TRACKER": "yes"}, flask_name)
    tracker = Tracker(persist_identity=False)  # no endpoint: disabled, nothing to shut down
    with pytest.raises(lumi.ValidationError, match=r"either .*EVENTS_TRACKER.* or .*EVENTS_END"):
        LumiSettings.from_mapping(
            {"EVENTS_TRACKER": tracker, "EVENTS_ENDPOINT": "http://127.0.0.1:9"}, flask_name
        )
    with pytest.raises(lumi.ValidationError, match=r"LUMI_HANDLE_ERRORS'\] must be True or"):
        LumiSettings.from_mapping({"HANDLE_ERRORS": "no"}, flask_name)


def test_settings_build_the_client_and_a_server_tracker() -> None:
    settings = LumiSettings.from_mapping(
        {
            "PROJECT_ID": "p_1",
            "API_BASE_URL": "http://127.0.0.1:9/",
            "API_KEY": "lk_SECRET",
            "TIMEOUT": 7,
            "RATE_LIMIT": None,
            "EVENTS_ENDPOINT": "http://127.0.0.1:9",
            "EVENTS_WRITE_KEY": "wk_SECRET",
            "EVENTS_OPTIONS": {"flush_interval_ms": 100},
        },
        flask_name,
    )
    assert "SECRET" not in repr(settings)
    integration = LumiIntegration(settings)
    try:
        config = integration.client.config
        assert (config.project_id, config.api_base_url, config.timeout.read) == (
            "p_1",
            "http://127.0.0.1:9",
            7.0,
        )
        assert config.rate_limit is None
        tracker = integration.tracker
        assert tracker is not None and tracker.enabled
        assert tracker.config.persist_identity is False  # servers name users per request
        assert tracker.config.flush_interval_ms == 100
        assert "SECRET" not in repr(integration)
    finally:
        integration.close()
    assert tracker.shutdown() is True  # already shut down by close()


def test_missing_project_id_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUMI_PROJECT_ID", raising=False)
    with pytest.raises(lumi.ValidationError, match="project_id is required"):
        LumiIntegration(LumiSettings.from_mapping({}, flask_name))


def _integration(emulator: Emulator, tracker: Tracker | None) -> LumiIntegration:
    values = {"PROJECT_ID": TEST_PROJECT_ID, "API_BASE_URL": emulator.url}
    if tracker is not None:
        values["EVENTS_TRACKER"] = tracker  # type: ignore[assignment]
    return LumiIntegration(LumiSettings.from_mapping(values, flask_name))


def test_user_is_resolved_once_and_names_the_events_identity(
    lumi_emulator: Emulator, accounts: dict[str, Account], tracker: Tracker, monkeypatch
) -> None:
    calls = []
    real = lumi.auth.Auth.refresh_user

    def counting(self: lumi.auth.Auth) -> lumi.User:
        calls.append(1)
        return real(self)

    monkeypatch.setattr(lumi.auth.Auth, "refresh_user", counting)
    integration = _integration(lumi_emulator, tracker)
    ada = accounts["ada"]
    state = integration.request_state(ada.auth["Authorization"], None)
    state.open_events()
    try:
        assert tracker.get_distinct_id().startswith("anon_")  # not asked yet: anonymous
        users = [state.user() for _ in range(3)]
        assert [u.user_id for u in users if u] == [ada.user_id] * 3 and len(calls) == 1
        assert tracker.get_distinct_id() == ada.user_id and not tracker.is_anonymous()
        with state.events_session().turn():
            pass
    finally:
        state.close_events()
    assert tracker.get_distinct_id() != ada.user_id  # the process identity was never touched
    tracker.flush(10)
    assert [e["distinct_id"] for e in turn_events(lumi_emulator)] == [ada.user_id]
    integration.close()


def test_invalid_token_is_anonymous_and_not_logged(
    lumi_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    integration = _integration(lumi_emulator, None)
    state = integration.request_state(f"Bearer {SECRET}", None)
    with caplog.at_level(logging.DEBUG):
        assert state.user() is None
        denied = state.login_required_reply()
    assert denied is not None and denied.status == 401
    assert "invalid or expired" in denied.body["error"]["message"]
    assert SECRET not in caplog.text and SECRET not in str(denied)
    assert state.client.auth.access_token is None  # the client dropped the rejected token
    no_token = integration.request_state(None, None).login_required_reply()
    assert no_token is not None and "sign in required" in no_token.body["error"]["message"]
    integration.close()


def test_a_failure_to_fetch_the_user_is_raised_every_time_but_fetched_once(monkeypatch) -> None:
    calls = []

    def unreachable(self: lumi.auth.Auth) -> lumi.User:
        calls.append(1)
        raise lumi.ConnectionError("refused")

    monkeypatch.setattr(lumi.auth.Auth, "refresh_user", unreachable)
    integration = LumiIntegration(
        LumiSettings.from_mapping({"PROJECT_ID": "p", "API_BASE_URL": "http://127.0.0.1:9"}, str)
    )
    state = integration.request_state("Bearer t", None)
    for _ in range(2):
        with pytest.raises(lumi.ConnectionError):
            state.user()
    assert len(calls) == 1
    integration.close()


def test_incoming_traceparent_is_continued_and_a_malformed_one_ignored(
    lumi_emulator: Emulator, tracker: Tracker
) -> None:
    integration = _integration(lumi_emulator, tracker)
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    state = integration.request_state(None, incoming)
    state.open_events()
    try:
        assert state.response_traceparent() == incoming
        assert state.events_session().session_id == "0af7651916cd43dd8448eb211c80319c"
    finally:
        state.close_events()
    bad = integration.request_state(None, "00-zz-not-a-trace")
    bad.open_events()
    try:
        assert bad.response_traceparent() is None  # no session yet: nothing to echo
        session = bad.events_session()
        assert session.session_id != "0af7651916cd43dd8448eb211c80319c"
        assert bad.response_traceparent() == session.traceparent
    finally:
        bad.close_events()
    assert bad.response_traceparent() is None  # the scope is closed
    integration.close()


def test_events_session_without_a_tracker_says_what_to_configure() -> None:
    integration = LumiIntegration(
        LumiSettings.from_mapping({"PROJECT_ID": "p", "API_BASE_URL": "http://127.0.0.1:9"}, str)
    )
    with pytest.raises(lumi.ValidationError, match="EVENTS_ENDPOINT"):
        integration.request_state(None, None).events_session()
    integration.close()
