"""Exact totals for keyset pages without recounting the collection on every page.

``listByPage`` returns the number of all matches with every page, and a keyset page's filter is
``rest AND _id > last``: counting it afresh reads every remaining index entry, so a full pass
would cost O(n²). SQLite cannot count a range in less than its length, so the count is carried
from page to page instead: this page's total is the previous total minus the documents between
the two cursors (a range the size of one page).

A remembered count is used only while the entity's ``generation`` (raised by triggers on every
insert, update and delete, see :mod:`lumi.emulator.store_schema`) is the one it was counted
at, so it is exact also when other connections or processes write; any write costs the next
page one fresh count.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final

from lumi.emulator.sqlplan import Sql

_LOWER: Final = ("$gt", "$gte")
_SQL_OPERATOR: Final = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_MEMORY: Final = 256  # remembered filters (least recently used first out)

#: Counts the rows of the filter's other conjuncts that also meet an extra condition (or none).
Counter = Callable[[Sql | None], int]


@dataclass(frozen=True)
class _Anchor:
    """``count`` rows of the filter meet ``_id <op> bound`` (bound None: every row does)."""

    op: str
    bound: str | None
    count: int


@dataclass
class _Entry:
    generation: int
    lower: _Anchor | None = None  # from an ascending walk ($gt/$gte)
    upper: _Anchor | None = None  # from a descending walk ($lt/$lte)


class KeysetCounts:
    """Remembered counts of ``rest AND _id <op> bound``, per filter and entity generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def count(
        self,
        key: Hashable,
        generation: int,
        id_range: tuple[str, str] | None,
        count: Counter,
        total: int | None = None,
    ) -> int:
        """The number of rows meeting ``rest`` and ``id_range`` (an (operator, bound) or None).

        ``key`` names ``rest`` (its SQL and parameters); ``count(extra)`` counts rows of
        ``rest`` meeting ``extra`` too; ``total`` is the count of ``rest`` when known for free.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.generation != generation:
                entry = None
        anchors: tuple[_Anchor, ...]
        if id_range is None:
            result = count(None) if total is None else total
            anchors = (_Anchor("$gte", None, result), _Anchor("$lte", None, result))
        else:
            op, bound = id_range
            lower = op in _LOWER
            anchor = None if entry is None else (entry.lower if lower else entry.upper)
            if anchor is None and total is not None:
                anchor = _Anchor("$gte" if lower else "$lte", None, total)
            if anchor is None:
                result = count(_bound_sql(op, bound))
            else:
                result = _shift(anchor, op, bound, count)
            anchors = (_Anchor(op, bound, result),)
        self._remember(key, generation, anchors)
        return result

    def _remember(self, key: Hashable, generation: int, anchors: tuple[_Anchor, ...]) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None or entry.generation != generation:
                entry = _Entry(generation)
            for anchor in anchors:
                if anchor.op in _LOWER:
                    entry.lower = anchor
                else:
                    entry.upper = anchor
            self._entries[key] = entry
            while len(self._entries) > _MEMORY:
                self._entries.popitem(last=False)


def _bound_sql(op: str, bound: str) -> Sql:
    return Sql(f"id {_SQL_OPERATOR[op]} ?", (bound,))


def _position(op: str, bound: str | None) -> tuple[int, str, int]:
    """Where a bound cuts the id order: the rows after the cut meet a lower bound, the rows
    before it an upper one. The cut falls just before ``bound`` for ``$gte``/``$lt``, just
    after it for ``$gt``/``$lte``; None is the very start (lower) or the very end (upper)."""
    if bound is None:
        return (0, "", 0) if op in _LOWER else (2, "", 0)
    return (1, bound, 0 if op in ("$gte", "$lt") else 1)


def _shift(anchor: _Anchor, op: str, bound: str, count: Counter) -> int:
    """count(rest AND id <op> bound) from the anchor's count and the rows between the two cuts."""
    here = _position(op, bound)
    there = _position(anchor.op, anchor.bound)
    if here == there:
        return anchor.count
    first, second = (there, here) if there < here else (here, there)
    # The rows between two cuts: at or after the first, before the second.
    between = [
        _bound_sql(op_, bound_)
        for op_, bound_ in (_cut_after(first), _cut_before(second))
        if bound_ is not None
    ]
    sql = Sql(" AND ".join(p.text for p in between), sum((p.params for p in between), ()))
    moved = count(sql if between else None)
    lower = op in _LOWER
    # A lower bound moving up (an upper bound moving down) leaves rows out, and the reverse.
    grows = (here < there) if lower else (here > there)
    return anchor.count + moved if grows else anchor.count - moved


def _cut_after(cut: tuple[int, str, int]) -> tuple[str, str | None]:
    """The id condition of the rows at or after a cut."""
    part, bound, side = cut
    if part != 1:
        return "$gte", None
    return ("$gte" if side == 0 else "$gt"), bound


def _cut_before(cut: tuple[int, str, int]) -> tuple[str, str | None]:
    """The id condition of the rows before a cut."""
    part, bound, side = cut
    if part != 1:
        return "$lte", None
    return ("$lt" if side == 0 else "$lte"), bound
