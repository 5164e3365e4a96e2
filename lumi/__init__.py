"""lumi: the Python client for Lumi, its local emulator, and AI-conversation event tracking.

import lumi
client = lumi.create_client(project_id="p1", api_base_url="http://127.0.0.1:8787")
client.auth.sign_in_with_password(email="a@example.com", password="...")
posts = client.entities.Posts.list(filter={"status": "published"}, sort={"createdAt": -1})
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _log as _log  # LUMI_LOG=debug|info: the lumi logger on stderr, set up here
from ._extras import MissingExtraError
from ._generated.models import (
    GenerateImageResult,
    GenerateTextResult,
    Message,
    MessageMedia,
    Page,
    Record,
    SignInResult,
    StreamChunk,
    UploadItem,
    User,
)
from ._unset import UNSET, Unset
from ._version import __version__
from .auth import AuthChange
from .client import ClientConfig, LumiClient, create_client
from .config import RateLimit, RetryPolicy, Timeout
from .entities import EntityClient
from .errors import (
    APIError,
    AuthenticationError,
    BrowserOnlyError,
    ConnectionError,
    FunctionError,
    HTTPStatusError,
    InvalidResponseError,
    LumiError,
    NotFoundError,
    RateLimitError,
    SchemaError,
    TimeoutError,
    TransportError,
    ValidationError,
)
from .serde import structure, unstructure
from .tools.ai import TextStream

__all__ = [
    "UNSET",
    "APIError",
    "AuthChange",
    "AuthenticationError",
    "BrowserOnlyError",
    "ClientConfig",
    "ConnectionError",
    "EntityClient",
    "FunctionError",
    "GenerateImageResult",
    "GenerateTextResult",
    "HTTPStatusError",
    "InvalidResponseError",
    "LumiClient",
    "LumiError",
    "Message",
    "MessageMedia",
    "MissingExtraError",
    "NotFoundError",
    "Page",
    "RateLimit",
    "RateLimitError",
    "Record",
    "RetryPolicy",
    "SchemaError",
    "SignInResult",
    "StreamChunk",
    "TextStream",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "Unset",
    "UploadItem",
    "User",
    "ValidationError",
    "__version__",
    "create_client",
    "structure",
    "unstructure",
]

_LAZY_SUBMODULES = {"data", "emulator", "events", "testing"}


def __getattr__(name: str) -> Any:
    # `lumi.events` and `lumi.emulator` load on first use, so `import lumi` stays light.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'lumi' has no attribute {name!r}")
