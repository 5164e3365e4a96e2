"""Fixtures for the lumi.events tests: a local collector and a tracker factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lumi.events import Tracker

from .collector import Collector, running_collector

#: fast delivery for tests: no waiting between retries beyond a few ms
FAST = {"flush_interval_ms": 50, "retry_delays_ms": (5, 10, 15), "retry_jitter": 0.0}


@pytest.fixture
def collector() -> Iterator[Collector]:
    with running_collector() as c:
        yield c


@pytest.fixture
def make_tracker(tmp_path: Path, collector: Collector) -> Iterator[Callable[..., Tracker]]:
    made: list[Tracker] = []

    def make(**options: Any) -> Tracker:
        settings: dict[str, Any] = {
            "write_key": "gi_test_secret_key",
            "endpoint": collector.url,
            "identity_path": tmp_path / f"identity-{len(made)}.json",
            **FAST,
        }
        settings.update(options)
        tracker = Tracker(**settings)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.shutdown(timeout=5)


@pytest.fixture(autouse=True)
def _restore_default_tracker() -> Iterator[None]:
    """Tests that call lumi.events.init() must not leave their tracker as the default."""
    import lumi.events

    saved = lumi.events._default
    yield
    lumi.events._default = saved
