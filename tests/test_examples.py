"""The examples run: `make demo`'s quickstart end to end on the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_quickstart_runs_every_step():
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for expected in (
        "sign_up_with_password",
        "Console: http://127.0.0.1:",
        "list(filter, sort)                         ['Hyperion', 'Neuromancer']",
        "['Dune', 'Hyperion'] of 3",
        "stats {'reads': 1}",
        "0 left",
        "1 message to ['ada@example.com']",
        "download                                   remember the milk",
        "now HTTP 404",
        "[lumi emulator]",
        "SUCCESS, PNG",
        "{'greeting': 'Hello, Ada!', 'caller': 'ada@example.com'}",
    ):
        assert expected in out, f"missing {expected!r} in:\n{out}"
    assert out.count("✓") == 18
