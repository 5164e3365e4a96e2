"""Fixtures for the console tests: one headless Chromium per module, and a line at the end of
the run when the browser tests were skipped (so a missing browser is never silent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .browser import SKIPPED, chromium, require_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    with chromium() as driver:
        yield driver


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SKIPPED:
        terminalreporter.write_line(
            f"lumi console: the browser tests were SKIPPED: {SKIPPED[0]}", yellow=True
        )
