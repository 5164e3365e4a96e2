"""``client.functions``: call the project's serverless functions (not enveloped, not signed)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import requests

from ._options import js_options
from .envelope import decode_json, excerpt
from .errors import FunctionError, LumiError, ValidationError
from .jsonenc import dumps_bytes
from .serde import unstructure
from .streams import RawStream

if TYPE_CHECKING:
    from .client import LumiClient

ResponseType = Literal["json", "text", "bytes", "stream"]
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _form_body(form: Any, files: Any) -> tuple[bytes, str]:
    """A form as requests encodes it (URL-encoded, or multipart when there are files): encoded
    once, so that a retry sends the very same bytes."""
    prepared = requests.PreparedRequest()
    prepared.prepare_headers({})
    try:
        prepared.prepare_body(data=form, files=files)
    except (TypeError, ValueError, AttributeError, OSError) as exc:
        raise ValidationError(f"functions.invoke: cannot encode form/files: {exc}") from None
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes):
        raise ValidationError(
            "functions.invoke: form must be a mapping or a list of (name, value) pairs"
        )
    return body, prepared.headers.get("Content-Type", "application/x-www-form-urlencoded")


class Functions:
    """``client.functions.invoke(name, ...)``."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    @js_options
    def invoke(
        self,
        name: str,
        *,
        method: str = "POST",
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        response_type: ResponseType = "json",
        form: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call ``/v1/functions/{project}/{name}`` and return its own reply.

        The options are keywords, or the JavaScript options object as one mapping
        (``invoke("f", {"method": "POST", "body": {...}, "responseType": "stream"})``).
        ``body``: JSON-ready data (sent as JSON), or ``bytes``/``str`` sent as they are (set a
        ``Content-Type`` in ``headers``). ``form``: fields sent URL-encoded, or as
        ``multipart/form-data`` with ``files`` (as ``requests`` takes them: ``{"field": file,
        "f2": ("name.txt", b"...", "text/plain")}``). The client's token is sent as
        ``Authorization`` unless ``headers`` has one. A non-2xx reply raises
        :class:`FunctionError` with ``.data``; ``response_type="stream"`` gives a
        :class:`lumi.RawStream`.
        """
        verb = method.upper() if isinstance(method, str) else ""
        if verb not in _METHODS:
            raise ValidationError(f"method must be one of {sorted(_METHODS)}, got {method!r:.60}")
        if response_type not in ("json", "text", "bytes", "stream"):
            raise ValidationError(f"unknown response_type {response_type!r:.60}")
        if not isinstance(name, str) or not name or "/" in name:
            raise ValidationError(f"invalid function name {name!r:.60}")
        if body is not None and (form is not None or files is not None):
            raise ValidationError("functions.invoke: give body, or form/files, not both")
        send_headers = {"Accept": "application/json"} if response_type == "json" else {}
        payload: bytes | None
        if form is not None or files is not None:
            payload, send_headers["Content-Type"] = _form_body(form, files)
        elif body is None:
            payload = None
        elif isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = dumps_bytes(unstructure(body))
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        token = self._client.auth.access_token
        has_auth = any(key.lower() == "authorization" for key in send_headers)
        if token and not has_auth:
            send_headers["Authorization"] = f"Bearer {token}"
        request = self._client._request(
            f"invokeFunction{verb.capitalize()}",
            {"name": name},
            query=query,
            content=payload,
            headers=send_headers,
            stream=response_type == "stream",
        )
        exchange = self._client._send(request)
        response = exchange.response
        what = f"function {name!r} ({verb})"
        if not 200 <= response.status_code < 300:
            content = response.content
            data: Any = content.decode("utf-8", "replace")
            with contextlib.suppress(LumiError):  # not JSON: keep the text as data
                data = decode_json(response.status_code, content, what)
            short = excerpt(content)
            error = FunctionError(
                response.status_code, f"{what}: HTTP {response.status_code}: {short!r}", short, data
            )
            raise exchange.locate(error, verb, request.path)
        if response_type == "stream":
            return RawStream(exchange, verb, request.path)
        content = response.content
        if response_type == "bytes":
            return content
        if response_type == "text":
            return response.text
        if not content:
            return None
        try:
            return decode_json(response.status_code, content, what)
        except LumiError as error:
            raise exchange.locate(error, verb, request.path) from None
