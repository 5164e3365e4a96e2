"""What a handler gets: the request, the services, the URL values, helpers to read the body."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from lumi._js import a_json_type
from lumi.emulator import limits
from lumi.emulator.envelope import INVALID_TOKEN, EmulatorError, bad_request

if TYPE_CHECKING:
    from lumi.emulator.access import AccessPolicy
    from lumi.emulator.ai import AIProvider
    from lumi.emulator.files import FileStorage
    from lumi.emulator.functions import FunctionsHost
    from lumi.emulator.image_tasks import ImageTasks
    from lumi.emulator.ingest import EventsInbox
    from lumi.emulator.outbox import Outbox
    from lumi.emulator.signature import SignatureChecker
    from lumi.emulator.store import EntityStore
    from lumi.emulator.users import UserDirectory

#: A WSGI request environ (typeshed's ``WSGIEnvironment``, spelled so that it exists at run time).
Environ = dict[str, Any]


@dataclass
class Services:
    """Everything the emulator holds; one instance per running emulator."""

    store: EntityStore
    users: UserDirectory
    outbox: Outbox
    files: FileStorage
    images: ImageTasks
    ai: AIProvider
    functions: FunctionsHost | None
    events: EventsInbox
    signatures: SignatureChecker
    reset: Callable[[], None]
    #: The Host allowlist and the private token.
    access: AccessPolicy
    #: The events write key; None accepts any non-empty key.
    api_key: str | None = None
    #: The data folder (the console reads its SQLite files through connections of its own).
    data_dir: Path | None = None


_NO_BODY = object()


@dataclass
class Call:
    """One request to a handler. Werkzeug's ``request`` is built when first used: a ``get`` by
    id needs none (building it was a tenth of the emulator's own time for one)."""

    environ: Environ
    services: Services
    values: dict[str, Any]
    #: The largest body this route reads (RequestEntityTooLarge past it).
    max_body: int = limits.MAX_JSON_BODY

    @cached_property
    def request(self) -> Request:
        request = Request(self.environ)
        request.max_content_length = self.max_body
        return request

    @property
    def project_id(self) -> str:
        return str(self.values["projectId"])

    @property
    def base_url(self) -> str:
        return self.request.host_url.rstrip("/")

    def body(self) -> bytes:
        """The request body (read once, then cached by the request)."""
        if _no_body(self.environ):
            return b""
        return self.request.get_data(cache=True)

    def json_body(self, default: Any = _NO_BODY) -> Any:
        """The body parsed as JSON; ``default`` when the body is empty (else it is required)."""
        raw = self.body()
        if not raw.strip():
            if default is _NO_BODY:
                raise bad_request("a JSON body is required")
            return default
        try:
            return json.loads(raw)
        except UnicodeDecodeError:
            raise bad_request("invalid JSON body: not UTF-8") from None
        except json.JSONDecodeError as exc:
            raise bad_request(
                f"invalid JSON body: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise bad_request("invalid JSON body: nested too deeply") from None
        except ValueError:  # an integer past Python's digit bound (sys.set_int_max_str_digits)
            digits = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
            raise bad_request(
                f"invalid JSON body: an integer has more than {digits} digits"
            ) from None

    def json_object(self, *, allow_empty: bool = False) -> dict[str, Any]:
        body = self.json_body({} if allow_empty else _NO_BODY)
        if not isinstance(body, dict):
            raise bad_request(f"the JSON body must be an object, not {a_json_type(body)}")
        return body

    def bearer_token(self) -> str | None:
        header: str | None = self.environ.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise EmulatorError(INVALID_TOKEN, "Authorization must be 'Bearer <userToken>'")
        return token.strip()

    def user(self, project_id: str | None = None) -> dict[str, Any] | None:
        """The signed-in user, None without a token; code 2100 for a bad token."""
        token = self.bearer_token()
        if token is None:
            return None
        return self.services.users.user_for_token(token, project_id)


def _no_body(environ: Environ) -> bool:
    """Whether the request has no body, known without reading it: no Content-Length (or 0)
    and an empty in-memory input, which is what waitress gives a request without a body.
    Werkzeug's ``get_data`` reads b"" from such a request too, through a bounded stream that
    cost a tenth of the emulator's own work for a ``get`` by id."""
    stream = environ.get("wsgi.input")
    if environ.get("CONTENT_LENGTH", "0") != "0" or type(stream) is not io.BytesIO:
        return False
    with stream.getbuffer() as view:
        return not view.nbytes


def field_str(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"{name} is required")
        return None
    if not isinstance(value, str) or (required and not value):
        raise bad_request(f"{name} must be a non-empty string")
    return value


def required_str(body: dict[str, Any], name: str) -> str:
    value = field_str(body, name)
    assert value is not None
    return value


def optional_object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise bad_request(f"{name} must be a JSON object, not {a_json_type(value)}")
    return value
