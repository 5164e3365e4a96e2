"""The README's "Event tracking" examples run as written against the local emulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- section: {section} -->(.*?)<!-- /section: {section} -->", text, re.S)
    assert match, f"README has no {section} section"
    return re.findall(r"```python\n(.*?)```", match.group(1), re.S)


def test_events_section_runs(
    lumi_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMINA_ENDPOINT", lumi_emulator.url)
    monkeypatch.setenv("LUMINA_WRITE_KEY", "gi_readme")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the persisted identity goes here
    blocks = python_blocks("events")
    assert len(blocks) >= 5
    namespace: dict[str, Any] = {}
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)  # the README is ours
        tracker = namespace["tracker"]
        assert tracker.flush(timeout=10)
        stats = tracker.stats()
    finally:
        import lumi.events

        lumi.events.shutdown(timeout=5)
    received = lumi_emulator.events()
    turns = [e for e in received if e["type"] == "turn"]
    assert len(turns) == 2
    first = turns[0]
    assert first["capture_mode"] == "masked" and "ada@example.com" not in str(first)
    assert first["model"] == "gpt-4o" and first["tool_calls"][0]["name"] == "search"
    assert turns[1]["llm_calls"][0]["streamed"] and turns[1]["tool_calls"][0]["name"] == "lookup"
    assert [e["distinct_id"] for e in received if e["type"] == "identify"] == ["user-42"]
    ui = [e for e in received if e["type"] == "ui_event"]
    assert len(ui) + stats["sampled_out"] == 4  # kept or counted, at the README's 10 % rate
    assert (tmp_path / "lumi" / "events-identity.json").exists()
