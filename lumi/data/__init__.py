"""Typed entities: repositories, Django-style queries and schema validation for the entity
classes ``lumi codegen`` generates, plus the ``lumi entities`` data commands (``lumi.data.cli``).

::

    from lumi.data import Q, repository
    posts = repository(client, Post, validation="raise")
    recent = posts.filter(Q(status="published") | Q(pinned=True)).order_by("-created_at")[:20]
"""

from __future__ import annotations

from .query import CompiledQuery, Q, QuerySet
from .repository import DEFAULT_CHUNK_SIZE, Repository, TypedPage, repository
from .validation import (
    SchemaValidator,
    ValidationMode,
    default_validation,
    set_default_validation,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "CompiledQuery",
    "Q",
    "QuerySet",
    "Repository",
    "SchemaValidator",
    "TypedPage",
    "ValidationMode",
    "default_validation",
    "repository",
    "set_default_validation",
]
