"""Exact totals for keyset pages without recounting the collection on every page.

``listByPage`` returns the number of all matches with every page, and a keyset page's filter is
``rest AND _id > last``. SQLite counts a range only by reading it, so counting afresh costs the
rest of the collection, and a full pass O(n²). Instead each count is remembered as an *anchor*
(a cut in ``_id`` order and the number of rows on the counted side of it) and a new cut is
counted from a known one: the previous page's (a page of rows apart), the start (the total, when
known) or the end (zero rows beyond it). The two known cuts on either side are counted in turns
with doubling limits and the first to finish wins, so a count costs at most a few times the rows
between the cut and the nearer known one.

An anchor is used only while the entity's ``generation`` (raised by triggers on every insert,
update and delete, see :mod:`lumi.emulator.store_schema`) is the one it was counted at: exact
also when other connections or processes write; a write costs the next page one longer count.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lumi.emulator.recent import Recent
from lumi.emulator.sqlplan import Sql, sql_and

_LOWER: Final = ("$gt", "$gte")
_FILTERS: Final = 256  # filters remembered (the least recently used go first)
_ANCHORS: Final = 16  # cuts remembered per filter and direction
_FIRST_LIMIT: Final = 2_048  # rows counted from the nearer side before trying the other

#: A cut in ``_id`` order: (0, "", 0) the start, (2, "", 0) the end, (1, id, 0) just before an
#: id and (1, id, 1) just after it.
Cut = tuple[int, str, int]
_START: Final[Cut] = (0, "", 0)
_END: Final[Cut] = (2, "", 0)

#: Counts the rows of the filter's other conjuncts that also meet an extra condition (None:
#: none), reading at most ``limit`` rows when a limit is given.
Counter = Callable[[Sql | None, int | None], int]


@dataclass
class _Entry:
    generation: int
    total: int | None = None
    #: cut -> rows after it (lower bounds: ``_id > x``) / rows before it (upper bounds).
    after: OrderedDict[Cut, int] = field(default_factory=OrderedDict)
    before: OrderedDict[Cut, int] = field(default_factory=OrderedDict)


class KeysetCounts:
    """Remembered counts of ``rest AND _id <op> bound``, per filter and entity generation."""

    def __init__(self) -> None:
        self._entries: Recent[_Entry] = Recent(_FILTERS)

    def count(
        self,
        key: Hashable,
        generation: int,
        id_range: tuple[str, str] | None,
        count: Counter,
        total: int | None = None,
    ) -> int:
        """The number of rows meeting ``rest`` and ``id_range`` (an (operator, bound) or None).

        ``key`` names ``rest`` (its SQL and parameters); ``total`` is the count of ``rest``
        when it is known for free.
        """
        entry = self._entries.get(key)
        if entry is None or entry.generation != generation:
            entry = _Entry(generation)
        # A private copy: another thread may count the same filter meanwhile.
        known = _Entry(generation, entry.total, OrderedDict(entry.after), OrderedDict(entry.before))
        if total is not None:
            known.total = total
        if id_range is None:
            result = count(None, None) if known.total is None else known.total
            known.total = result
        else:
            op, bound = id_range
            lower = op in _LOWER
            anchors = known.after if lower else known.before
            cut = _cut(op, bound)
            result = _count_at(cut, lower, _with_ends(anchors, lower, known.total), count)
            anchors.pop(cut, None)
            anchors[cut] = result
            while len(anchors) > _ANCHORS:
                anchors.popitem(last=False)
        self._entries.put(key, known)
        return result


def _cut(op: str, bound: str) -> Cut:
    """The cut of a bound: rows after it meet ``$gt``/``$gte``, rows before it ``$lt``/``$lte``."""
    return (1, bound, 0 if op in ("$gte", "$lt") else 1)


def _with_ends(anchors: OrderedDict[Cut, int], lower: bool, total: int | None) -> dict[Cut, int]:
    known = dict(anchors)
    known[_END if lower else _START] = 0  # no row is after the end, none before the start
    if total is not None:
        known[_START if lower else _END] = total
    return known


def _count_at(cut: Cut, lower: bool, known: dict[Cut, int], count: Counter) -> int:
    """Rows after ``cut`` (``lower``) or before it, from the known cuts around it."""
    if cut in known:
        return known[cut]
    below = max((c for c in known if c < cut), default=None)
    above = min((c for c in known if c > cut), default=None)
    sides = [side for side in (below, above) if side is not None]
    counters = [
        lambda limit, side=side: count(_between(*sorted((side, cut))), limit) for side in sides
    ]
    winner, moved = race(counters)
    assert winner is not None and moved is not None  # without give_up, a count always ends
    side = sides[winner]
    # Moving the cut forward leaves rows out of "after" and adds them to "before".
    return known[side] + (moved if (cut > side) != lower else -moved)


def race(
    counters: Sequence[Callable[[int | None], int]], give_up: int | None = None
) -> tuple[int | None, int | None]:
    """Counts that read at most ``limit`` rows, run in turns with doubling limits: the first to
    finish below its limit wins, (its position, its exact count), at a cost of a few times the
    smallest count. A count that reaches ``give_up`` leaves the race; (None, None) if all do."""
    if len(counters) == 1 and give_up is None:
        return 0, counters[0](None)
    running = list(range(len(counters)))
    limit = _FIRST_LIMIT
    while running:
        for position in list(running):
            bound = limit if give_up is None else min(limit, give_up)
            counted = counters[position](bound)
            if counted < bound:
                return position, counted
            if give_up is not None and bound >= give_up:
                running.remove(position)
            limit *= 2
    return None, None


def _between(first: Cut, second: Cut) -> Sql | None:
    """The ``_id`` condition of the rows after cut ``first`` and before cut ``second``."""
    parts: list[Sql] = []
    if first[0] == 1:
        parts.append(Sql(f"id {'>=' if first[2] == 0 else '>'} ?", (first[1],)))
    if second[0] == 1:
        parts.append(Sql(f"id {'<' if second[2] == 0 else '<='} ?", (second[1],)))
    return sql_and(parts) if parts else None
