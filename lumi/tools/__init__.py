"""``client.tools``: email, file storage and AI generation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ai import AITool
from .email import EmailTool
from .file import FileTool

if TYPE_CHECKING:
    from ..client import LumiClient


class Tools:
    """``client.tools.email``, ``client.tools.file``, ``client.tools.ai``."""

    def __init__(self, client: LumiClient) -> None:
        self.email = EmailTool(client)
        self.file = FileTool(client)
        self.ai = AITool(client)


__all__ = ["AITool", "EmailTool", "FileTool", "Tools"]
