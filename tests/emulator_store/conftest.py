"""Fixtures for the entity store tests: a fresh store in a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lumi.emulator.store import EntityStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EntityStore]:
    entity_store = EntityStore(tmp_path / "entities.db")
    yield entity_store
    entity_store.close()
