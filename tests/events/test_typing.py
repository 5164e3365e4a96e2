"""The typed public API: a user script exercising every events feature is ``mypy --strict``
clean, states its result types (``assert_type``), and no ``Any`` reaches it
(``--disallow-any-expr``); the same script runs against a local collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from .collector import Collector

SAMPLE = Path(__file__).with_name("typing_sample.py")
ROOT = Path(__file__).resolve().parents[2]


def test_the_sample_is_strictly_typed_without_any(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    config = tmp_path / "mypy.ini"
    # --disallow-any-expr for the user's script only: inside lumi, free-form JSON is Any.
    config.write_text(
        "[mypy]\nstrict = True\n\n[mypy-tests.events.typing_sample]\ndisallow_any_expr = True\n"
    )
    stdout, stderr, status = api.run(
        ["--config-file", str(config), "--cache-dir", str(ROOT / ".mypy_cache"), str(SAMPLE)]
    )
    assert status == 0, stdout + stderr
    assert stdout.startswith("Success: no issues found")


def test_the_check_would_see_an_any(tmp_path: Path) -> None:
    """The same check fails on a script that lets an Any through (the check can fail)."""
    api = pytest.importorskip("mypy.api")
    leaky = tmp_path / "tests" / "events"
    leaky.mkdir(parents=True)
    for package in (tmp_path / "tests", leaky):
        (package / "__init__.py").write_text("")
    script = leaky / "typing_sample.py"
    script.write_text("import json\n\nvalue = json.loads('1')\n")
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\n\n[mypy-tests.events.typing_sample]\ndisallow_any_expr = True\n"
    )
    stdout, _, status = api.run(["--config-file", str(config), str(script)])
    assert status == 1 and 'Expression has type "Any"' in stdout


def test_the_sample_runs(collector: Collector) -> None:
    from .typing_sample import main

    stats = main(collector.url)
    assert stats["dropped"] == stats["rejected"] == stats["provider_errors"] == 0
    events = collector.events()
    kinds = {e["type"] for e in events}
    assert kinds == {"turn", "identify", "ui_event"}
    assert stats["sent"] == len(events)
