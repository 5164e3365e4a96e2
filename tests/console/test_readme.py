"""The README's Console part: its example runs, and the screenshot it shows is in docs/."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def console_part() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- section: emulator -->")[1].split("<!-- /section: emulator -->")[0]
    return section.split("### Console")[1].split("\n### ")[0]


def test_the_console_example_runs() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", console_part(), flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # our own README
    assert "console_url" in example


def test_the_screenshot_is_a_small_png_in_docs() -> None:
    (image,) = re.findall(r"!\[[^\]]+\]\((docs/[^)]+\.png)\)", console_part())
    data = (REPO / image).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 200_000
