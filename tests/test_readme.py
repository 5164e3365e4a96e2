"""The README's examples run as written against the local emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- section: {section} -->(.*?)<!-- /section: {section} -->", text, re.S)
    assert match, f"README has no {section} section"
    return re.findall(r"```python\n(.*?)```", match.group(1), re.S)


@pytest.fixture
def emulator_env(monkeypatch):
    from lumi.emulator import Emulator

    with Emulator(fixed_otp="123456") as emulator:
        monkeypatch.setenv("LUMI_PROJECT_ID", "p_readme")
        monkeypatch.setenv("LUMI_API_BASE_URL", emulator.url)
        monkeypatch.setenv("LUMI_API_KEY", "lk_readme")
        yield emulator


def test_client_section_runs(emulator_env, capsys):
    blocks = python_blocks("client")
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    handle = namespace["handle"]
    client = namespace["client"]
    token = namespace["result"].access_token  # type: ignore[attr-defined]
    assert handle({"Authorization": f"Bearer {token}"}).total == 0  # type: ignore[operator]
    assert client.auth.is_authenticated is False  # type: ignore[attr-defined]
    assert capsys.readouterr().out.strip()  # the streamed chunks were printed
    sent = [m for m in emulator_env.outbox("p_readme") if m["subject"] == "Welcome"]
    assert len(sent) == 1


def test_from_js_section_runs(emulator_env, capsys):
    blocks = python_blocks("from-js")
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["user"].email == "grace@example.com"  # type: ignore[attr-defined]
    printed = capsys.readouterr().out  # each refusal printed its message
    assert "invoke() takes keyword arguments: invoke(name, method=..., query=..." in printed
    assert "the unknown key 'published'" in printed and "list(filter={...})" in printed
    assert "needs a browser pop-up" in printed and "client.for_request(" in printed
    sent = [m for m in emulator_env.outbox("p_readme") if m["subject"] == "Welcome"]
    assert sent[0]["fromName"] == "The Team"


def test_every_python_block_in_the_readme_compiles():
    # Blocks that are not executed (framework set-up, provider wiring) must at least be valid.
    blocks = re.findall(r"```py(?:thon)?\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 23
    for number, block in enumerate(blocks, 1):
        try:
            compile(block, f"README.md python block {number}", "exec")
        except SyntaxError as exc:
            raise AssertionError(f"README python block {number} does not compile: {exc}") from None
