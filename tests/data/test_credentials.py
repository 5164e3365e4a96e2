"""``lumi login`` / ``lumi logout`` and where the command-line tools take credentials from."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lumi import LumiClient, ValidationError
from lumi.credentials import (
    Credentials,
    client_from_environment,
    credentials_path,
    login_command,
    logout_command,
    save_credentials,
)
from lumi.data.cli import entities
from lumi.testing.plugin import TEST_PROJECT_ID

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LUMI_PROJECT_ID", "LUMI_API_BASE_URL", "LUMI_TOKEN", "LUMI_AUTHORIZATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LUMI_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


@pytest.fixture
def account(client: LumiClient, lumi_emulator: Any) -> str:
    client.auth.send_otp(email=EMAIL, type="register")
    otp = lumi_emulator.latest_otp(EMAIL, TEST_PROJECT_ID)
    result = client.auth.sign_up_with_password(email=EMAIL, password=PASSWORD, otp=otp)
    return result.user.user_id  # type: ignore[no-any-return]


def test_login_stores_the_token_0600_and_never_prints_it(
    config: Path, account: str, lumi_emulator: Any
) -> None:
    result = CliRunner().invoke(
        login_command,
        ["--project-id", TEST_PROJECT_ID, "--api-base-url", lumi_emulator.url],
        input=f"{EMAIL}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    path = config / "credentials.json"
    assert path == credentials_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert set(stored) == {"project_id", "api_base_url", "token"}
    assert stored["project_id"] == TEST_PROJECT_ID and stored["api_base_url"] == lumi_emulator.url
    assert stored["token"] not in result.output and PASSWORD not in result.output
    assert "Signed in as ana@example.com" in result.output

    # the data commands now act as that user, with nothing in the environment
    created = CliRunner().invoke(entities, ["list", "notes"])
    assert created.exit_code == 0, created.output
    with client_from_environment() as client:
        assert client.auth.refresh_user().user_id == account
        assert client.entities["notes"].create({"t": 1}).creator == account
    assert stored["token"] not in repr(client) and stored["token"] not in repr(
        Credentials(**stored)
    )

    out = CliRunner().invoke(logout_command, [])
    assert out.exit_code == 0 and not path.exists() and "Signed out" in out.output
    assert "Not signed in" in CliRunner().invoke(logout_command, []).output


def test_a_wrong_password_is_a_clear_error(config: Path, account: str, lumi_emulator: Any) -> None:
    result = CliRunner().invoke(
        login_command,
        ["--project-id", TEST_PROJECT_ID, "--api-base-url", lumi_emulator.url, "--email", EMAIL],
        input="wrong password\n",
    )
    assert result.exit_code == 1 and "sign-in failed" in result.output
    assert not credentials_path().exists()


def test_an_existing_file_with_loose_permissions_is_tightened(config: Path) -> None:
    config.mkdir(parents=True)
    loose = config / "credentials.json"
    loose.write_text("{}")
    loose.chmod(0o644)
    save_credentials(Credentials("p1", "http://127.0.0.1:1", "tok"))
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert json.loads(loose.read_text())["token"] == "tok"


def test_the_environment_wins_over_the_stored_credentials(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_credentials(Credentials("p_stored", "http://127.0.0.1:1", "stored-token"))
    with client_from_environment() as client:
        assert client.project_id == "p_stored"
        assert client.auth.access_token == "stored-token"
    monkeypatch.setenv("LUMI_TOKEN", "env-token")
    with client_from_environment() as client:
        assert client.auth.access_token == "env-token"
    monkeypatch.delenv("LUMI_TOKEN")
    monkeypatch.setenv("LUMI_AUTHORIZATION", "Bearer header-token")
    with client_from_environment() as client:
        assert client.auth.access_token == "header-token"
    monkeypatch.delenv("LUMI_AUTHORIZATION")
    monkeypatch.setenv("LUMI_PROJECT_ID", "p_other")
    with client_from_environment() as client:  # the stored token is for another project
        assert client.project_id == "p_other" and client.auth.access_token is None


def test_no_project_anywhere_and_corrupt_files(config: Path) -> None:
    with pytest.raises(ValidationError, match="no project"):
        client_from_environment()
    config.mkdir(parents=True)
    (config / "credentials.json").write_text("[1, 2]")
    with pytest.raises(ValidationError, match="malformed credentials"):
        client_from_environment()
