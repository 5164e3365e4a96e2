"""Every package directory is in pyproject's explicit package list (an installed lumi has it)."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (the package itself supports 3.10)

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in (REPO / "lumi").rglob("__init__.py")
    }
    found.add("lumi._codegen")
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["lumi._codegen"] == "codegen"
    assert (REPO / "codegen" / "__init__.py").exists()
