"""AI for the emulator: the provider interface and the offline, deterministic default.

Plug a real model with ``Emulator(ai_provider=MyProvider())``; anything with these three
methods works (``AIProvider`` is a ``typing.Protocol``). Messages arrive as sent by the client:
``{"role": "system"|"user"|"assistant", "content": str, "medias"?: [...]}``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import png

from lumi.emulator.envelope import bad_request

Message = dict[str, Any]
DEFAULT_TEXT_MODEL = "gemini-2.5-flash"
DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image"
_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class GeneratedImage:
    """An image and the text that goes with it (``content`` of the image task)."""

    data: bytes
    mime_type: str = "image/png"
    content: str = ""


@runtime_checkable
class AIProvider(Protocol):
    """What the emulator calls to answer the AI endpoints."""

    def generate_text(self, model: str, messages: list[Message]) -> str:
        """The whole answer to ``messages``."""
        ...

    def stream_text(self, model: str, messages: list[Message]) -> Iterable[str]:
        """The answer as successive deltas; each becomes one SSE event."""
        ...

    def generate_image(self, model: str, messages: list[Message]) -> GeneratedImage:
        """An image for ``messages``."""
        ...


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return json.dumps(content, ensure_ascii=False)


def last_user_text(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


class EmulatedAIProvider:
    """Offline answers that say they are emulated, derived only from the last user message."""

    def generate_text(self, model: str, messages: list[Message]) -> str:
        prompt = " ".join(last_user_text(messages).split())
        if len(prompt) > 200:
            prompt = prompt[:200] + "..."
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
        return (
            f'[lumi emulator] Emulated answer of {model} to "{prompt}" (reply #{digest}; '
            "no model was called)."
        )

    def stream_text(self, model: str, messages: list[Message]) -> Iterable[str]:
        words = re.findall(r"\S+\s*", self.generate_text(model, messages))
        size = max(1, -(-len(words) // 5))  # at most five chunks
        for start in range(0, len(words), size):
            yield "".join(words[start : start + size])

    def generate_image(self, model: str, messages: list[Message]) -> GeneratedImage:
        prompt = last_user_text(messages)
        return GeneratedImage(
            data=deterministic_png(prompt),
            content=f'[lumi emulator] Emulated image of {model} for "{prompt[:200]}".',
        )


def deterministic_png(seed: str, size: int = 64, cells: int = 8) -> bytes:
    """A ``size``x``size`` RGB PNG of ``cells``x``cells`` coloured squares chosen by ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    palette = [tuple(digest[i : i + 3]) for i in range(0, 30, 3)]
    cell = size // cells
    rows = []
    for y in range(size):
        row: list[int] = []
        for x in range(size):
            index = digest[((y // cell) * cells + x // cell) % len(digest)] % len(palette)
            row.extend(palette[index])
        rows.append(row)
    buffer = io.BytesIO()
    png.Writer(width=size, height=size, greyscale=False, bitdepth=8).write(buffer, rows)
    return buffer.getvalue()


def parse_chat_request(body: dict[str, Any], default_model: str) -> tuple[str, list[Message]]:
    """Check ``{lumiApiKey, modelName?, chatMessages}``; returns (model, messages)."""
    key = body.get("lumiApiKey")
    if not isinstance(key, str) or not key:
        raise bad_request("lumiApiKey is required (the client reads it from LUMI_API_KEY)")
    model = body.get("modelName") or default_model
    if not isinstance(model, str):
        raise bad_request("modelName must be a string")
    messages = body.get("chatMessages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("chatMessages is required: a non-empty list of messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_request(f"chatMessages[{index}] must be an object {{role, content}}")
        if message.get("role") not in _ROLES:
            raise bad_request(f"chatMessages[{index}].role must be one of {', '.join(_ROLES)}")
        if "content" not in message:
            raise bad_request(f"chatMessages[{index}].content is required")
    return model, messages
