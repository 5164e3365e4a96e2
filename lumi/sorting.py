"""The one reader of ``sort`` arguments: every form users write, or a ValidationError naming them.

``{"views": -1}`` (the wire form), ``"-views"``, ``"views"``, ``"-views,title"`` (the CLI's),
``["-views", "title"]`` and ``[("views", -1)]`` (pymongo's) all mean the same thing; directions are
``1``/``-1`` or ``"asc"``/``"desc"`` (``"ascending"``/``"descending"``, as mongoose takes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

SORT_FORMS = (
    '{"views": -1}, "-views", "views", "-views,title", ["-views", "title"] or [("views", -1)] '
    '(directions 1/-1 or "asc"/"desc")'
)

_WORDS = {"asc": 1, "ascending": 1, "desc": -1, "descending": -1}

SortPairs = list[tuple[str, int]]


def sort_pairs(sort: Any, what: str = "sort") -> SortPairs:
    """``sort`` in any accepted form as ``[(field, 1 | -1), ...]``; None gives ``[]``."""
    if sort is None:
        return []
    pairs: SortPairs = []
    if isinstance(sort, str):
        for part in sort.split(","):
            pairs.append(_from_name(part.strip(), sort, what))
    elif isinstance(sort, Mapping):
        for field, direction in sort.items():
            pairs.append((_field(field, sort, what), _direction(direction, field, sort, what)))
    elif isinstance(sort, (list, tuple)):
        if len(sort) == 2 and isinstance(sort[0], str) and isinstance(sort[1], int):
            sort = [sort]  # one pair given bare: ("views", -1)
        for item in sort:
            if isinstance(item, str):
                pairs.append(_from_name(item.strip(), sort, what))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                field, direction = item
                pairs.append((_field(field, sort, what), _direction(direction, field, sort, what)))
            else:
                raise _refuse(sort, what, f"{item!r:.60} is neither a field nor a (field, 1|-1)")
    else:
        raise _refuse(sort, what, f"a {type(sort).__name__} is not a sort")
    seen: set[str] = set()
    for field, _ in pairs:
        if field in seen:
            raise _refuse(sort, what, f"it names {field!r} twice")
        seen.add(field)
    return pairs


def sort_document(sort: Any, what: str = "sort") -> dict[str, int] | None:
    """``sort`` as the wire's ``{field: 1 | -1}`` (None when there is none)."""
    if sort is None:
        return None
    return dict(sort_pairs(sort, what))


def _refuse(sort: Any, what: str, why: str) -> ValidationError:
    return ValidationError(f"invalid {what} {sort!r:.80}: {why}; write it as {SORT_FORMS}")


def _from_name(text: str, sort: Any, what: str) -> tuple[str, int]:
    direction = -1 if text.startswith("-") else 1
    return _field(text[1:] if text[:1] in "+-" else text, sort, what), direction


def _field(field: Any, sort: Any, what: str) -> str:
    if not isinstance(field, str) or not field or field.startswith("$"):
        raise _refuse(sort, what, f"{field!r:.60} is not a field name")
    if "" in field.split("."):
        raise _refuse(sort, what, f"{field!r:.60} has an empty path segment")
    return field


def _direction(direction: Any, field: Any, sort: Any, what: str) -> int:
    if isinstance(direction, str) and direction.lower() in _WORDS:
        return _WORDS[direction.lower()]
    if isinstance(direction, int) and not isinstance(direction, bool) and direction in (1, -1):
        return direction
    raise _refuse(sort, what, f"the direction of {field!r} must be 1 or -1, not {direction!r:.40}")
