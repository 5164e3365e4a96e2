"""The wheel and sdist of this checkout, built once per test session (offline: no isolation,
the build backend comes from the development venv)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

REPO = Path(__file__).resolve().parents[2]


@attrs.frozen
class Built:
    wheel: Path
    sdist: Path
    log: str
    """Everything the build printed."""


def _source_tree(target: Path) -> Path:
    """A copy of the files git knows of (tracked, or new and not ignored): what a clone has."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    return target


@functools.cache
def build() -> Built:
    """``python -m build`` (sdist, then the wheel from the sdist) of a copy of the checkout."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        raise RuntimeError("building needs the git checkout")
    workdir = Path(tempfile.mkdtemp(prefix="lumi-dist-"))
    tree = _source_tree(workdir / "src")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(workdir / "dist"), "."],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"the build failed:\n{log[-6000:]}")
    (wheel,) = (workdir / "dist").glob("*.whl")
    (sdist,) = (workdir / "dist").glob("*.tar.gz")
    return Built(wheel=wheel, sdist=sdist, log=log)
