"""pytest plugin (entry point ``lumi``): a local Lumi emulator for your tests.

Fixtures:

- ``lumi_emulator``: the :class:`lumi.emulator.Emulator` of the session, emptied before each test
  (users, documents, mail, files, events). ``lumi_emulator.url``, ``.outbox()``,
  ``.latest_otp(email)``, ``.events()``; ``.private_headers`` opens its ``/_emulator/*`` routes
  (this run's token), and the ``lumi`` commands find that token by themselves;
  ``.console_url`` opens its console in a browser.
- ``lumi_client``: ``lumi.create_client(project_id="p_test", api_base_url=lumi_emulator.url)``.
- ``lumi_emulator_options``: override it (session scope) to pass ``Emulator`` keyword arguments,
  e.g. ``{"functions": "functions.py", "fixed_otp": "123456"}``.

Importing this module is cheap: the emulator (Werkzeug, waitress, SQLite) loads when a fixture
is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lumi.client import LumiClient
    from lumi.emulator.server import Emulator

TEST_PROJECT_ID = "p_test"


@pytest.fixture(scope="session")
def lumi_emulator_options() -> dict[str, Any]:
    """Keyword arguments for the session's ``Emulator``; override to configure it."""
    return {}


@pytest.fixture(scope="session")
def _lumi_emulator_session(lumi_emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    from lumi.emulator.server import Emulator

    with Emulator(**lumi_emulator_options) as emulator:
        yield emulator


@pytest.fixture
def lumi_emulator(_lumi_emulator_session: Emulator) -> Emulator:
    """The session's emulator, reset to empty for this test."""
    _lumi_emulator_session.reset()
    return _lumi_emulator_session


@pytest.fixture
def lumi_client(lumi_emulator: Emulator) -> Iterator[LumiClient]:
    """A client of project ``p_test`` bound to ``lumi_emulator``."""
    from lumi.client import create_client  # the same function as lumi.create_client

    client = create_client(project_id=TEST_PROJECT_ID, api_base_url=lumi_emulator.url)
    try:
        yield client
    finally:
        client.close()
