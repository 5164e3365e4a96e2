"""Serverless functions for the quickstart, served by the emulator (``--functions``)."""

from __future__ import annotations

from typing import Any


def greet(request: Any) -> dict[str, Any]:
    """Greets the caller: the signed-in user when a token came with the request."""
    name = (request.json or {}).get("name") or "stranger"
    who = request.user["email"] if request.user else "anonymous"
    return {"greeting": f"Hello, {name}!", "caller": who}
