"""The README's entity-store example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_keyset_paging_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- section: emulator -->")[1].split("<!-- /section: emulator -->")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    example = next(block for block in blocks if "remaining" in block)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # our own README
    assert namespace["remaining"] == 4_900
    page = namespace["page"]
    assert isinstance(page, list) and len(page) == 100
    days = [doc["day"] for doc in page]
    assert days == sorted(days, reverse=True)


def test_query_language_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- section: emulator -->")[1].split("<!-- /section: emulator -->")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    example = next(block for block in blocks if '"$mod"' in block)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # our own README: its asserts run
    assert "$mod" in example and "2**64" in example
