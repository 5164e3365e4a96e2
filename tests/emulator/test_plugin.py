"""The pytest plugin: fixtures for app test suites, cheap to import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

APP_TESTS = """
import lumi

def test_first(lumi_emulator, lumi_client):
    assert lumi_client.project_id == "p_test"
    lumi_client.auth.send_otp(email="a@example.com", type="register")
    otp = lumi_emulator.latest_otp("a@example.com", "p_test")
    result = lumi_client.auth.sign_up_with_password(email="a@example.com", password="pw", otp=otp)
    assert result.user.user_role == "ADMIN"
    created = lumi_client.entities.Notes.create({"text": "hi"})
    assert created.creator == result.user.user_id
    assert [n["text"] for n in lumi_client.entities.Notes.list().list] == ["hi"]

def test_second_starts_empty(lumi_emulator, lumi_client):
    assert lumi_emulator.users() == [] and lumi_emulator.outbox() == []
    assert lumi_client.entities.Notes.list().total == 0
"""


def run_app_tests(folder: Path, name: str, source: str) -> str:
    """Run ``source`` as an app's test module ``name`` in its own pytest; its output."""
    (folder / name).write_text(textwrap.dedent(source))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def test_fixtures_in_an_app_test_suite(tmp_path: Path) -> None:
    assert "2 passed" in run_app_tests(tmp_path, "test_app.py", APP_TESTS)


def test_importing_the_plugin_is_cheap() -> None:
    code = (
        "import sys, lumi.testing.plugin as p; "
        "heavy = [m for m in sys.modules if m.startswith(('werkzeug', 'waitress', 'lumi.emulator', 'sqlite3'))]; "
        "assert not heavy, heavy; assert p.lumi_emulator"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


PRIVATE_TESTS = """
import requests

def test_private_routes_through_the_fixture(lumi_emulator, lumi_client):
    lumi_client.auth.send_otp(email="p@example.com", type="register")
    url = lumi_emulator.url + "/_emulator/otp"
    assert requests.get(url, params={"email": "p@example.com"}).status_code == 403
    reply = requests.get(
        url, params={"email": "p@example.com"}, headers=lumi_emulator.private_headers
    ).json()
    assert reply["data"]["otp"] == lumi_emulator.latest_otp("p@example.com")
"""


def test_the_fixture_passes_the_private_token_on(tmp_path: Path) -> None:
    assert "1 passed" in run_app_tests(tmp_path, "test_private.py", PRIVATE_TESTS)
