"""A notes API on Flask + Lumi: sign-up/sign-in, your own notes, an admin page, AI summaries.

Run it against the local emulator with one command: ``python examples/flask_app/run.py``.
Against a real project: set LUMI_PROJECT_ID, LUMI_API_BASE_URL, LUMI_API_KEY (and, for event
tracking, LUMI_EVENTS_ENDPOINT / LUMI_EVENTS_WRITE_KEY), then ``flask --app app run``.

The token is returned by /api/signin and sent back by the caller as ``Authorization: Bearer``.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from flask import Flask, request

import lumi
from lumi.contrib.flask import (
    Lumi,
    current_lumi,
    current_lumi_session,
    current_lumi_user,
    lumi_admin_required,
    lumi_login_required,
)

SUMMARY_PROMPT = "Summarise this note in one short sentence."


def _env_config() -> dict[str, Any]:
    names = ("PROJECT_ID", "API_BASE_URL", "API_KEY", "EVENTS_ENDPOINT", "EVENTS_WRITE_KEY")
    return {f"LUMI_{n}": os.environ[f"LUMI_{n}"] for n in names if os.environ.get(f"LUMI_{n}")}


def _body(*required: str, optional: tuple[str, ...] = ()) -> dict[str, str]:
    """The JSON object of the request with these string fields (a 400 names a missing one)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise lumi.ValidationError("send a JSON object (Content-Type: application/json)")
    out = {}
    for name in (*required, *optional):
        value = data.get(name)
        if value is None and name in optional:
            continue
        if not isinstance(value, str) or not value.strip():
            raise lumi.ValidationError(f"{name!r} must be a non-empty string")
        out[name] = value
    return out


def _own_note(note_id: str) -> lumi.Record:
    """The note if the signed-in user wrote it; another user's note is 'not found' too."""
    user = current_lumi_user()
    note = current_lumi().entities.Notes.get(note_id)
    if note is None or user is None or note.creator != user.user_id:
        raise lumi.NotFoundError(10404, f"no note {note_id}")
    return note


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(_env_config())
    app.config.update(config or {})
    lumi_ext = Lumi(app)

    @app.post("/api/signup/code")
    def send_code() -> Any:
        current_lumi().auth.send_otp(email=_body("email")["email"], type="register")
        return {"sent": True}

    @app.post("/api/signup")
    def sign_up() -> Any:
        data = _body("email", "password", "code", optional=("name",))
        result = current_lumi().auth.sign_up_with_password(
            email=data["email"],
            password=data["password"],
            otp=data["code"],
            user_name=data.get("name"),
        )
        return {"token": result.access_token, "user": lumi.unstructure(result.user)}, 201

    @app.post("/api/signin")
    def sign_in() -> Any:
        data = _body("email", "password")
        result = current_lumi().auth.sign_in_with_password(
            email=data["email"], password=data["password"]
        )
        return {"token": result.access_token, "user": lumi.unstructure(result.user)}

    @app.get("/api/me")
    @lumi_login_required
    def me() -> Any:
        return lumi.unstructure(current_lumi_user())

    @app.get("/api/notes")
    @lumi_login_required
    def list_notes() -> Any:
        user = current_lumi_user()
        assert user is not None
        page = current_lumi().entities.Notes.list(
            filter={"creator": user.user_id}, sort={"createdAt": -1}
        )
        return {"notes": lumi.unstructure(page.list), "total": page.total}

    @app.post("/api/notes")
    @lumi_login_required
    def create_note() -> Any:
        data = _body("title", optional=("body",))
        note = current_lumi().entities.Notes.create(
            {"title": data["title"], "body": data.get("body", "")}
        )
        return lumi.unstructure(note), 201

    @app.get("/api/notes/<note_id>")
    @lumi_login_required
    def get_note(note_id: str) -> Any:
        return lumi.unstructure(_own_note(note_id))

    @app.patch("/api/notes/<note_id>")
    @lumi_login_required
    def update_note(note_id: str) -> Any:
        _own_note(note_id)
        changes = _body(optional=("title", "body"))
        return lumi.unstructure(current_lumi().entities.Notes.update(note_id, changes))

    @app.delete("/api/notes/<note_id>")
    @lumi_login_required
    def delete_note(note_id: str) -> Any:
        _own_note(note_id)
        current_lumi().entities.Notes.delete(note_id)
        return "", 204

    @app.post("/api/notes/<note_id>/summary")
    @lumi_login_required
    def summarise(note_id: str) -> Any:
        note = _own_note(note_id)
        messages = [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": f"{note['title']}\n\n{note.get('body', '')}"},
        ]
        generate = current_lumi().tools.ai.generate_text
        if lumi_ext.tracker is None:  # no event tracking configured
            return {"summary": generate(messages=messages).content}
        # One conversation turn, recorded with the user's id and this request's trace.
        with current_lumi_session().turn() as turn:
            turn.set_messages(messages)
            result = turn.wrap_llm(
                lambda: generate(messages=messages),
                model="gemini-2.5-flash",
                prompt_id="note-summary-v1",
            )
            turn.add_message("assistant", result.content)
        return {"summary": result.content, "turn_id": turn.turn_id}

    @app.get("/api/admin/notes")
    @lumi_admin_required
    def admin_overview() -> Any:
        notes = current_lumi().entities.Notes.list().list
        per_user = Counter(str(note.creator) for note in notes)
        return {"total": len(notes), "per_user": dict(per_user)}

    return app
