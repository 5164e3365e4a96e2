"""The emulator's query language in one import: MongoDB filters, sorts and updates.

The rooms live apart: :mod:`lumi.emulator.matcher` decides filters and orders documents (the
reference semantics), :mod:`lumi.emulator.sqlplan` translates what it can to SQL for the store,
and :mod:`lumi.emulator.update` applies updates. This module keeps the names others import.
"""

from __future__ import annotations

from lumi._bson import MISSING, bson_equal, bson_key, resolve
from lumi.emulator.matcher import (
    CompiledFilter,
    Document,
    QueryError,
    SortSpec,
    compile_filter,
    compile_sort,
    sort_documents,
    sort_key,
    sort_order,
    split_path,
)
from lumi.emulator.update import apply_update

__all__ = [
    "MISSING",
    "CompiledFilter",
    "Document",
    "QueryError",
    "SortSpec",
    "apply_update",
    "bson_equal",
    "bson_key",
    "compile_filter",
    "compile_sort",
    "resolve",
    "sort_documents",
    "sort_key",
    "sort_order",
    "split_path",
]
