"""What a filter, sort, update or document may hold, and the error for what it may not.

MongoDB's own bounds, checked before any work is done so that no input can exhaust the
emulator's stack or reach SQLite in a form it reads differently: objects and arrays nested at
most :data:`~lumi.emulator.limits.MAX_NESTING` levels deep, integers within 64 bits, numbers
finite (JSON has no NaN or Infinity: ``1e400`` overflows to infinity when parsed). The walk is
iterative, so a value nested far deeper than the bound is refused rather than crashing.
"""

from __future__ import annotations

import math
from typing import Any

from lumi.emulator.limits import MAX_INT, MAX_NESTING, MIN_INT

__all__ = ["QueryError", "check_json", "shown"]


class QueryError(ValueError):
    """An invalid filter, sort or update; the message names the operator or field at fault."""


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)``, cut to ``width`` characters (a hostile value may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 3]}..."


def check_json(value: Any, what: str) -> None:
    """QueryError naming the bound when ``value`` nests too deep or holds a number MongoDB
    cannot store; ``what`` names the value in the message ("the filter", "document #3")."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            _check_number(item, what)
            continue
        if depth > MAX_NESTING:
            raise QueryError(
                f"{what} is nested more than {MAX_NESTING} levels deep (objects and arrays); "
                f"the limit is {MAX_NESTING}, as in MongoDB"
            )
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            else:
                _check_number(child, what)


def _check_number(value: Any, what: str) -> None:
    kind = type(value)
    if kind is int and not MIN_INT <= value <= MAX_INT:
        # str() of a huge integer is slow, and refused past 4300 digits: say its size instead
        digits = int(value.bit_length() * math.log10(2)) + 1
        if 10 ** (digits - 1) > abs(value):  # the estimate is one too high at most
            digits -= 1
        number = shown(value, 40) if digits < 100 else f"of {digits} digits"
        raise QueryError(
            f"{what} holds the integer {number}, beyond the 64-bit integers MongoDB stores "
            "(-2**63 to 2**63 - 1)"
        )
    if kind is float and not math.isfinite(value):
        raise QueryError(
            f"{what} holds {value!r}, not a finite number: JSON has no NaN or Infinity "
            "(a literal beyond ±1.8e308 overflows the 64-bit float range)"
        )
