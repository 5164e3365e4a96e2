"""A walk through the notes example apps over HTTP (``run.py --demo`` of flask_app and
django_app): two users sign up, each writes and sees only their own notes, the first user (the
project's ADMIN) opens the admin page, and an AI summary is recorded as a conversation turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

OTP = "123456"  # the emulator runs with a fixed one-time code


def walkthrough(base_url: str, step: Callable[[str, object], None]) -> dict[str, str]:
    """Run the steps; returns the user ids by name."""
    http = requests.Session()

    def call(method: str, path: str, token: str | None = None, **json: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = http.request(
            method, base_url + path, json=json or None, headers=headers, timeout=30
        )
        if response.status_code >= 400:
            return response.status_code, response.json()["error"]["message"]
        return response.json() if response.content else response.status_code

    tokens, user_ids = {}, {}
    for name in ("ada", "bob"):
        email = f"{name}@example.com"
        call("POST", "/api/signup/code", email=email)
        signed_up = call(
            "POST", "/api/signup", email=email, password="correct horse", code=OTP, name=name
        )
        step(f"sign up {name}", f"role {signed_up['user']['userRole']}")
        user_ids[name] = signed_up["user"]["userId"]
        tokens[name] = call("POST", "/api/signin", email=email, password="correct horse")["token"]
    step(
        "sign in with a wrong password",
        call("POST", "/api/signin", email="ada@example.com", password="x"),
    )

    ada, bob = tokens["ada"], tokens["bob"]
    note = call(
        "POST", "/api/notes", ada, title="Groceries", body="Milk, eggs, and a lot of coffee."
    )
    call("POST", "/api/notes", bob, title="Bob's secret", body="Nobody else reads this.")
    step("ada's notes", [n["title"] for n in call("GET", "/api/notes", ada)["notes"]])
    step("bob's notes", [n["title"] for n in call("GET", "/api/notes", bob)["notes"]])
    step("bob reads ada's note", call("GET", f"/api/notes/{note['_id']}", bob))
    updated = call("PATCH", f"/api/notes/{note['_id']}", ada, title="Groceries (today)")
    step("ada renames her note", updated["title"])
    summary = call("POST", f"/api/notes/{note['_id']}/summary", ada)
    step("AI summary (a tracked turn)", summary["summary"][:60])
    step("admin page as ada (ADMIN)", call("GET", "/api/admin/notes", ada))
    step("admin page as bob (USER)", call("GET", "/api/admin/notes", bob))
    step("no token", call("GET", "/api/notes"))
    step("delete", call("DELETE", f"/api/notes/{note['_id']}", ada))
    return user_ids
