"""The local Lumi emulator: the same wire protocol as the cloud, offline, on SQLite.

``with lumi.emulator.Emulator() as emu: ...`` runs it in-process; ``lumi emulator`` from a shell.
Names are imported lazily so that ``lumi.emulator.store`` and the pytest plugin stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lumi._extras import require_extra

if TYPE_CHECKING:
    from lumi.emulator.ai import AIProvider, EmulatedAIProvider, GeneratedImage
    from lumi.emulator.functions import FunctionRequest
    from lumi.emulator.server import Emulator

require_extra("emulator", "the lumi emulator")  # before any module of it imports Werkzeug

__all__ = ["AIProvider", "EmulatedAIProvider", "Emulator", "FunctionRequest", "GeneratedImage"]

_LAZY = {
    "Emulator": "lumi.emulator.server",
    "AIProvider": "lumi.emulator.ai",
    "EmulatedAIProvider": "lumi.emulator.ai",
    "GeneratedImage": "lumi.emulator.ai",
    "FunctionRequest": "lumi.emulator.functions",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lumi.emulator' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
