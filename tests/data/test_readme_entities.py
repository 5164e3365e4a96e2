"""The README's "Typed entities" examples run as written, on the real questions.json schema."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from lumi._codegen.cli import codegen

from ..test_readme import python_blocks


def test_typed_entities_section_runs(lumi_client, tmp_path, monkeypatch):
    fixture = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "lumi-entities"
    schema = fixture / "Gordola08+Auto-Escola" / "questions.json"
    package = tmp_path / "autoescola" / "entities"
    package.parent.mkdir()
    (package.parent / "__init__.py").write_text("")
    result = CliRunner().invoke(codegen, [str(schema), "-o", str(package)])
    assert result.exit_code == 0, result.output
    monkeypatch.syspath_prepend(str(tmp_path))
    blocks = python_blocks("entities")
    assert len(blocks) == 2
    namespace: dict[str, object] = {"client": lumi_client}
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
    finally:
        for name in [m for m in sys.modules if m.startswith("autoescola")]:
            del sys.modules[name]
    assert namespace["titles"] == ["Stop sign?"]


def test_large_collections_section_runs(client: Any) -> None:
    blocks = python_blocks("large-collections")
    assert len(blocks) == 1
    namespace: dict[str, object] = {"client": client}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert namespace["first_ten"] == sorted(f"post {n}" for n in range(250) if n % 10)[:10]
