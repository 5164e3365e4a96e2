"""The example apps' one-command runs: ``run.py --demo`` starts the emulator and the app in one
process and walks through the API over HTTP (the apps' views are tested in-process too, in
test_flask.py and test_django.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import EXAMPLES


@pytest.mark.parametrize("example", ["flask_app", "django_app"])
def test_run_py_demo_walks_through_the_app(example: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example / "run.py"), "--demo", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for expected in (
        "sign up ada                      role ADMIN",
        "sign up bob                      role USER",
        "sign in with a wrong password    (401, 'wrong email or password')",
        "ada's notes                      ['Groceries']",
        "bob's notes                      [\"Bob's secret\"]",
        "bob reads ada's note             (404, 'no note ",
        "ada renames her note             Groceries (today)",
        "AI summary (a tracked turn)      [lumi emulator]",
        "admin page as bob (USER)         (403, 'this needs an ADMIN user')",
        "no token                         (401, 'sign in required",
        "delete                           204",
        "turn events at the ingest        [(True, 3)]",
    ):
        assert expected in out, f"missing {expected!r} in:\n{out}"
    assert out.count("✓") == 13
