"""Functions served by the test emulator (loaded with --functions)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from lumi.emulator.functions import FunctionRequest


def echo(request: FunctionRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "query": request.query,
        "header": request.headers.get("X-Custom"),
        "json": request.json,
        "body": request.body.decode("utf-8", "replace"),
        "user": request.user,
        "projectId": request.project_id,
        "name": request.name,
        "apiBaseUrl": request.api_base_url,
    }


def created(request: FunctionRequest) -> tuple[int, dict[str, Any]]:
    return 201, {"created": True}


def teapot(request: FunctionRequest) -> Response:
    return Response("short and stout", status=418, content_type="text/plain")


def nothing(request: FunctionRequest) -> None:
    return None


def boom(request: FunctionRequest) -> Any:
    raise RuntimeError("kaput")


def not_json(request: FunctionRequest) -> Any:
    return {"when": object()}


def _private_helper(request: FunctionRequest) -> str:
    return "must not be served"
