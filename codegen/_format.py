"""Format generated code: ruff when it is installed (the repository's formatter), else black
(a dependency of datamodel-code-generator). Both are run with fixed settings, never with the
configuration of the directory they run in, so the same input gives the same bytes."""

from __future__ import annotations

import subprocess

LINE_LENGTH = 100


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def format_code(code: str) -> str:
    """``code`` formatted with a line length of 100 for Python 3.10."""
    ruff = _ruff_binary()
    if ruff is not None:
        command = [ruff, "format", "--isolated", f"--line-length={LINE_LENGTH}"]
        command += ["--target-version=py310", "--stdin-filename=generated.py", "-"]
        result = subprocess.run(command, input=code, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ValueError(f"generated code does not parse: {result.stderr.strip()}")
        return result.stdout
    import black
    from black.mode import Mode, TargetVersion

    mode = Mode(line_length=LINE_LENGTH, target_versions={TargetVersion.PY310})
    formatted: str = black.format_str(code, mode=mode)
    return formatted
