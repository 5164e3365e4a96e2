"""Fixtures of the integration tests: two users on the emulator, a tracker sending to its ingest,
and Django configured in-process (no settings module, no database) for tests/contrib only.

Django is configured here, at collection, with ``settings.configure``: the rest of the suite
never imports Django, and pytest-django only adds its (harmless) test environment.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import lumi
from lumi.emulator.server import Emulator
from lumi.events import Tracker
from lumi.testing.plugin import TEST_PROJECT_ID

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The Django example's packages (django_notes, django_notes_site) and the shared walkthrough.
for folder in (EXAMPLES / "django_app", EXAMPLES):
    if str(folder) not in sys.path:
        sys.path.append(str(folder))


def _configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="tests-only",
            DEBUG=False,
            ALLOWED_HOSTS=["testserver", "127.0.0.1"],
            INSTALLED_APPS=["lumi.contrib.django", "django_notes"],
            MIDDLEWARE=["lumi.contrib.django.middleware.LumiMiddleware"],
            ROOT_URLCONF="tests.contrib.django_urls",
            DATABASES={},
            USE_TZ=True,
            LUMI={"PROJECT_ID": TEST_PROJECT_ID, "API_BASE_URL": "http://127.0.0.1:9"},
        )
    django.setup()


_configure_django()

PASSWORD = "correct horse"


@attrs.frozen
class Account:
    name: str
    email: str
    token: str
    user_id: str
    role: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_up(emulator: Emulator, name: str) -> Account:
    client = lumi.create_client(project_id=TEST_PROJECT_ID, api_base_url=emulator.url)
    email = f"{name}@example.com"
    client.auth.send_otp(email=email, type="register")
    otp = emulator.latest_otp(email, TEST_PROJECT_ID)
    assert otp is not None
    result = client.auth.sign_up_with_password(email=email, password=PASSWORD, otp=otp)
    client.close()
    return Account(
        name, email, result.access_token, result.user.user_id, str(result.user.user_role)
    )


@pytest.fixture
def accounts(lumi_emulator: Emulator) -> dict[str, Account]:
    """ada signs up first (the project's ADMIN), then bob (USER)."""
    return {name: sign_up(lumi_emulator, name) for name in ("ada", "bob")}


@pytest.fixture
def tracker(lumi_emulator: Emulator) -> Iterator[Tracker]:
    """A tracker delivering to the emulator's ingest (flush it before reading events)."""
    made = Tracker(endpoint=lumi_emulator.url, write_key="wk_test", persist_identity=False)
    yield made
    made.shutdown(timeout=5)


def turn_events(emulator: Emulator) -> list[dict[str, Any]]:
    return [event for event in emulator.events() if event.get("type") == "turn"]
