"""The enveloped endpoints of docs/protocol.md (§3-§5): each handler returns ``data`` or raises
EmulatorError."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Response

from lumi.emulator import limits
from lumi.emulator import users as users_module
from lumi.emulator.ai import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, parse_chat_request
from lumi.emulator.context import (
    Call,
    field_str,
    optional_object,
    required_str,
)
from lumi.emulator.envelope import INTERNAL, INVALID_TOKEN, NOT_FOUND, EmulatorError, bad_request
from lumi.emulator.files import UploadRefused
from lumi.emulator.outbox import validate_email
from lumi.emulator.query import QueryError

log = logging.getLogger("lumi.emulator")


# --- auth -----------------------------------------------------------------------------------
def _auth_body(call: Call) -> tuple[dict[str, Any], str, str]:
    body = call.json_object()
    project_id = required_str(body, "projectId")
    limits.name(project_id, "project id", limits.MAX_PROJECT_ID_BYTES)
    email = users_module.check_email(body.get("email"))
    return body, project_id, email


def sign_in(call: Call) -> Any:
    body, project_id, email = _auth_body(call)
    password = users_module.check_password_digest(body.get("password"), "password")
    return call.services.users.sign_in(project_id, email, password)


def send_otp(call: Call) -> Any:
    body, project_id, email = _auth_body(call)
    purpose = required_str(body, "emailType")
    call.services.users.send_otp(project_id, email, purpose)
    return None


def register(call: Call) -> Any:
    body, project_id, email = _auth_body(call)
    password = users_module.check_password_digest(body.get("password"), "password")
    user_name = field_str(body, "userName", required=False)
    return call.services.users.register(project_id, email, password, body.get("code"), user_name)


def reset_password(call: Call) -> Any:
    body, project_id, email = _auth_body(call)
    password = users_module.check_password_digest(body.get("newPassword"), "newPassword")
    call.services.users.reset_password(project_id, email, password, body.get("code"))
    return None


def user_info(call: Call) -> Any:
    user = call.user()
    if user is None:
        raise EmulatorError(INVALID_TOKEN, "not signed in: send Authorization: Bearer <userToken>")
    return user


# --- entities -------------------------------------------------------------------------------
def _store_call(function: Any, *args: Any) -> Any:
    """Run a store method; its ValueError (QueryError included) is the caller's mistake."""
    try:
        return function(*args)
    except QueryError as exc:
        raise bad_request(f"invalid query: {exc}") from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None


def _creator(call: Call) -> str | None:
    user = call.user(call.project_id)
    return None if user is None else str(user["userId"])


def _entity(call: Call) -> tuple[str, str]:
    call.user(call.project_id)  # a bad token is refused on every project call
    return call.project_id, str(call.values["entity"])


def _sort(body: dict[str, Any]) -> dict[str, Any] | None:
    return optional_object(body, "sort")


def list_documents(call: Call) -> Any:
    project_id, entity = _entity(call)
    body = call.json_object(allow_empty=True)
    filter_, sort = optional_object(body, "filter"), _sort(body)
    page, _ = _store_call(call.services.store.find, project_id, entity, filter_, sort, None, None)
    return page


def list_documents_by_page(call: Call) -> Any:
    project_id, entity = _entity(call)
    body = call.json_object(allow_empty=True)
    filter_, sort = optional_object(body, "filter"), _sort(body)
    limit, skip = limits.count(body, "limit"), limits.count(body, "skip")
    page, total = _store_call(
        call.services.store.find, project_id, entity, filter_, sort, limit, skip
    )
    return {"list": page, "total": total}


def get_document(call: Call) -> Any:
    project_id, entity = _entity(call)
    return _store_call(call.services.store.get, project_id, entity, str(call.values["id"]))


def create_document(call: Call) -> Any:
    project_id, entity = _entity(call)
    document = call.json_object()
    return _store_call(call.services.store.create, project_id, entity, document, _creator(call))


def create_documents(call: Call) -> Any:
    project_id, entity = _entity(call)
    documents = call.json_body()
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise bad_request("the JSON body must be an array of objects (the documents to create)")
    return _store_call(
        call.services.store.create_many, project_id, entity, documents, _creator(call)
    )


def update_document(call: Call) -> Any:
    project_id, entity = _entity(call)
    body = call.json_object()
    filter_ = optional_object(body, "filter")
    update = optional_object(body, "update")
    if filter_ is None:
        raise bad_request("filter is required: {filter: {_id: <id>}, update: {...}}")
    doc_id = filter_.get("_id", filter_.get("id"))
    if not isinstance(doc_id, str) or not doc_id:
        raise bad_request("filter._id is required: the id of the document to update")
    if update is None:
        raise bad_request("update is required: an object with the fields to set")
    updated = _store_call(call.services.store.update, project_id, entity, doc_id, update)
    if updated is None:
        raise EmulatorError(NOT_FOUND, f"no document {doc_id} in {entity}")
    return updated


