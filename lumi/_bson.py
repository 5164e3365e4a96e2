"""MongoDB's order and paths over JSON values, written once: the emulator's matcher and the
client's keyset cursors (:mod:`lumi.keyset`) both use them, so the client orders records exactly
as the emulator does.

Cross-type order: null/missing < numbers < strings < objects < arrays < booleans; ``1 == 1.0``
but ``true != 1``; objects compare pair by pair in field order. Dotted paths descend into objects
and through arrays of objects (:func:`resolve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final


class _Missing:
    """The value of a path that is not in the document (distinct from ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()

# BSON type brackets in MongoDB's cross-type order (MinKey < null < numbers < strings < objects
# < arrays < BinData < ObjectId < booleans < dates). JSON has no ObjectId or date: ``_id`` and
# ISO dates are strings, and lower-case hex strings order exactly as ObjectIds do.
_EMPTY_ARRAY_SORT = 0  # an empty array in a sort key sorts before null (MongoDB's rule)
NULL_BRACKET: Final = 1  # null and missing
NUMBER_BRACKET: Final = 2
STRING_BRACKET: Final = 3
OBJECT_BRACKET: Final = 4
ARRAY_BRACKET: Final = 5
BOOL_BRACKET: Final = 8

_NULL_KEY: Final = (NULL_BRACKET,)
EMPTY_ARRAY_KEY: Final = (_EMPTY_ARRAY_SORT,)


def bson_key(value: Any) -> tuple[Any, ...]:
    """A Python-orderable key that sorts JSON values in MongoDB's BSON order."""
    if value is None or value is MISSING:
        return _NULL_KEY
    if isinstance(value, str):
        return (STRING_BRACKET, value)
    if isinstance(value, bool):
        return (BOOL_BRACKET, value)
    if isinstance(value, (int, float)):
        if value != value:  # NaN sorts below every other number
            return (NUMBER_BRACKET, 0)
        return (NUMBER_BRACKET, 1, value)
    if isinstance(value, dict):
        # Objects compare pair by pair: value type first, then field name, then value.
        items = []
        for name, item in value.items():
            key = bson_key(item)
            items.append((key[0], name, key))
        return (OBJECT_BRACKET, tuple(items))
    if isinstance(value, list):
        return (ARRAY_BRACKET, tuple(bson_key(item) for item in value))
    raise TypeError(f"unsupported value of type {type(value).__name__} (JSON values only)")


def bson_equal(a: Any, b: Any) -> bool:
    """MongoDB equality: ``1 == 1.0``, ``true != 1``, objects equal only in the same field order."""
    return bson_key(a) == bson_key(b)


def resolve(value: Any, parts: Sequence[str]) -> list[Any]:
    """The values a dotted path reaches, MongoDB style: through objects and arrays of objects.

    A branch that ends without the field contributes MISSING; an array that yields nothing (say
    ``a.b`` over ``[1, 2]``) counts as MISSING too. A numeric segment also indexes an array.
    """
    out: list[Any] = []
    _resolve(value, parts, 0, out)
    return out


def _resolve(value: Any, parts: Sequence[str], index: int, out: list[Any]) -> None:
    if index == len(parts):
        out.append(value)
        return
    key = parts[index]
    if isinstance(value, dict):
        if key in value:
            _resolve(value[key], parts, index + 1, out)
        else:
            out.append(MISSING)
    elif isinstance(value, list):
        start = len(out)
        if key.isdigit() and key.isascii():
            position = int(key)
            if position < len(value):
                _resolve(value[position], parts, index + 1, out)
            for element in value:
                if isinstance(element, dict) and key in element:
                    _resolve(element[key], parts, index + 1, out)
        else:
            for element in value:
                if isinstance(element, dict):
                    _resolve(element, parts, index, out)
        if len(out) == start:
            out.append(MISSING)
    else:
        out.append(MISSING)
