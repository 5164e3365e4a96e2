"""``client.tools.ai``: text generation (whole or streamed) and image generation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import requests

from .._generated.models import GenerateImageResult, GenerateTextResult, Message, StreamChunk
from ..envelope import read_reply
from ..errors import InvalidResponseError, TimeoutError, TransportError, ValidationError
from ..serde import structure, unstructure
from ..sse import iter_events

if TYPE_CHECKING:
    from ..client import LumiClient

DEFAULT_TEXT_MODEL = "gemini-2.5-flash"
DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image"
_sleep = time.sleep


def _messages(messages: Sequence[Mapping[str, Any] | Message]) -> list[Any]:
    """Messages as the wire wants them; each is checked against ``Message`` first (10400)."""
    if isinstance(messages, (str, bytes)) or not messages:
        raise ValidationError("messages must be a non-empty list of {role, content} messages")
    out = []
    for index, message in enumerate(messages):
        wire = unstructure(message)
        try:
            structure(wire, Message)
        except ValidationError as exc:
            raise ValidationError(f"messages[{index}]: {exc.message}") from None
        out.append(wire)
    return out


def parse_stream(chunks: Iterable[bytes | str]) -> Iterator[StreamChunk]:
    """The chunks of a raw AI text stream (``text/event-stream`` bytes, in pieces of any size).

    Each chunk has ``event`` (as sent, or None) and ``data`` (``chat_id``, ``content``: a delta).
    A ``data:`` line that is not the expected JSON raises InvalidResponseError (never skipped).
    """
    for event in iter_events(chunks):
        try:
            payload = json.loads(event.data)
        except ValueError:
            raise InvalidResponseError(
                200, f"AI stream: a chunk is not JSON: {event.data[:120]!r}", event.data[:120]
            ) from None
        wire = {"data": payload} if event.event is None else {"event": event.event, "data": payload}
        yield read_reply(wire, StreamChunk, "AI stream")


class TextStream:
    """An open AI text stream: iterate it for :class:`StreamChunk` objects.

    A context manager; the HTTP connection is closed when the stream is exhausted, on ``close()``,
    on leaving the ``with`` block, or when the object is garbage-collected.
    """

    def __init__(self, response: requests.Response) -> None:
        self._response: requests.Response | None = response
        self._chunks = parse_stream(self._raw())

    def _raw(self) -> Iterator[bytes]:
        response = self._response
        if response is None:
            return
        try:
            yield from response.iter_content(chunk_size=None)
        except requests.RequestException as exc:
            raise TransportError(f"AI stream broke: {type(exc).__name__}") from None
        finally:
            self.close()

    def __iter__(self) -> Iterator[StreamChunk]:
        return self

    def __next__(self) -> StreamChunk:
        return next(self._chunks)

    def text(self) -> str:
        """Read the rest of the stream and return its contents joined."""
        return "".join(chunk.data.content for chunk in self if isinstance(chunk.data.content, str))

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()

    @property
    def closed(self) -> bool:
        return self._response is None

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class AITool:
    """AI generation. Needs ``LUMI_API_KEY`` (or ``create_client(api_key=...)``)."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    def _body(self, model: str, messages: Sequence[Mapping[str, Any] | Message]) -> dict[str, Any]:
        key = self._client._lumi_api_key()
        return {"lumiApiKey": key, "modelName": model, "chatMessages": _messages(messages)}

    def generate_text(
        self, *, messages: Sequence[Mapping[str, Any] | Message], model: str = DEFAULT_TEXT_MODEL
    ) -> GenerateTextResult:
        """One completion: ``.content`` and ``.chat_id``."""
        data = self._client._call("generateText", json=self._body(model, messages))
        return read_reply(data, GenerateTextResult, "generate_text")

    def generate_text_stream(
        self, *, messages: Sequence[Mapping[str, Any] | Message], model: str = DEFAULT_TEXT_MODEL
    ) -> TextStream:
        """A streamed completion (Server-Sent Events): iterate it for chunks."""
        response = self._client._open_stream("generateTextStream", json=self._body(model, messages))
        return TextStream(response)

    def parse_stream(self, raw: Iterable[bytes | str]) -> Iterator[StreamChunk]:
        """Parse a raw stream body you read yourself (see :func:`parse_stream`)."""
        return parse_stream(raw)

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
        result = read_reply(
            self._client._call("createImageTask", json=body), GenerateImageResult, "generate_image"
        )
        deadline = time.monotonic() + timeout
        wait = 1.0
        while result.generation_status == "PROCESSING":
            if time.monotonic() + wait > deadline:
                raise TimeoutError(
                    f"image generation {result.message_id!r} still PROCESSING after {timeout:g} s"
                )
            _sleep(wait)
            wait = min(wait + 0.5, 5.0)
            poll = {"lumiApiKey": body["lumiApiKey"], "messageId": result.message_id}
            result = read_reply(
                self._client._call("getImageTask", json=poll), GenerateImageResult, "generate_image"
            )
        return result