def delete_document(call: Call) -> Any:
    project_id, entity = _entity(call)
    _store_call(call.services.store.delete, project_id, entity, str(call.values["id"]))
    return None


def delete_documents(call: Call) -> Any:
    project_id, entity = _entity(call)
    ids = [
        part
        for value in call.request.args.getlist("ids")
        for part in value.split(",")  # a single comma-joined value is accepted too
        if part
    ]
    if not ids:
        raise bad_request("query parameter ids is required: ?ids=<id>&ids=<id>")
    _store_call(call.services.store.delete_many, project_id, entity, ids)
    return None


# --- email and files ------------------------------------------------------------------------
def send_email(call: Call) -> Any:
    call.user(call.project_id)
    call.services.outbox.add_email(call.project_id, validate_email(call.json_object()))
    return None


def upload_files(call: Call) -> Any:
    call.user(call.project_id)
    if call.request.mimetype != "multipart/form-data":
        raise bad_request("expected a multipart/form-data body with one part 'files' per file")
    parts = call.request.files.getlist("files")
    if not parts:
        others = ", ".join(sorted(call.request.files)) or "none"
        raise bad_request(f"multipart field 'files' is required (file fields received: {others})")
    results: list[dict[str, Any]] = []
    stored: list[str] = []
    try:
        for part in parts:
            name = part.filename or "file"
            try:
                path = call.services.files.save(call.project_id, name, part.stream)
            except UploadRefused as exc:
                results.append({"fileName": name, "uploadError": str(exc)})
                continue
            stored.append(path)
            results.append({"fileName": name, "fileUrl": call.base_url + path})
    except BaseException:
        call.services.files.discard(stored)  # the caller never learns these URLs: no orphans
        raise
    return results


def delete_files(call: Call) -> Any:
    call.user(call.project_id)
    urls = call.json_object().get("fileUrls")
    if not isinstance(urls, list):
        raise bad_request("fileUrls is required: a list of file URLs")
    call.services.files.delete_urls(call.project_id, urls)
    return None


# --- AI -------------------------------------------------------------------------------------
def _provider_failed(exc: Exception) -> EmulatorError:
    log.exception("the AI provider failed")
    return EmulatorError(INTERNAL, f"the AI provider failed: {type(exc).__name__}: {exc}")


def generate_text(call: Call) -> Any:
    call.user(call.project_id)
    model, messages = parse_chat_request(call.json_object(), DEFAULT_TEXT_MODEL)
    try:
        content = call.services.ai.generate_text(model, messages)
    except Exception as exc:
        raise _provider_failed(exc) from None
    if not isinstance(content, str):
        raise EmulatorError(INTERNAL, "the AI provider returned text that is not a string")
    return {"chatId": secrets.token_hex(12), "content": content}


def _sse(payload: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def generate_text_stream(call: Call) -> Any:
    """SSE frames ``data: {"chatId", "content": <delta>}`` with no ``event:`` line; a provider
    failure after the stream started is one last frame ``event: error`` with ``{code, message}``.
    """
    call.user(call.project_id)
    model, messages = parse_chat_request(call.json_object(), DEFAULT_TEXT_MODEL)
    provider, chat_id = call.services.ai, secrets.token_hex(12)

    def frames() -> Iterator[bytes]:
        try:
            for delta in provider.stream_text(model, messages):
                yield _sse({"chatId": chat_id, "content": str(delta)})
        except Exception as exc:
            error = _provider_failed(exc)
            yield _sse({"code": error.code, "message": error.message}, event="error")

    return Response(
        frames(),
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        direct_passthrough=True,
    )


def _absolute(call: Call, task: dict[str, Any]) -> dict[str, Any]:
    if "imageURL" in task:
        task["imageURL"] = call.base_url + task["imageURL"]
    return task


def create_image_task(call: Call) -> Any:
    call.user(call.project_id)
    model, messages = parse_chat_request(call.json_object(), DEFAULT_IMAGE_MODEL)
    return _absolute(call, call.services.images.create(call.project_id, model, messages))


def get_image_task(call: Call) -> Any:
    call.user(call.project_id)
    body = call.json_object()
    if not body.get("lumiApiKey") or not isinstance(body.get("lumiApiKey"), str):
        raise bad_request("lumiApiKey is required (the client reads it from LUMI_API_KEY)")
    message_id = required_str(body, "messageId")
    return _absolute(call, call.services.images.poll(call.project_id, message_id))
