"""The emulator as a WSGI application (Werkzeug).

Werkzeug gives request objects with multipart parsing that spools big files to disk,
``send_file`` with conditional requests and streaming responses. A framework (Flask) would add
little here, and a raw WSGI callable would mean hand-writing multipart parsing. Routes are
matched by :mod:`lumi.emulator.routing` (one regular expression per method). The HTTP server is
waitress (``server.py``).

Every request goes through ``EmulatorApp.__call__``: check the ``Host``, route, check what the
route's kind asks (signature, private token), run the handler, wrap the result in an envelope.
An expected failure is an error envelope (HTTP 200 on protocol routes); an unexpected exception
is logged with its traceback and answered HTTP 500, code 10500, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_path_info

from lumi.emulator import handlers, limits, private
from lumi.emulator.access import LOGIN_PATH
from lumi.emulator.console import views as console_views
from lumi.emulator.context import Call, Environ, Services
from lumi.emulator.envelope import (
    BAD_REQUEST,
    FORBIDDEN,
    INTERNAL,
    NOT_FOUND,
    TOO_LARGE,
    EmulatorError,
    JSONReply,
    envelope,
    error_envelope,
)
from lumi.emulator.routing import MethodNotAllowed, NoRoute, Router
from lumi.emulator.signature import signed_query

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse

log = logging.getLogger("lumi.emulator")

#: On every answer of a public route: a browser app on another origin may read it.
_CORS_HEADERS = [("Access-Control-Allow-Origin", "*")]
#: On a CORS preflight only (browsers read these nowhere else).
_PREFLIGHT_HEADERS = [
    *_CORS_HEADERS,
    ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type, X-Timestamp, X-Nonce, X-Sign, X-Top-Access, X-Api-Key, "
        "Cache-Control, X-Accel-Buffering, Accept",
    ),
    ("Access-Control-Max-Age", "600"),
]
_PRIVATE_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


class Kind(Enum):
    SIGNED = "signed"  # the Lumi protocol: CORS, signature checked, answer enveloped
    PUBLIC = "public"  # functions, events ingest, files, the OpenAPI document: CORS, own answer
    PRIVATE = "private"  # /_emulator/*: the private token, no CORS, enveloped unless a Response
    LOGIN = "login"  # /_emulator/login: no CORS, checks the token of its own query


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
    ("/v1/functions/<projectId>/<name>", _FUNCTION_METHODS, private.invoke_function, Kind.PUBLIC),
    ("/collect/sdk/events", ["POST"], private.ingest_events, Kind.PUBLIC),
    ("/openapi.yaml", ["GET"], private.openapi, Kind.PUBLIC),
    ("/files/<projectId>/<fileId>/<fileName>", ["GET"], private.serve_file, Kind.PUBLIC),
    ("/", ["GET"], private.welcome, Kind.PUBLIC),
    (LOGIN_PATH, ["GET"], private.login, Kind.LOGIN),
    ("/_emulator", ["GET"], private.info, Kind.PRIVATE),
    ("/_emulator/outbox", ["GET"], private.outbox, Kind.PRIVATE),
    ("/_emulator/events", ["GET"], private.events, Kind.PRIVATE),
    ("/_emulator/otp", ["GET"], private.latest_otp, Kind.PRIVATE),
    ("/_emulator/users", ["GET"], private.list_users, Kind.PRIVATE),
    ("/_emulator/users/role", ["POST"], private.set_role, Kind.PRIVATE),
    ("/_emulator/reset", ["POST"], private.reset, Kind.PRIVATE),
    # The console's pages (lumi/emulator/console): private like the routes above.
    *[(path, methods, view, Kind.PRIVATE) for path, methods, view in console_views.ROUTES],
]

#: Route values and their bounds (what they are called in a message, UTF-8 bytes).
_VALUE_BOUNDS = {
    "projectId": ("project id", limits.MAX_PROJECT_ID_BYTES),
    "entity": ("entity name", limits.MAX_ENTITY_NAME_BYTES),
    "id": ("document id", limits.MAX_DOCUMENT_ID_BYTES),
    "name": ("function name", limits.MAX_FUNCTION_NAME_BYTES),
}


class EmulatorApp:
    """The WSGI callable."""

    def __init__(self, services: Services, *, log_requests: bool = False) -> None:
        self.services = services
        self.access = services.access
        self.log_requests = log_requests
        self.router = Router(
            (path, methods, (handler, kind)) for path, methods, handler, kind in ROUTES
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = _path(environ)
        try:
            response = self.dispatch(environ, path)
        except Exception:  # a bug outside the handlers (routing, access, headers)
            response = self._crashed(environ)
        # The path only: a query may carry the login token. The console's poll is not logged
        # (a line every 2 s per open page).
        if self.log_requests and path != console_views.STAMP_PATH:
            status = response.status if isinstance(response, JSONReply) else response.status_code
            method = environ.get("REQUEST_METHOD")
            log.info('%s "%s %s" %s', environ.get("REMOTE_ADDR"), method, path, status)
        try:
            return response(environ, start_response)
        except Exception:  # building the reply failed before anything was sent
            return self._crashed(environ)(environ, start_response)

    def dispatch(self, environ: Environ, path: str) -> Response | JSONReply:
        kind: Kind | None = None
        call: Call | None = None
        try:
            self.access.check_host(environ.get("HTTP_HOST"))
            method = environ.get("REQUEST_METHOD", "GET").upper()
            handler, kind, values = self._route(method, path)
            if method == "OPTIONS":  # CORS preflight of a browser app on another origin
                if kind is Kind.PRIVATE or kind is Kind.LOGIN:
                    raise EmulatorError(FORBIDDEN, "private routes answer no CORS preflight", 403)
                return Response(status=204, headers=_PREFLIGHT_HEADERS)
            call = Call(environ, self.services, values, self._max_body(handler))
            if kind is Kind.PRIVATE:
                self.access.check_private(call.request)
            for key, value in values.items():
                bound = _VALUE_BOUNDS.get(key)  # a file's name is checked by the file storage
                if bound is not None:
                    limits.name(value, *bound)
            if kind is Kind.SIGNED:
                self._check_signature(call)
            result = handler(call)
            if kind is Kind.PUBLIC or kind is Kind.LOGIN or isinstance(result, Response):
                return self._headed(result, kind)
            return self._headed(envelope(result), kind)
        except EmulatorError as error:
            return self._headed(error_envelope(error), kind)
        except RequestEntityTooLarge:
            limit = limits.MAX_JSON_BODY if call is None else call.max_body
            too_large = EmulatorError(TOO_LARGE, f"the request body is larger than {limit} bytes")
            return self._headed(error_envelope(too_large), kind)
        except HTTPException as exc:  # e.g. a malformed multipart body
            bad = EmulatorError(BAD_REQUEST, f"bad request: {exc.description or exc.name}")
            return self._headed(error_envelope(bad), kind)
        except Exception:
            return self._headed(self._crashed(environ), kind)

    @staticmethod
    def _crashed(environ: Environ) -> JSONReply:
        log.exception("emulator error on %s %s", environ.get("REQUEST_METHOD"), _path(environ))
        return error_envelope(
            EmulatorError(
                INTERNAL, "internal emulator error; the emulator log has the details", status=500
            )
        )

    @staticmethod
    def _headed(response: Response | JSONReply, kind: Kind | None) -> Response | JSONReply:
        if kind is Kind.SIGNED or kind is Kind.PUBLIC:
            extra = _CORS_HEADERS
        elif kind is Kind.PRIVATE or kind is Kind.LOGIN:
            extra = _PRIVATE_HEADERS
        else:
            return response
        if isinstance(response, JSONReply):
            response.headers.extend(extra)
        else:
            for name, value in extra:
                response.headers.setdefault(name, value)
        return response

    def _route(self, method: str, path: str) -> tuple[Handler, Kind, dict[str, Any]]:
        try:
            if method == "OPTIONS":  # a preflight asks about the path, whatever the method
                (handler, kind), values = self.router.first(path)
            else:
                (handler, kind), values = self.router.match(path, method)
        except NoRoute:
            raise EmulatorError(NOT_FOUND, f"unknown route: {method} {path}", 404) from None
        except MethodNotAllowed as exc:
            raise EmulatorError(
                NOT_FOUND,
                f"method {method} not allowed on {path} (allowed: {', '.join(exc.allowed)})",
                status=405,
            ) from None
        return handler, kind, values

    def _max_body(self, handler: Handler) -> int:
        if handler is handlers.upload_files:
            return max_upload_body(self.services.files.max_file_size)
        return limits.MAX_JSON_BODY

    def _check_signature(self, call: Call) -> None:
        environ = call.environ  # read directly: Werkzeug's header view is slow per lookup
        # A multipart body is signed as empty (the JS client hashes "" for FormData).
        multipart = environ.get("CONTENT_TYPE") and call.request.mimetype == "multipart/form-data"
        body = b"" if multipart else call.body()
        headers = {
            "X-Timestamp": environ.get("HTTP_X_TIMESTAMP", ""),
            "X-Nonce": environ.get("HTTP_X_NONCE", ""),
            "X-Sign": environ.get("HTTP_X_SIGN", ""),
        }
        query = signed_query(call.request.args) if environ.get("QUERY_STRING") else {}
        self.services.signatures.check(query, headers, body)


def _path(environ: Environ) -> str:
    """The request's path as Werkzeug's ``Request.path`` has it."""
    return "/" + get_path_info(environ).lstrip("/")


def max_upload_body(max_file_size: int) -> int:
    """The largest upload body: several files of the per-file limit, and never below the JSON
    bound. The HTTP server refuses anything larger before it reaches the app."""
    return max(limits.MAX_JSON_BODY, limits.UPLOAD_BODY_FILES * max_file_size)
