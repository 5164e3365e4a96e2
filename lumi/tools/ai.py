"""``client.tools.ai``: text generation (whole or streamed) and image generation."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import urlsplit

import requests

from .._generated.models import GenerateImageResult, GenerateTextResult, Message, StreamChunk
from .._options import as_list, js_options
from ..envelope import read_reply
from ..errors import (
    APITimeoutError,
    InvalidResponseError,
    LumiError,
    ValidationError,
    with_context,
)
from ..jsonenc import loads_reply
from ..serde import structure, unstructure
from ..sse import SSEError, iter_events
from ..streams import Closing, RawStream
from ..transport import Exchange

if TYPE_CHECKING:
    from ..client import LumiClient

DEFAULT_TEXT_MODEL = "gemini-2.5-flash"
DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image"
_sleep = time.sleep


def _messages(messages: Sequence[Mapping[str, Any] | Message]) -> list[Any]:
    """Messages as the wire wants them; each is checked against ``Message`` first (10400)."""
    items = as_list("messages=", messages, "{role, content} messages", "[{'role': 'user', ...}]")
    if not items:
        raise ValidationError("messages must be a non-empty list of {role, content} messages")
    out = []
    for index, message in enumerate(items):
        wire = unstructure(message)
        try:
            structure(wire, Message)
        except ValidationError as exc:
            raise ValidationError(f"messages[{index}]: {exc.message}") from None
        out.append(wire)
    return out


def parse_stream(
    source: RawStream | requests.Response | bytes | str | Iterable[bytes | str],
) -> TextStream:
    """The chunks of a raw AI text stream, as :class:`StreamChunk` objects.

    ``source`` is what ``generate_text_stream(..., raw=True)`` or
    ``functions.invoke(..., response_type="stream")`` returned, a ``requests.Response``, a whole
    body (``bytes``/``str``), or any iterable of ``bytes``/``str`` pieces of any size. Each chunk
    has ``event`` (as sent, or UNSET) and ``data`` (``chat_id``, ``content``: a delta). A
    ``data:`` that is not the expected JSON raises InvalidResponseError (never skipped).
    """
    if isinstance(source, TextStream):
        raise ValidationError(
            "parse_stream() takes the raw stream, and this one is already parsed: iterate it "
            "directly, or call generate_text_stream(..., raw=True) to get the raw bytes"
        )
    if isinstance(source, requests.Response):
        method = (source.request.method if source.request is not None else None) or "GET"
        path = urlsplit(source.url or "").path or "/"
        return TextStream(RawStream(Exchange(source, 1), method, path))
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        return TextStream([bytes(source) if not isinstance(source, str) else source])
    if isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise ValidationError(
            f"parse_stream() takes a raw stream (bytes, str, or an iterable of them), "
            f"got {type(source).__name__}"
        )
    return TextStream(source)


def _pieces(source: Iterable[Any]) -> Iterator[bytes | str]:
    for piece in source:
        if not isinstance(piece, (bytes, bytearray, str)):
            raise ValidationError(
                f"parse_stream(): the stream must yield bytes or str, got {type(piece).__name__}"
            )
        yield piece if not isinstance(piece, bytearray) else bytes(piece)


def _chunks(source: Iterable[Any]) -> Iterator[StreamChunk]:
    try:
        for event in iter_events(_pieces(source)):
            try:
                payload = loads_reply(event.data)
            except (ValueError, RecursionError):
                short = event.data[:120]
                raise InvalidResponseError(
                    200, f"AI stream: a chunk is not JSON: {short!r}", short
                ) from None
            wire = (
                {"data": payload}
                if event.event is None
                else {"event": event.event, "data": payload}
            )
            yield read_reply(wire, StreamChunk, "AI stream")
    except SSEError as exc:
        raise InvalidResponseError(200, f"AI stream: {exc}") from None


class TextStream(Closing):
    """An AI text stream, parsed: iterate it for :class:`StreamChunk` objects.

    A context manager; the HTTP connection (if any) is closed when the stream is exhausted, on
    ``close()``, on leaving the ``with`` block, or when the object is garbage-collected.
    """

    def __init__(self, source: Iterable[Any]) -> None:
        self._source: Iterable[Any] | None = source
        self._raw = source if isinstance(source, RawStream) else None
        self._chunks = _chunks(source)

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> StreamChunk:
        try:
            return next(self._chunks)
        except LumiError as error:
            self.close()
            if self._raw is not None and error.method is None:  # a frame that does not parse
                raise self._raw.locate(error) from None
            raise
        except BaseException:
            self.close()
            raise

    def text(self) -> str:
        """Read the rest of the stream and return its contents joined."""
        return "".join(chunk.data.content for chunk in self if isinstance(chunk.data.content, str))

    def close(self) -> None:
        source, self._source = self._source, None
        close = getattr(source, "close", None)
        if callable(close):
            close()

    @property
    def closed(self) -> bool:
        return self._source is None


class AITool:
    """AI generation. Needs ``LUMI_API_KEY`` (or ``create_client(api_key=...)``)."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    def _body(self, model: str, messages: Sequence[Mapping[str, Any] | Message]) -> dict[str, Any]:
        key = self._client._lumi_api_key()
        return {"lumiApiKey": key, "modelName": model, "chatMessages": _messages(messages)}

    @js_options
    def generate_text(
        self, *, messages: Sequence[Mapping[str, Any] | Message], model: str = DEFAULT_TEXT_MODEL
    ) -> GenerateTextResult:
        """One completion: ``.content`` and ``.chat_id``."""
        result: GenerateTextResult = self._client._call(
            "generateText", json=self._body(model, messages), reply=GenerateTextResult
        )
        return result

    @overload
    def generate_text_stream(
        self,
        *,
        messages: Sequence[Mapping[str, Any] | Message],
        model: str = ...,
        raw: Literal[False] = ...,
    ) -> TextStream: ...

    @overload
    def generate_text_stream(
        self,
        *,
        messages: Sequence[Mapping[str, Any] | Message],
        model: str = ...,
        raw: Literal[True],
    ) -> RawStream: ...

    @js_options
    def generate_text_stream(
        self,
        *,
        messages: Sequence[Mapping[str, Any] | Message],
        model: str = DEFAULT_TEXT_MODEL,
        raw: bool = False,
    ) -> TextStream | RawStream:
        """A streamed completion (Server-Sent Events): iterate it for chunks.

        ``raw=True`` gives the event stream's bytes instead (a :class:`RawStream`), to relay
        as they are (e.g. from a Flask or Django view to a browser) or to parse later with
        :meth:`parse_stream`.
        """
        stream = self._client._open_stream("generateTextStream", json=self._body(model, messages))
        return stream if raw else TextStream(stream)

    def parse_stream(
        self, raw: RawStream | requests.Response | bytes | str | Iterable[bytes | str]
    ) -> TextStream:
        """Parse a raw AI stream (see :func:`parse_stream`)."""
        return parse_stream(raw)

    @js_options
    def generate_image(
        self,
        *,
        messages: Sequence[Mapping[str, Any] | Message],
        model: str = DEFAULT_IMAGE_MODEL,
        timeout: float = 300.0,
    ) -> GenerateImageResult:
        """Start an image task and poll it as the JavaScript client does (1 s, +0.5 s, at most 5 s)
        until it is no longer ``PROCESSING``; raises TimeoutError after ``timeout`` seconds."""
        body = self._body(model, messages)
        result: GenerateImageResult = self._client._call(
            "createImageTask", json=body, reply=GenerateImageResult
        )
        deadline = time.monotonic() + timeout
        wait = 1.0
        polls = 0
        while result.generation_status == "PROCESSING":
            if time.monotonic() + wait > deadline:
                poll_path = self._client._request("getImageTask").path
                error = APITimeoutError(
                    f"image generation {result.message_id!r} still PROCESSING after {timeout:g} s",
                    request_sent=True,
                )
                raise with_context(error, method="POST", path=poll_path, attempts=polls)
            _sleep(wait)
            wait = min(wait + 0.5, 5.0)
            poll = {"lumiApiKey": body["lumiApiKey"], "messageId": result.message_id}
            result = self._client._call("getImageTask", json=poll, reply=GenerateImageResult)
            polls += 1
        return result
