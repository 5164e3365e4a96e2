"""AI: offline deterministic text, a real SSE stream, image tasks with a real PNG, plug-ins."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import png
import requests

from lumi.emulator import EmulatedAIProvider, GeneratedImage
from lumi.emulator.server import Emulator

from .conftest import PID, Api

CHAT = {"lumiApiKey": "k", "modelName": "gemini-2.5-flash", "chatMessages": []}
MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "What is Lumi?"},
]


def chat(**changes: Any) -> dict[str, Any]:
    return {**CHAT, "chatMessages": MESSAGES, **changes}


def parse_sse(raw: str) -> list[dict[str, Any]]:
    """Frames -> [{"event": name or None, "data": parsed JSON}] (blank-line separated)."""
    frames = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        frames.append({"event": event, "data": json.loads("\n".join(data))})
    return frames


def test_text_is_emulated_and_deterministic(api: Api) -> None:
    first = api.ok("POST", f"/lm/{PID}/ai/chat/completions", chat())
    second = api.ok("POST", f"/lm/{PID}/ai/chat/completions", chat())
    assert set(first) == {"chatId", "content"}
    assert first["content"].startswith("[lumi emulator]") and "What is Lumi?" in first["content"]
    assert first["content"] == second["content"]
    other = api.ok(
        "POST",
        f"/lm/{PID}/ai/chat/completions",
        chat(chatMessages=[MESSAGES[1] | {"content": "x"}]),
    )
    assert other["content"] != first["content"]


def test_the_api_key_is_required(api: Api) -> None:
    for path in ("chat/completions", "chat/stream", "image/task", "image/get"):
        reply = api.error("POST", f"/lm/{PID}/ai/{path}", chat(lumiApiKey=""))
        assert reply["code"] == 10400 and "lumiApiKey is required" in reply["message"]


def test_messages_are_checked(api: Api) -> None:
    path = f"/lm/{PID}/ai/chat/completions"
    assert "chatMessages is required" in api.error("POST", path, chat(chatMessages=[]))["message"]
    reply = api.error("POST", path, chat(chatMessages=[{"role": "bot", "content": "x"}]))
    assert reply["message"] == "chatMessages[0].role must be one of system, user, assistant"


def test_stream_is_real_sse(api: Api) -> None:
    response = api.request(
        "POST",
        f"/lm/{PID}/ai/chat/stream",
        chat(),
        stream=True,
        headers={"Accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    raw = b"".join(response.iter_content(chunk_size=None)).decode()
    frames = parse_sse(raw)
    assert len(frames) > 2
    assert all(frame["event"] is None for frame in frames)  # no `event:` line
    assert len({frame["data"]["chatId"] for frame in frames}) == 1
    text = "".join(frame["data"]["content"] for frame in frames)
    whole = api.ok("POST", f"/lm/{PID}/ai/chat/completions", chat())["content"]
    assert text == whole  # the contents are deltas


def test_image_task_processing_then_success_with_a_real_png(api: Api) -> None:
    task = api.ok("POST", f"/lm/{PID}/ai/image/task", chat(modelName="gemini-2.5-flash-image"))
    assert task["generationStatus"] == "PROCESSING" and "imageURL" not in task
    poll = {"lumiApiKey": "k", "messageId": task["messageId"]}
    done = api.ok("POST", f"/lm/{PID}/ai/image/get", poll)
    assert done["generationStatus"] == "SUCCESS" and done["chatId"] == task["chatId"]
    assert done["content"].startswith("[lumi emulator]")
    image = requests.get(done["imageURL"], timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, rows, info = png.Reader(bytes=image.content).read()
    assert (width, height) == (64, 64) and len(list(rows)) == 64 and info["planes"] == 3
    again = api.ok("POST", f"/lm/{PID}/ai/image/get", poll)
    assert again == done  # finished tasks stay as they are
    # deterministic: the same prompt gives the same picture
    second = api.ok("POST", f"/lm/{PID}/ai/image/task", chat())
    second = api.ok("POST", f"/lm/{PID}/ai/image/get", {**poll, "messageId": second["messageId"]})
    assert requests.get(second["imageURL"], timeout=10).content == image.content


def test_unknown_image_task(api: Api) -> None:
    reply = api.error("POST", f"/lm/{PID}/ai/image/get", {"lumiApiKey": "k", "messageId": "nope"})
    assert reply["code"] == 10404 and "nope" in reply["message"]


class EchoProvider:
    def generate_text(self, model: str, messages: list[dict[str, Any]]) -> str:
        return f"{model}:{messages[-1]['content']}"

    def stream_text(self, model: str, messages: list[dict[str, Any]]) -> Iterable[str]:
        yield "a"
        yield "b"

    def generate_image(self, model: str, messages: list[dict[str, Any]]) -> GeneratedImage:
        return GeneratedImage(data=b"GIF89a...", mime_type="image/gif", content="gif!")


class BrokenProvider(EmulatedAIProvider):
    def generate_text(self, model: str, messages: list[dict[str, Any]]) -> str:
        raise ConnectionError("model offline")

    def stream_text(self, model: str, messages: list[dict[str, Any]]) -> Iterable[str]:
        yield "partial "
        raise ConnectionError("model offline")

    def generate_image(self, model: str, messages: list[dict[str, Any]]) -> GeneratedImage:
        raise ConnectionError("model offline")


def test_a_plugged_provider_answers() -> None:
    with Emulator(ai_provider=EchoProvider()) as emu:
        api = Api(emu.url)
        assert api.ok("POST", f"/lm/{PID}/ai/chat/completions", chat())["content"] == (
            "gemini-2.5-flash:What is Lumi?"
        )
        raw = api.request("POST", f"/lm/{PID}/ai/chat/stream", chat()).text
        assert [f["data"]["content"] for f in parse_sse(raw)] == ["a", "b"]
        task = api.ok("POST", f"/lm/{PID}/ai/image/task", chat())
        done = api.ok(
            "POST", f"/lm/{PID}/ai/image/get", {"lumiApiKey": "k", "messageId": task["messageId"]}
        )
        assert done["content"] == "gif!" and done["imageURL"].endswith("/image.gif")
        assert requests.get(done["imageURL"], timeout=10).content == b"GIF89a..."


def test_provider_failures_are_reported_not_500() -> None:
    with Emulator(ai_provider=BrokenProvider()) as emu:
        api = Api(emu.url)
        reply = api.error("POST", f"/lm/{PID}/ai/chat/completions", chat())
        assert reply["code"] == 10500 and "ConnectionError: model offline" in reply["message"]
        frames = parse_sse(api.request("POST", f"/lm/{PID}/ai/chat/stream", chat()).text)
        assert frames[0] == {
            "event": None,
            "data": {"chatId": frames[0]["data"]["chatId"], "content": "partial "},
        }
        assert frames[-1]["event"] == "error" and frames[-1]["data"]["code"] == 10500
        task = api.ok("POST", f"/lm/{PID}/ai/image/task", chat())
        done = api.ok(
            "POST", f"/lm/{PID}/ai/image/get", {"lumiApiKey": "k", "messageId": task["messageId"]}
        )
        assert done["generationStatus"] == "FAILED" and "model offline" in done["content"]


def test_deterministic_png_decodes() -> None:
    from lumi.emulator.ai import deterministic_png

    data = deterministic_png("seed", size=16, cells=4)
    width, height, _rows, _ = png.Reader(file=io.BytesIO(data)).read()
    assert (width, height) == (16, 16) and data == deterministic_png("seed", size=16, cells=4)
    assert data != deterministic_png("other", size=16, cells=4)
