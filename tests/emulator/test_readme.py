"""The README's emulator example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_in_process_example_runs() -> None:
    text = README.read_text()
    section = text.split("<!-- section: emulator -->")[1].split("<!-- /section: emulator -->")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    example = next(block for block in blocks if "with Emulator(" in block)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)  # our own README
    emu = namespace["emu"]
    assert "lumi.create_client" in example and "emu.latest_otp" in example
    assert not emu.data_dir.exists()  # type: ignore[attr-defined]  # stopped and cleaned up
