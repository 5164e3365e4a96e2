"""``$regex`` patterns: compiled with the ``regex`` package, run under a budget per query.

MongoDB's patterns are PCRE; the ``regex`` package reads the same syntax for what apps write
(classes, anchors, groups, lazy, possessive and atomic repetition, lookaround, ``\\p{L}``) and,
unlike :mod:`re`, can stop a search after a time limit and releases the GIL while it searches,
so that other requests go on meanwhile. A pattern it cannot read is a QueryError naming it.

Every search of one query draws on one :class:`RegexBudget`
(:data:`~lumi.emulator.limits.REGEX_SECONDS` in total, over all its documents): a pattern that
backtracks for ever (``(a|a)+$`` against ``"aaaa...!"``) ends the query with a QueryError that
names the pattern and the budget, rather than holding the server.
"""

from __future__ import annotations

import time
from typing import Final

import regex

from lumi.emulator import limits
from lumi.emulator.bounds import QueryError, shown

__all__ = ["Pattern", "RegexBudget", "compile_regex"]

Pattern = regex.Pattern

# MongoDB's $options: i, m, s, x (u, its UTF-8 flag, is what Python patterns are anyway).
_FLAGS: Final = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}


def compile_regex(path: str, pattern: object, options: object) -> Pattern[str]:
    """The compiled ``$regex`` of field ``path``; a QueryError names what is wrong with it."""
    if not isinstance(pattern, str):
        raise QueryError(f"$regex on field {path!r} needs a string pattern")
    if not isinstance(options, str):
        raise QueryError(f"$options on field {path!r} must be a string")
    if len(pattern) > limits.MAX_REGEX_CHARS:
        raise QueryError(
            f"$regex on field {path!r} is {len(pattern)} characters long; "
            f"the limit is {limits.MAX_REGEX_CHARS}"
        )
    flags = 0
    for option in options:
        if option == "u":
            continue
        if option not in _FLAGS:
            raise QueryError(f"invalid $options flag {option!r} on field {path!r} (i, m, s, x)")
        flags |= _FLAGS[option]
    try:
        return regex.compile(pattern, flags)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise QueryError(f"invalid $regex {shown(pattern)} on field {path!r}: {exc}") from None


class RegexBudget:
    """The time the regular expressions of one query may still run (shared by its searches)."""

    __slots__ = ("_left", "_seconds")

    def __init__(self) -> None:
        self._seconds = self._left = limits.REGEX_SECONDS  # read now: tests may lower it

    def search(self, pattern: Pattern[str], text: str, path: str) -> bool:
        """Whether ``pattern`` occurs in ``text``; a QueryError once the budget is spent."""
        if self._left <= 0:
            raise self._spent(pattern, path)
        started = time.perf_counter()
        try:
            return pattern.search(text, concurrent=True, timeout=self._left) is not None
        except TimeoutError:
            self._left = 0
            raise self._spent(pattern, path) from None
        finally:
            self._left -= time.perf_counter() - started

    def _spent(self, pattern: Pattern[str], path: str) -> QueryError:
        return QueryError(
            f"$regex {shown(pattern.pattern)} on field {path!r} ran past the query's regex "
            f"budget of {self._seconds:g} s (all its documents together): a pattern whose "
            "repetitions overlap, such as (a|a)+, can backtrack for ever; simplify it"
        )
