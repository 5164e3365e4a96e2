"""The README's install part: its first lines install lumi-sdk, its table of extras is the
package's, and its example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lumi._extras import EXTRAS

README = Path(__file__).resolve().parent.parent / "README.md"


def install_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- section: install -->(.*?)<!-- /section: install -->", text, re.S)
    assert match is not None
    return match.group(1)


def test_the_first_two_commands_set_up_and_run_the_demo_and_the_suite() -> None:
    commands = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    first = [line.split("#")[0].strip() for line in commands[0].splitlines()]
    assert first[:2] == ["make demo", "make test"]


def test_the_first_lines_install_lumi_sdk() -> None:
    head = README.read_text(encoding="utf-8").splitlines()[:16]
    assert (
        "pip install lumi-sdk                 # the client; needs only requests, attrs and cattrs"
        in head
    )
    assert any("pip install 'lumi-sdk[emulator]'" in line for line in head)


def test_the_table_lists_every_extra() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", install_section(), re.M)
    assert sorted(name for name, _ in rows[:-1]) == sorted(EXTRAS) and rows[-1][0] == "all"
    described = dict(rows)
    assert "`lumi emulator`" in described["emulator"] and "`lumi codegen`" in described["codegen"]
    for command in ("entities", "events", "login", "logout"):
        assert f"`lumi {command}`" in described["cli"]


def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = re.findall(r"```python\n(.*?)```", install_section(), re.S)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out == ""  # every extra is installed here
    message = re.search(r"prints, without the extra, `(.*?)`\.", install_section(), re.S)
    assert message is not None  # tests/test_extras.py checks this text in a venv without it
