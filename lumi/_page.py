"""Iteration for page classes: ``for record in page`` and ``len(page)``, as for a list.

The generated :class:`lumi.Page` inherits :class:`PageAccess` (``lumi.model.PageAccess``, named
by ``x-lumi-base`` in the schema), and so does the typed :class:`lumi.data.TypedPage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PageAccess:
    """Mixin for a class with a ``list`` attribute: iterating the page iterates its records."""

    __slots__ = ()

    list: Any

    def __iter__(self) -> Iterator[Any]:
        return iter(self.list)

    def __len__(self) -> int:
        return len(self.list)
