"""The Flask apps of the tests: the example notes app, and a probe app."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

from flask import Flask, request

from lumi.contrib.flask import (
    Lumi,
    current_lumi,
    current_lumi_session,
    current_lumi_user,
    lumi_admin_required,
    lumi_login_required,
)
from lumi.events import Tracker
from lumi.testing.plugin import TEST_PROJECT_ID

from .conftest import EXAMPLES
from .error_cases import ERROR_CASES


def example_module() -> ModuleType:
    """examples/flask_app/app.py, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "lumi_flask_notes_example", EXAMPLES / "flask_app" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def probe_app(base_url: str, tracker: Tracker | None, **config: Any) -> Flask:
    app = Flask("lumi_probe")
    app.config.update(
        LUMI_PROJECT_ID=TEST_PROJECT_ID, LUMI_API_BASE_URL=base_url, LUMI_EVENTS_TRACKER=tracker
    )
    app.config.update(config)
    ext = Lumi(app)

    @app.get("/raise/<kind>")
    def raise_error(kind: str) -> Any:
        raise ERROR_CASES[kind][0]()

    @app.get("/probe")
    @lumi_login_required
    def probe() -> Any:
        for _ in range(3):
            user = current_lumi_user()
        assert user is not None and ext.user is user and ext.client is current_lumi()
        assert ext.tracker is tracker and ext.shared is not current_lumi()
        with current_lumi_session().turn() as turn:
            turn.set_messages([{"role": "user", "content": request.args.get("who", "")}])
        header = request.headers.get("Authorization", "")
        return {
            "user_id": user.user_id,
            "email": user.email,
            "token_matches": current_lumi().auth.access_token == header.removeprefix("Bearer "),
            "distinct_id": tracker.get_distinct_id() if tracker else None,
            "session_id": turn.session.session_id,
        }

    @app.get("/admin")
    @lumi_admin_required
    def admin_only() -> Any:
        return {"admin": True}

    @app.get("/anonymous")
    def anonymous() -> Any:
        return {
            "user_is_none": current_lumi_user() is None,
            "authenticated": current_lumi().auth.is_authenticated,
            "distinct_id": tracker.get_distinct_id() if tracker else None,
        }

    return app
