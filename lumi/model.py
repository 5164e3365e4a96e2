"""What generated classes are built from: every name that ``lumi/_generated`` and the classes
``lumi codegen`` writes import from lumi.

* :class:`RecordAccess`: the base of record classes (read a record by its wire keys);
* :data:`UNSET` and :class:`Unset`: the default of a field that was not given (not ``None``);
* :class:`PageAccess`: the base of page classes (iterate a page's records, ``len(page)``);
* :func:`new_extra`: the factory of the ``extra`` dict that keeps the keys a schema does not
  declare.
"""

from __future__ import annotations

from typing import Any

from ._page import PageAccess
from ._record import RecordAccess
from ._unset import UNSET, Unset

__all__ = ["UNSET", "PageAccess", "RecordAccess", "Unset", "new_extra"]


def new_extra() -> dict[str, Any]:
    """A new, empty ``extra`` dict. Generated classes use it rather than ``factory=dict``, which
    type checkers read as ``dict[Unknown, Unknown]`` (pyright's strict mode reports that)."""
    return {}
