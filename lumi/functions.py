"""``client.functions``: call the project's serverless functions (not enveloped, not signed)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import requests

from .envelope import decode_json, excerpt
from .errors import FunctionError, LumiError, ValidationError
from .jsonenc import dumps_bytes
from .serde import unstructure
from .transport import Request

if TYPE_CHECKING:
    from .client import LumiClient

ResponseType = Literal["json", "text", "bytes", "stream"]
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


class FunctionStream:
    """A function's raw response body, streamed; a context manager that closes the connection."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(chunk_size=None)
        finally:
            self.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> FunctionStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Functions:
    """``client.functions.invoke(name, ...)``."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    def invoke(
        self,
        name: str,
        method: str = "POST",
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        response_type: ResponseType = "json",
    ) -> Any:
        """Call ``/v1/functions/{project}/{name}`` and return its own reply.

        ``body``: JSON-ready data (sent as JSON), or ``bytes``/``str`` sent as they are (set a
        ``Content-Type`` in ``headers``). The client's token is sent as ``Authorization`` unless
        ``headers`` has one. A non-2xx reply raises :class:`FunctionError` with ``.data``.
        """
        verb = method.upper()
        if verb not in _METHODS:
            raise ValidationError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
        if response_type not in ("json", "text", "bytes", "stream"):
            raise ValidationError(f"unknown response_type {response_type!r}")
        if not name or "/" in name:
            raise ValidationError(f"invalid function name {name!r}")
        send_headers = {"Accept": "application/json"} if response_type == "json" else {}
        payload: bytes | None
        if body is None:
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
        op_id = f"invokeFunction{verb.capitalize()}"
        request = self._client._request(op_id, {"name": name}, query=query)
        request = Request(
            operation=request.operation,
            path=request.path,
            query=request.query,
            body=payload,
            headers=send_headers,
            stream=response_type == "stream",
        )
        response = self._client._send(request, token=None)
        what = f"function {name!r} ({verb})"
        if not 200 <= response.status_code < 300:
            content = response.content
            response.close()
            data: Any = content.decode("utf-8", "replace")
            with contextlib.suppress(LumiError):  # not JSON: keep the text as data
                data = decode_json(response.status_code, content, what)
            short = excerpt(content)
            raise FunctionError(
                response.status_code, f"{what}: HTTP {response.status_code}: {short!r}", short, data
            )
        if response_type == "stream":
            return FunctionStream(response)
        content = response.content
        if response_type == "bytes":
            return content
        if response_type == "text":
            return response.text
        if not content:
            return None
        return decode_json(response.status_code, content, what)
