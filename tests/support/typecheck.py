"""mypy --strict and pyright (strict mode) run as a user would: in a folder outside the checkout,
with the development venv's interpreter, and no configuration but "strict"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def mypy_strict(folder: Path, *targets: str) -> str:
    """Problems mypy --strict reports for ``targets`` (run in ``folder``); empty when clean."""
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", *targets],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return "" if result.returncode == 0 else (result.stdout[-6000:] + result.stderr[-2000:])


def pyright_strict(folder: Path, *targets: str) -> str:
    """Problems pyright reports in strict mode for ``targets`` (run in ``folder``); empty when
    clean. The only setting is ``typeCheckingMode: strict``."""
    (folder / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "strict"}))
    result = subprocess.run(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable, *targets],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return f"pyright did not run (exit {result.returncode}): {result.stdout[-2000:]}"
    problems = [
        f"{item['file']}:{item['range']['start']['line'] + 1}: {item['message']}"
        for item in report["generalDiagnostics"]
        if item["severity"] == "error"
    ]
    if report["summary"]["filesAnalyzed"] == 0:
        problems.append("pyright analysed no file")
    return "\n".join(problems[:60])
