"""Endpoints that are not the Lumi protocol: ``/_emulator/*`` (private: the token), and the public
``/``, ``/openapi.yaml``, ``/files/*``, functions and the events ingest. Unsigned.
``/_emulator/*`` answers envelopes like the protocol does."""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from lumi._resources import OPENAPI, schema_bytes
from lumi.emulator import functions as functions_module
from lumi.emulator import ingest as ingest_module
from lumi.emulator import limits
from lumi.emulator import users as users_module
from lumi.emulator.access import LOGIN_PATH, TOKEN_HEADER
from lumi.emulator.context import Call, required_str
from lumi.emulator.envelope import (
    NOT_FOUND,
    EmulatorError,
    JSONReply,
    bad_request,
    json_response,
)
from lumi.emulator.signature import signed_query

#: File types a browser runs as a document that can hold script.
_SCRIPTABLE = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
)


def _int_arg(call: Call, name: str, default: int | None) -> int | None:
    value = call.request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit() or len(value) > 18:
        raise bad_request(f"query parameter {name} must be a non-negative integer")
    return int(value)


def welcome(call: Call) -> JSONReply:
    """``GET /``: what this server is, and how to reach its private routes (no secret here)."""
    return json_response(
        {
            "name": "lumi emulator",
            "apiBaseUrl": call.base_url,
            "openapi": call.base_url + "/openapi.yaml",
            "private": (
                f"/_emulator/* needs the token printed at start-up, as the {TOKEN_HEADER} header"
                f" or through {LOGIN_PATH}?token=<token>&next=/_emulator/ in a browser"
            ),
        }
    )


def login(call: Call) -> Response:
    return call.services.access.login(call.request)


def info(call: Call) -> Any:
    return {
        "name": "lumi emulator",
        "apiBaseUrl": call.base_url,
        "openapi": call.base_url + "/openapi.yaml",
        "private": [
            "GET /_emulator/outbox?projectId=",
            "GET /_emulator/events?projectId=&after=&limit=",
            "GET /_emulator/otp?email=&projectId=",
            "GET /_emulator/users?projectId=",
            "POST /_emulator/users/role {projectId, email, userRole}",
            "POST /_emulator/reset",
            "GET /_emulator/login?token=&next= (sets the browser cookie, then redirects)",
        ],
    }


def outbox(call: Call) -> Any:
    return call.services.outbox.messages(call.request.args.get("projectId"))


def events(call: Call) -> Any:
    return call.services.events.events(
        call.request.args.get("projectId"),
        after=_int_arg(call, "after", 0) or 0,
        limit=_int_arg(call, "limit", None),
    )


def latest_otp(call: Call) -> Any:
    email = call.request.args.get("email")
    if not email:
        raise bad_request("query parameter email is required")
    return {"otp": call.services.outbox.latest_otp(email, call.request.args.get("projectId"))}


def list_users(call: Call) -> Any:
    return call.services.users.list_users(call.request.args.get("projectId"))


def set_role(call: Call) -> Any:
    body = call.json_object()
    project_id = limits.name(
        required_str(body, "projectId"), "project id", limits.MAX_PROJECT_ID_BYTES
    )
    email = users_module.check_email(body.get("email"))
    role = users_module.check_role(body.get("userRole"))
    return call.services.users.set_role(project_id, email, role)


def reset(call: Call) -> Any:
    call.services.reset()
    return None


# --- raw responses --------------------------------------------------------------------------
def openapi(call: Call) -> Response:
    try:
        document = schema_bytes(OPENAPI)
    except OSError as exc:
        raise EmulatorError(
            NOT_FOUND,
            f"the OpenAPI document is missing from the installed package ({exc.strerror}); "
            "reinstall lumi-sdk",
            status=404,
        ) from exc
    return Response(document, content_type="application/yaml; charset=utf-8")


def serve_file(call: Call) -> Response:
    path = call.services.files.locate(
        str(call.values["projectId"]), str(call.values["fileId"]), str(call.values["fileName"])
    )
    if path is None:
        raise EmulatorError(NOT_FOUND, f"no such file: {call.request.path}", status=404)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = send_file(path, call.request.environ, mimetype=mimetype, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype in _SCRIPTABLE:
        # An uploaded page must not run script on the emulator's origin, where the console and
        # its cookie live: it opens as a document of an opaque origin.
        response.headers["Content-Security-Policy"] = "sandbox"
    return response


def invoke_function(call: Call) -> Response:
    request = call.request
    body = request.get_data(cache=True)
    try:
        parsed: Any = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        parsed = None
    user = None
    token = request.headers.get("Authorization", "")
    if token[:7].lower() == "bearer ":
        try:
            user = call.services.users.user_for_token(token[7:].strip(), call.project_id)
        except EmulatorError:
            user = None  # the function decides what an anonymous call may do
    function_request = functions_module.FunctionRequest(
        method=request.method,
        query=dict(signed_query(request.args)),
        headers=Headers(request.headers),
        json=parsed,
        body=body,
        user=user,
        project_id=call.project_id,
        name=str(call.values["name"]),
        api_base_url=call.base_url,
    )
    return functions_module.invoke(call.services.functions, function_request)


def ingest_events(call: Call) -> Response | JSONReply:
    request = call.request
    request.max_content_length = ingest_module.MAX_BODY_BYTES
    try:
        ingest_module.check_api_key(call.services.api_key, request.headers.get("X-Api-Key"))
        try:
            raw = request.get_data(cache=True)
        except RequestEntityTooLarge:
            raise ingest_module.IngestRefused(
                413, f"the body is larger than {ingest_module.MAX_BODY_BYTES} bytes"
            ) from None
        text = ingest_module.decode_body(
            raw, request.headers.get("Content-Type"), request.headers.get("Content-Encoding")
        )
    except ingest_module.IngestRefused as refused:
        return json_response({"error": refused.message}, refused.status)
    return json_response(call.services.events.ingest(text))
