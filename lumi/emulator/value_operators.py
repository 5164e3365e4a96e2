"""Query operators that test one value at a time: ``$type``, ``$mod``, the ``$bits`` operators
(and the argument of ``$size``), with MongoDB's argument rules and its errors.

The matcher applies a test to each value a path reaches and, MongoDB's one implicit level, to
each element of an array value (so ``{tags: {$type: "string"}}`` matches ``["a", 1]``, and
``{$type: "array"}`` matches an array itself).

JSON's values have these BSON types here: ``null`` (10), ``true``/``false`` bool (8), a string
(2; ``_id`` is an objectId, 7), an object (3), an array (4), an integer "int" (16) within 32
bits and "long" (18) beyond, a number written with a fraction or an exponent "double" (1), as
a Python driver stores them. The other BSON types (dates, binary, decimal...) never occur.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from lumi.emulator.bounds import QueryError, shown
from lumi.emulator.limits import MAX_INT, MIN_INT

__all__ = ["compile_test", "size_argument"]

Test = Callable[[Any], bool]

#: BSON type aliases and codes ($type), MongoDB's table. "number" is any numeric type.
TYPE_CODES: Final = {
    "double": 1,
    "string": 2,
    "object": 3,
    "array": 4,
    "binData": 5,
    "undefined": 6,
    "objectId": 7,
    "bool": 8,
    "date": 9,
    "null": 10,
    "regex": 11,
    "dbPointer": 12,
    "javascript": 13,
    "symbol": 14,
    "javascriptWithScope": 15,
    "int": 16,
    "timestamp": 17,
    "long": 18,
    "decimal": 19,
    "minKey": -1,
    "maxKey": 127,
}
_NUMBER_CODES: Final = frozenset({1, 16, 18, 19})
_INT32 = 2**31
_BIT_OPERATORS: Final = ("$bitsAllSet", "$bitsAnySet", "$bitsAllClear", "$bitsAnyClear")


def compile_test(path: str, name: str, argument: Any) -> Test | None:
    """The test of one value for operator ``name`` (None: not one of this module's)."""
    if name == "$type":
        return _type_test(path, argument)
    if name == "$mod":
        return _mod_test(path, argument)
    if name in _BIT_OPERATORS:
        return _bits_test(path, name, argument)
    return None


def size_argument(path: str, argument: Any) -> int:
    """The array length ``$size`` asks for: a whole number from 0 to 2**31 - 1."""
    if isinstance(argument, bool) or not isinstance(argument, (int, float)):
        raise QueryError(f"$size on field {path!r} needs a number, not {shown(argument)}")
    if isinstance(argument, float) and not argument.is_integer():
        raise QueryError(f"$size on field {path!r} must be a whole number, not {argument!r}")
    size = int(argument)
    if size < 0:
        raise QueryError(f"$size on field {path!r} may not be negative ({size})")
    if size >= _INT32:
        raise QueryError(f"$size on field {path!r} must be a 32-bit integer, not {size}")
    return size


# ---------------------------------------------------------------------------------------------
# $type


def type_code(value: Any, path: str) -> int:
    """The BSON type code of a JSON value at ``path`` (see the module docstring)."""
    if value is None:
        return 10
    if isinstance(value, bool):
        return 8
    if isinstance(value, int):
        return 16 if -_INT32 <= value < _INT32 else 18
    if isinstance(value, float):
        return 1
    if isinstance(value, str):
        return 7 if path == "_id" else 2
    if isinstance(value, dict):
        return 3
    return 4  # a list


def _type_test(path: str, argument: Any) -> Test:
    items = argument if isinstance(argument, list) else [argument]
    if not items:
        raise QueryError(f"$type on field {path!r} must match at least one type")
    codes: set[int] = set()
    for item in items:
        if isinstance(item, str):
            if item == "number":
                codes |= _NUMBER_CODES
            elif item in TYPE_CODES:
                codes.add(TYPE_CODES[item])
            else:
                raise QueryError(f"$type on field {path!r}: unknown type name alias {shown(item)}")
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            if item not in TYPE_CODES.values():
                raise QueryError(f"$type on field {path!r}: invalid numerical type code {item!r}")
            codes.add(int(item))
        else:
            raise QueryError(
                f"$type on field {path!r} takes type names or numeric codes, not {shown(item)}"
            )
    return lambda value: type_code(value, path) in codes


# ---------------------------------------------------------------------------------------------
# $mod


def _mod_test(path: str, argument: Any) -> Test:
    where = f"$mod on field {path!r}"
    if not isinstance(argument, list):
        raise QueryError(f"{where} needs an array [divisor, remainder] (malformed mod)")
    if len(argument) != 2:
        count = "not enough" if len(argument) < 2 else "too many"
        raise QueryError(f"{where} needs [divisor, remainder]: {count} elements (malformed mod)")
    divisor = _integral(argument[0], f"{where}: the divisor")
    remainder = _integral(argument[1], f"{where}: the remainder")
    if divisor == 0:
        raise QueryError(f"{where}: the divisor cannot be 0")

    def test(value: Any) -> bool:
        dividend = _as_int64(value)
        if dividend is None:
            return False
        # C's remainder (MongoDB's): the sign of the dividend, not Python's floor modulo
        left = abs(dividend) % abs(divisor)
        return (-left if dividend < 0 else left) == remainder

    return test


def _integral(value: Any, what: str) -> int:
    """A $mod argument: a number truncated toward zero, within 64 bits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{what} is not a number ({shown(value)})")
    if isinstance(value, float):
        value = math.trunc(value)  # finite: the filter's bounds refused NaN and infinities
    if not MIN_INT <= value <= MAX_INT:
        raise QueryError(f"{what} {value} cannot be represented as a 64-bit integer")
    return int(value)


def _as_int64(value: Any) -> int | None:
    """A number value truncated to a 64-bit integer (None: not a number, or out of range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = math.trunc(value)
    return value if MIN_INT <= value <= MAX_INT else None


# ---------------------------------------------------------------------------------------------
# $bitsAllSet, $bitsAnySet, $bitsAllClear, $bitsAnyClear


def _bits_test(path: str, name: str, argument: Any) -> Test:
    positions = _bit_positions(path, name, argument)
    want_set = name in ("$bitsAllSet", "$bitsAnySet")
    every = name in ("$bitsAllSet", "$bitsAllClear")

    def test(value: Any) -> bool:
        number = _as_int64(value)
        if number is None or (isinstance(value, float) and not value.is_integer()):
            return False  # only numbers that are 64-bit integers have bits
        # Two's complement: a negative number's bits above 63 are all set.
        bits = ((number >> p) & 1 == 1 if p < 64 else number < 0 for p in positions)
        hits = (bit is want_set for bit in bits)
        return all(hits) if every else any(hits)

    return test


def _bit_positions(path: str, name: str, argument: Any) -> list[int]:
    where = f"{name} on field {path!r}"
    if isinstance(argument, list):
        positions = []
        for item in argument:
            if isinstance(item, float) and item.is_integer():
                item = int(item)
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < _INT32:
                raise QueryError(
                    f"{where}: bit positions must be integers from 0 to 2**31 - 1, "
                    f"not {shown(item)}"
                )
            positions.append(item)
        return positions
    if isinstance(argument, float) and argument.is_integer():
        argument = int(argument)
    if isinstance(argument, bool) or not isinstance(argument, int) or argument < 0:
        raise QueryError(
            f"{where} takes a non-negative integer bitmask or an array of bit positions, "
            f"not {shown(argument)}"
        )
    return [p for p in range(argument.bit_length()) if argument >> p & 1]
