"""`LUMI_LOG=debug|info`: the lumi logger on stderr, set up on import; secrets never logged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from lumi import _log

PASSWORD = "pw-Zq8-secret"
API_KEY = "gi_key-Xv3-secret"

SESSION = f"""
import logging, lumi
from lumi.emulator import Emulator
with Emulator(fixed_otp="123456", api_key={API_KEY!r}) as emu:
    client = lumi.create_client(project_id="p1", api_base_url=emu.url, api_key={API_KEY!r})
    client.auth.send_otp(email="ann@example.com", type="register")
    client.auth.sign_up_with_password(email="ann@example.com", password={PASSWORD!r}, otp="123456")
    signed_in = client.auth.sign_in_with_password(email="ann@example.com", password={PASSWORD!r})
    client.entities.Notes.create({{"text": "hello"}})
    client.tools.ai.generate_text(messages=[{{"role": "user", "content": "hi"}}])
    print(signed_in.access_token)
    logger = logging.getLogger("lumi")
    print(logging.getLevelName(logger.level), len(logger.handlers))
"""


def run(code: str, log: str | None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "LUMI_LOG"}
    if log is not None:
        environment["LUMI_LOG"] = log
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_debug_logs_every_request_on_stderr_without_secrets() -> None:
    result = run(SESSION, "debug")
    assert result.returncode == 0, result.stderr
    token, state = result.stdout.splitlines()
    assert state == "DEBUG 1"
    lines = result.stderr.splitlines()
    requests = [line for line in lines if " DEBUG [lumi] lumi: " in line]
    assert len(requests) >= 5  # otp, sign-up, sign-in, create, generate_text
    assert any("createDocument" in line or "/documents" in line for line in requests), requests
    for secret in (token, PASSWORD, API_KEY):
        assert secret not in result.stderr
    assert "<redacted>" in result.stderr  # the Authorization and signature headers


def test_info_sets_the_level_without_request_lines() -> None:
    result = run(SESSION, " Info ")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "INFO 1"
    assert " DEBUG " not in result.stderr


def test_unset_leaves_logging_to_the_application() -> None:
    result = run(SESSION, None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "NOTSET 0"
    assert "lumi" not in result.stderr


def test_an_unknown_value_is_a_warning_and_changes_nothing() -> None:
    result = run("import logging, lumi; print(len(logging.getLogger('lumi').handlers))", "verbose")
    assert result.returncode == 0
    assert result.stdout.strip() == "0"
    assert "LUMI_LOG='verbose' is ignored: use debug or info" in result.stderr


def test_configuring_twice_adds_one_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("lumi")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    _log.configure_from_environment({"LUMI_LOG": "info"})
    _log.configure_from_environment({"LUMI_LOG": "debug"})
    assert logger.level == logging.DEBUG and len(logger.handlers) == 1
    _log.configure_from_environment({})
    assert logger.level == logging.DEBUG  # unset: nothing changes
