"""The notes API: sign-up/sign-in, your own notes, an admin page, AI summaries.

Function views use the decorators, class-based views the mixins. A ``lumi.LumiError`` raised
here (a bad field, a note that is not yours) becomes a JSON error answer in LumiMiddleware.
"""

from __future__ import annotations

import json
from collections import Counter

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View
from django.views.decorators.http import require_GET, require_POST

import lumi
from lumi.contrib.django import (
    LumiAdminRequiredMixin,
    LumiLoginRequiredMixin,
    get_integration,
    get_lumi_user,
    lumi_login_required,
)

SUMMARY_PROMPT = "Summarise this note in one short sentence."


def _body(request: HttpRequest, *required: str, optional: tuple[str, ...] = ()) -> dict[str, str]:
    """The JSON object of the request with these string fields (a 400 names a missing one)."""
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        data = None
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


def _own_note(request: HttpRequest, note_id: str) -> lumi.Record:
    """The note if the signed-in user wrote it; another user's note is 'not found' too."""
    user = get_lumi_user(request)
    note = request.lumi.entities.Notes.get(note_id)
    if note is None or user is None or note.creator != user.user_id:
        raise lumi.NotFoundError(10404, f"no note {note_id}")
    return note


def _signed_in(result: lumi.SignInResult, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {"token": result.access_token, "user": lumi.unstructure(result.user)}, status=status
    )


@require_POST
def send_code(request: HttpRequest) -> JsonResponse:
    request.lumi.auth.send_otp(email=_body(request, "email")["email"], type="register")
    return JsonResponse({"sent": True})


@require_POST
def sign_up(request: HttpRequest) -> JsonResponse:
    data = _body(request, "email", "password", "code", optional=("name",))
    result = request.lumi.auth.sign_up_with_password(
        email=data["email"], password=data["password"], otp=data["code"], user_name=data.get("name")
    )
    return _signed_in(result, status=201)


@require_POST
def sign_in(request: HttpRequest) -> JsonResponse:
    data = _body(request, "email", "password")
    return _signed_in(
        request.lumi.auth.sign_in_with_password(email=data["email"], password=data["password"])
    )


@require_GET
@lumi_login_required
def me(request: HttpRequest) -> JsonResponse:
    return JsonResponse(lumi.unstructure(get_lumi_user(request)))


class NotesView(LumiLoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> JsonResponse:
        page = request.lumi.entities.Notes.list(
            filter={"creator": request.lumi_user.user_id}, sort={"createdAt": -1}
        )
        return JsonResponse({"notes": lumi.unstructure(page.list), "total": page.total})

    def post(self, request: HttpRequest) -> JsonResponse:
        data = _body(request, "title", optional=("body",))
        note = request.lumi.entities.Notes.create(
            {"title": data["title"], "body": data.get("body", "")}
        )
        return JsonResponse(lumi.unstructure(note), status=201)


class NoteView(LumiLoginRequiredMixin, View):
    def get(self, request: HttpRequest, note_id: str) -> JsonResponse:
        return JsonResponse(lumi.unstructure(_own_note(request, note_id)))

    def patch(self, request: HttpRequest, note_id: str) -> JsonResponse:
        _own_note(request, note_id)
        changes = _body(request, optional=("title", "body"))
        return JsonResponse(lumi.unstructure(request.lumi.entities.Notes.update(note_id, changes)))

    def delete(self, request: HttpRequest, note_id: str) -> HttpResponse:
        _own_note(request, note_id)
        request.lumi.entities.Notes.delete(note_id)
        return HttpResponse(status=204)


@require_POST
@lumi_login_required
def summarise(request: HttpRequest, note_id: str) -> JsonResponse:
    note = _own_note(request, note_id)
    messages = [
        {"role": "system", "content": SUMMARY_PROMPT},
        {"role": "user", "content": f"{note['title']}\n\n{note.get('body', '')}"},
    ]
    generate = request.lumi.tools.ai.generate_text
    if get_integration().tracker is None:  # no event tracking configured
        return JsonResponse({"summary": generate(messages=messages).content})
    # One conversation turn, recorded with the user's id and this request's trace.
    with request.lumi_session.turn() as turn:
        turn.set_messages(messages)
        result = turn.wrap_llm(
            lambda: generate(messages=messages),
            model="gemini-2.5-flash",
            prompt_id="note-summary-v1",
        )
        turn.add_message("assistant", result.content)
    return JsonResponse({"summary": result.content, "turn_id": turn.turn_id})


class AdminOverview(LumiAdminRequiredMixin, View):
    def get(self, request: HttpRequest) -> JsonResponse:
        notes = request.lumi.entities.Notes.list().list
        per_user: Counter[str] = Counter(str(note.creator) for note in notes)
        return JsonResponse({"total": len(notes), "per_user": dict(per_user)})
