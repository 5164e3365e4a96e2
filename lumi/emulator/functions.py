"""Serverless functions: top-level functions of a Python file answer ``/v1/functions/{pid}/{name}``.

The file is re-loaded when it changes on disk, so an edit is live without a restart.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

log = logging.getLogger("lumi.emulator")

Function = Callable[["FunctionRequest"], Any]


@dataclass(frozen=True)
class FunctionRequest:
    """What a function receives. ``user`` is the signed-in user of the bearer token, or None."""

    method: str
    query: dict[str, str | list[str]]
    headers: Headers
    json: Any
    body: bytes
    user: dict[str, Any] | None
    project_id: str
    name: str
    #: The emulator's base URL, for ``lumi.create_client(api_base_url=...)`` inside a function.
    api_base_url: str = field(default="")


def _json_error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, content_type="application/json")


def _load(path: Path) -> dict[str, Function]:
    spec = importlib.util.spec_from_file_location(f"lumi_emulator_functions_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load functions from {path}: not a Python file")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
    }


class FunctionsHost:
    """The functions of one file, re-loaded when its modification time changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        if not self.path.is_file():
            raise ValueError(f"functions file not found: {self.path}")
        self._lock = threading.Lock()
        self._mtime = self.path.stat().st_mtime_ns
        try:
            self._functions = _load(self.path)
        except Exception as exc:
            raise ValueError(f"cannot load functions file {self.path}: {exc!r}") from exc
        self._load_error: str | None = None

    def functions(self) -> dict[str, Function]:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
            except OSError as exc:
                self._load_error = f"functions file unreadable: {exc}"
                return self._functions
            if mtime != self._mtime:
                self._mtime = mtime
                try:
                    self._functions = _load(self.path)
                    self._load_error = None
                except Exception as exc:
                    log.exception("cannot re-load the functions file %s", self.path)
                    self._load_error = f"cannot load functions file: {type(exc).__name__}: {exc}"
            if self._load_error is not None:
                raise RuntimeError(self._load_error)
            return self._functions


def invoke(host: FunctionsHost | None, request: FunctionRequest) -> Response:
    """Run the function and turn its result into a response (never enveloped)."""
    if host is None:
        return _json_error(404, "no functions are loaded: start the emulator with --functions FILE")
    try:
        functions = host.functions()
    except RuntimeError as exc:
        return _json_error(500, str(exc))
    function = functions.get(request.name)
    if function is None:
        known = ", ".join(sorted(functions)) or "none"
        return _json_error(404, f"unknown function {request.name!r} (loaded: {known})")
    try:
        result = function(request)
    except Exception as exc:
        log.exception("function %s raised", request.name)
        return _json_error(500, f"function {request.name!r} raised {type(exc).__name__}: {exc}")
    return _to_response(request.name, result)


def _to_response(name: str, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status = 200
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], int)
        and not isinstance(result[0], bool)
    ):
        status, result = result
        if not 100 <= status <= 599:
            return _json_error(500, f"function {name!r} returned the invalid status {status}")
    if isinstance(result, bytes):
        return Response(result, status=status, content_type="application/octet-stream")
    try:
        body = json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        return _json_error(500, f"function {name!r} returned a value that is not JSON: {exc}")
    return Response(body, status=status, content_type="application/json; charset=utf-8")
