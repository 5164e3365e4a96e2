"""The emulator as a WSGI application (Werkzeug).

Werkzeug gives routing (``Map``/``Rule`` with converters and method matching), request/response
objects with multipart parsing that spools big files to disk, ``send_file`` with conditional
requests, streaming responses, and a threaded development server (``make_server(threaded=True)``)
that needs no framework around it. A framework (Flask) would add little here, and a raw
``http.server`` would mean hand-writing multipart parsing, routing and chunked streaming.

Every request goes through ``EmulatorApp.dispatch``: route, check the signature (protocol
endpoints), run the handler, wrap the result in an envelope. Any failure becomes an error
envelope; an unexpected exception is logged and answered with code 10500, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from lumi.emulator import handlers, private
from lumi.emulator.context import Call, Services
from lumi.emulator.envelope import (
    BAD_REQUEST,
    INTERNAL,
    NOT_FOUND,
    TOO_LARGE,
    EmulatorError,
    envelope,
    error_envelope,
)
from lumi.emulator.signature import signed_query

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("lumi.emulator")

#: Largest JSON body accepted (uploads get a larger bound, see ``_max_body``).
MAX_JSON_BODY = 16 * 1024 * 1024
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, X-Timestamp, X-Nonce, X-Sign, X-Top-Access, X-Api-Key, "
        "Cache-Control, X-Accel-Buffering, Accept"
    ),
    "Access-Control-Max-Age": "600",
}


class Kind(Enum):
    SIGNED = "signed"  # the protocol: signature checked, answer enveloped
    PRIVATE = "private"  # /_emulator/*: unsigned, answer enveloped
    RAW = "raw"  # the handler returns its own Response


Handler = Callable[[Call], Any]
_LM = "/lm/<projectId>"
_DOCS = _LM + "/<entity>/documents"
_FUNCTION_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

#: (path, methods, handler, kind)
ROUTES: list[tuple[str, list[str], Handler, Kind]] = [
    ("/lm/user/password/login", ["POST"], handlers.sign_in, Kind.SIGNED),
    ("/lm/user/email/code/send", ["POST"], handlers.send_otp, Kind.SIGNED),
    ("/lm/user/password/register", ["POST"], handlers.register, Kind.SIGNED),
    ("/lm/user/password/reset", ["POST"], handlers.reset_password, Kind.SIGNED),
    ("/lm/user/info", ["POST"], handlers.user_info, Kind.SIGNED),
    (_DOCS + "/list", ["POST"], handlers.list_documents, Kind.SIGNED),
    (_DOCS + "/listByPage", ["POST"], handlers.list_documents_by_page, Kind.SIGNED),
    # Clients up to 0.3.x called the paged list /find.
    (_DOCS + "/find", ["POST"], handlers.list_documents_by_page, Kind.SIGNED),
    (_DOCS + "/batch", ["POST"], handlers.create_documents, Kind.SIGNED),
    (_DOCS + "/batch-by-ids", ["DELETE"], handlers.delete_documents, Kind.SIGNED),
    (_DOCS + "/<id>", ["GET"], handlers.get_document, Kind.SIGNED),
    (_DOCS + "/<id>", ["DELETE"], handlers.delete_document, Kind.SIGNED),
    (_DOCS, ["POST"], handlers.create_document, Kind.SIGNED),
    (_DOCS, ["PUT"], handlers.update_document, Kind.SIGNED),
    (_LM + "/email/send", ["POST"], handlers.send_email, Kind.SIGNED),
    (_LM + "/file/batch", ["POST"], handlers.upload_files, Kind.SIGNED),
    (_LM + "/file/batch", ["DELETE"], handlers.delete_files, Kind.SIGNED),
    (_LM + "/ai/chat/completions", ["POST"], handlers.generate_text, Kind.SIGNED),
    (_LM + "/ai/chat/stream", ["POST"], handlers.generate_text_stream, Kind.SIGNED),
    (_LM + "/ai/image/task", ["POST"], handlers.create_image_task, Kind.SIGNED),
    (_LM + "/ai/image/get", ["POST"], handlers.get_image_task, Kind.SIGNED),
    ("/v1/functions/<projectId>/<name>", _FUNCTION_METHODS, private.invoke_function, Kind.RAW),
    ("/collect/sdk/events", ["POST"], private.ingest_events, Kind.RAW),
    ("/openapi.yaml", ["GET"], private.openapi, Kind.RAW),
    ("/", ["GET"], private.info, Kind.PRIVATE),
    ("/_emulator", ["GET"], private.info, Kind.PRIVATE),
    ("/_emulator/outbox", ["GET"], private.outbox, Kind.PRIVATE),
    ("/_emulator/events", ["GET"], private.events, Kind.PRIVATE),
    ("/_emulator/otp", ["GET"], private.latest_otp, Kind.PRIVATE),
    ("/_emulator/users", ["GET"], private.list_users, Kind.PRIVATE),
    ("/_emulator/users/role", ["POST"], private.set_role, Kind.PRIVATE),
    ("/_emulator/reset", ["POST"], private.reset, Kind.PRIVATE),
    ("/_emulator/files/<projectId>/<fileId>/<name>", ["GET"], private.serve_file, Kind.RAW),
]


class EmulatorApp:
    """The WSGI callable."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._endpoints: dict[str, tuple[Handler, Kind]] = {}
        rules = []
        for index, (path, methods, handler, kind) in enumerate(ROUTES):
            endpoint = f"{index}:{handler.__name__}"
            self._endpoints[endpoint] = (handler, kind)
            rules.append(Rule(path, methods=methods, endpoint=endpoint))
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        response.headers.update(_CORS_HEADERS)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.method == "OPTIONS":  # CORS preflight of a browser app on another origin
            return Response(status=204)
        try:
            handler, kind, values = self._route(request)
            request.max_content_length = self._max_body(handler)
            call = Call(request=request, services=self.services, values=values)
            if kind is Kind.SIGNED:
                self._check_signature(request)
            result = handler(call)
            if kind is Kind.RAW or isinstance(result, Response):
                return result  # type: ignore[no-any-return]
            return envelope(result)
        except EmulatorError as error:
            return error_envelope(error)
        except RequestEntityTooLarge:
            limit = request.max_content_length
            return error_envelope(
                EmulatorError(TOO_LARGE, f"the request body is larger than {limit} bytes")
            )
        except HTTPException as exc:  # e.g. a malformed multipart body
            return error_envelope(
                EmulatorError(BAD_REQUEST, f"bad request: {exc.description or exc.name}")
            )
        except Exception:
            log.exception("emulator error on %s %s", request.method, request.path)
            return error_envelope(
                EmulatorError(INTERNAL, "internal emulator error; the emulator log has the details")
            )

    def _route(self, request: Request) -> tuple[Handler, Kind, dict[str, Any]]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            raise EmulatorError(
                NOT_FOUND, f"unknown route: {request.method} {request.path}", status=404
            ) from None
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise EmulatorError(
                NOT_FOUND,
                f"method {request.method} not allowed on {request.path} (allowed: {allowed})",
                status=405,
            ) from None
        handler, kind = self._endpoints[str(endpoint)]
        return handler, kind, dict(values)

    def _max_body(self, handler: Handler) -> int:
        if handler is handlers.upload_files:
            return max(MAX_JSON_BODY, 8 * self.services.files.max_file_size)
        return MAX_JSON_BODY

    def _check_signature(self, request: Request) -> None:
        # A multipart body is signed as empty (the JS client hashes "" for FormData).
        body = b"" if request.mimetype == "multipart/form-data" else request.get_data(cache=True)
        self.services.signatures.check(signed_query(request.args), request.headers, body)
