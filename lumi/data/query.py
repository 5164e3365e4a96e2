"""Django-style queries compiled to Lumi's MongoDB-style ``filter``/``sort``/``limit``/``skip``.

``repo.filter(status="active", price__gte=10).exclude(active=False).order_by("-created_at")[:20]``
is a :class:`QuerySet`: immutable and lazy (every call returns a new one; nothing is sent until
it is iterated, counted, indexed or ``first()``-ed). Field names are Python attribute names,
compiled to wire names; a bad field or value raises :class:`lumi.errors.ValidationError` before
any request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ..documents import DEFAULT_PAGE_SIZE, check_positive
from ..errors import ValidationError
from ..sorting import SortPairs, sort_pairs
from .fields import SEPARATOR, ResolvedPath, describe, element_type, is_text, resolve, to_wire

if TYPE_CHECKING:
    from ..documents import DocumentClient

T = TypeVar("T")

#: lookup name -> Mongo operator for the plain comparisons
_COMPARISONS = {"ne": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
#: lookup name -> (regex template, case-insensitive)
_TEXT = {
    "contains": ("{}", False),
    "icontains": ("{}", True),
    "startswith": ("^{}", False),
    "istartswith": ("^{}", True),
    "endswith": ("{}$", False),
    "iendswith": ("{}$", True),
}
LOOKUPS = frozenset(
    {"exact", "in", "nin", "exists", "isnull", "regex", "iregex", *_COMPARISONS, *_TEXT}
)

# The ECMAScript regex syntax characters; escaping exactly these is valid in JavaScript, PCRE
# (MongoDB) and Python alike, unlike re.escape, which also escapes characters like "-" or "#".
_REGEX_SPECIAL = re.compile(r"[\\^$.*+?()[\]{}|/]")


def escape_regex(text: str) -> str:
    """``text`` as a regex matching itself literally."""
    return _REGEX_SPECIAL.sub(lambda match: "\\" + match.group(0), text)


class Q:
    """A filter condition: ``Q(status="a") | Q(price__lt=5)``, ``~Q(active=True)``, ``&``."""

    __slots__ = ("children", "connector", "negated")

    AND = "AND"
    OR = "OR"

    def __init__(self, *conditions: Q, **lookups: Any) -> None:
        for condition in conditions:
            if not isinstance(condition, Q):
                raise ValidationError(f"Q() takes Q objects and keyword lookups, got {condition!r}")
        self.children: tuple[Q | tuple[str, Any], ...] = (*conditions, *lookups.items())
        self.connector = Q.AND
        self.negated = False

    @classmethod
    def _make(cls, children: tuple[Q | tuple[str, Any], ...], connector: str, negated: bool) -> Q:
        node = cls()
        node.children, node.connector, node.negated = children, connector, negated
        return node

    def _combine(self, other: object, connector: str) -> Q:
        if not isinstance(other, Q):
            raise TypeError(f"cannot combine a Q with {type(other).__name__}")
        if not other.children:
            return self
        if not self.children:
            return other
        return Q._make((self, other), connector, False)

    def __and__(self, other: object) -> Q:
        return self._combine(other, Q.AND)

    def __or__(self, other: object) -> Q:
        return self._combine(other, Q.OR)

    def __invert__(self) -> Q:
        return Q._make((self,), Q.AND, True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Q) and (self.children, self.connector, self.negated) == (
            other.children,
            other.connector,
            other.negated,
        )

    def __hash__(self) -> int:
        return hash((self.connector, self.negated, len(self.children)))

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            repr(child) if isinstance(child, Q) else f"{child[0]}={child[1]!r}"
            for child in self.children
        )
        return f"{'~' if self.negated else ''}Q({inner})"


# -- compiling -------------------------------------------------------------------------------
def _is_operators(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k.startswith("$") for k in value)


def compile_lookup(cls: type, key: str, value: Any) -> dict[str, Any]:
    """One ``field__lookup=value`` as a filter document."""
    parts = key.split(SEPARATOR)
    lookup = "exact"
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        lookup = parts.pop()
    path = resolve(cls, key, parts)
    try:
        return {path.wire: _condition(path, lookup, value)}
    except ValidationError as exc:
        raise ValidationError(f"{cls.__name__}: lookup {key}: {exc.message}") from None


def _scalar(path: ResolvedPath, value: Any) -> Any:
    """A value compared with the field (or with each element of an array field)."""
    try:
        return to_wire(path.type, value)
    except ValidationError:
        element = element_type(path.type)
        if element is None:
            raise
        return to_wire(element, value)


def _condition(path: ResolvedPath, lookup: str, value: Any) -> Any:
    if lookup == "exact":
        return None if value is None else _scalar(path, value)
    if lookup in _COMPARISONS:
        if value is None and lookup != "ne":
            raise ValidationError(f"{lookup} needs a value, got None")
        return {_COMPARISONS[lookup]: None if value is None else _scalar(path, value)}
    if lookup in ("in", "nin"):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(
            value, (list, tuple, set, frozenset)
        ):
            raise ValidationError(f"{lookup} needs a list of values, got {value!r:.60}")
        items = [None if item is None else _scalar(path, item) for item in value]
        return {f"${lookup}": items}
    if lookup in ("exists", "isnull"):
        if not isinstance(value, bool):
            raise ValidationError(f"{lookup} needs True or False, got {value!r:.60}")
        if lookup == "exists":
            return {"$exists": value}
        return None if value else {"$ne": None}
    if not is_text(path.type):
        raise ValidationError(f"{lookup} needs a text field; the field is {describe(path.type)}")
    if lookup in ("regex", "iregex"):
        flags = "i" if lookup == "iregex" else ""
        if isinstance(value, re.Pattern):
            flags = "i" if value.flags & re.IGNORECASE else flags
            value = value.pattern
        if not isinstance(value, str):
            raise ValidationError(f"{lookup} needs a pattern string, got {value!r:.60}")
        return {"$regex": value, "$options": flags} if flags else {"$regex": value}
    if not isinstance(value, str):
        raise ValidationError(f"{lookup} needs a string, got {value!r:.60}")
    template, insensitive = _TEXT[lookup]
    pattern = template.format(escape_regex(value))
    return {"$regex": pattern, "$options": "i"} if insensitive else {"$regex": pattern}


def merge_and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """AND of filter documents: one document when the keys allow it, else ``$and``."""
    parts = [part for part in parts if part]
    if len(parts) <= 1:
        return dict(parts[0]) if parts else {}
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif (
                not key.startswith("$")
                and _is_operators(merged[key])
                and _is_operators(value)
                and not set(merged[key]) & set(value)
                and "$not" not in merged[key]
                and "$not" not in value
            ):
                merged[key] = {**merged[key], **value}  # price__gte + price__lte: one range
            else:
                return {"$and": parts}
    return merged


def negate(document: dict[str, Any]) -> dict[str, Any]:
    """NOT of a filter document, kept on the field where MongoDB allows it."""
    if not document:
        return {"$nor": [{}]}
    if len(document) == 1:
        ((key, condition),) = document.items()
        if key == "$or":
            return {"$nor": condition}
        if key == "$nor":
            return condition[0] if len(condition) == 1 else {"$or": condition}
        if not key.startswith("$"):
            return {key: _negate_condition(condition)}
    return {"$nor": [document]}


_OPPOSITES = {"$in": "$nin", "$nin": "$in"}


def _negate_condition(condition: Any) -> Any:
    if not _is_operators(condition):
        return {"$ne": condition}
    if len(condition) == 1:
        ((operator, argument),) = condition.items()
        if operator == "$ne":
            return argument if not isinstance(argument, dict) else {"$eq": argument}
        if operator in _OPPOSITES:
            return {_OPPOSITES[operator]: argument}
        if operator == "$exists":
            return {"$exists": not argument}
        if operator == "$not":
            return argument
    return {"$not": condition}


def compile_q(cls: type, node: Q) -> dict[str, Any]:
    """A :class:`Q` tree as a filter document for entity class ``cls``."""
    parts = [
        compile_q(cls, child) if isinstance(child, Q) else compile_lookup(cls, *child)
        for child in node.children
    ]
    if node.connector == Q.OR and len(parts) > 1:
        branches: list[dict[str, Any]] = []
        for part in parts:  # (a | b) | c is one $or of three branches
            branches.extend(part["$or"] if list(part) == ["$or"] else [part])
        document: dict[str, Any] = {"$or": branches}
    else:
        document = merge_and(parts)
    return negate(document) if node.negated else document


def order_pairs(cls: type, fields: tuple[Any, ...]) -> SortPairs:
    """``order_by`` arguments (each in any sort form, Python names) as (Python name, 1 | -1)."""
    pairs: SortPairs = []
    for field in fields:
        pairs += sort_pairs(field, f"{cls.__name__} order_by")
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise ValidationError(f"{cls.__name__}: order_by names {name!r} twice")
        seen.add(name)
    return pairs


def compile_order(cls: type, fields: tuple[Any, ...]) -> dict[str, int]:
    """``("-created_at", "name")`` -> ``{"createdAt": -1, "name": 1, "_id": 1}``.

    Each argument is a sort in any form :mod:`lumi.sorting` reads (``"-created_at"``,
    ``{"created_at": -1}``, ``[("created_at", -1)]``...), with Python field names."""
    sort: dict[str, int] = {}
    for name, direction in order_pairs(cls, fields):
        path = resolve(cls, name)
        if path.wire in sort:
            raise ValidationError(f"{cls.__name__}: order_by names {name!r} twice")
        sort[path.wire] = direction
    sort.setdefault("_id", 1)  # a stable order, so paging neither skips nor repeats records
    return sort


# -- the queryset ----------------------------------------------------------------------------
@attrs.frozen
class CompiledQuery:
    """What a :class:`QuerySet` sends: ``filter``, ``sort``, ``skip`` and ``limit`` (None: all)."""

    filter: dict[str, Any]
    sort: dict[str, int]
    skip: int
    limit: int | None


@attrs.frozen(eq=False)
class QuerySet(Generic[T]):
    """A lazy, immutable query over one entity class; see the module docstring."""

    model: type[T]
    _documents: DocumentClient[T] = attrs.field(repr=False)
    _where: Q = attrs.field(factory=Q)
    _raw: tuple[dict[str, Any], ...] = ()
    _order: tuple[Any, ...] = ()
    _skip: int = 0
    _limit: int | None = None
    _page_size: int = DEFAULT_PAGE_SIZE

    # -- building -----------------------------------------------------------------------------
    def _refine(self, **changes: Any) -> QuerySet[T]:
        if (self._skip or self._limit is not None) and ("where" in changes or "raw" in changes):
            raise ValidationError("cannot filter a query once it has been sliced")
        return attrs.evolve(self, **changes)

    def filter(self, *conditions: Q, **lookups: Any) -> QuerySet[T]:
        """Records matching every condition (``field__lookup=value``, Q objects)."""
        condition = Q(*conditions, **lookups)
        compile_q(self.model, condition)  # fail now, not at the first request
        return self._refine(where=self._where & condition)

    def exclude(self, *conditions: Q, **lookups: Any) -> QuerySet[T]:
        """Records NOT matching all of the conditions together."""
        condition = Q(*conditions, **lookups)
        compile_q(self.model, condition)
        return self._refine(where=self._where & ~condition if condition.children else self._where)

    def where(self, filter: Mapping[str, Any]) -> QuerySet[T]:
        """AND a raw MongoDB-style filter (wire names, sent as is): the escape hatch."""
        if not isinstance(filter, Mapping):
            raise ValidationError(f"where() takes a filter mapping, got {filter!r:.60}")
        return self._refine(raw=(*self._raw, dict(filter)))

    def order_by(self, *fields: Any) -> QuerySet[T]:
        """Sort by these fields (``"-name"``: descending; or ``{"name": -1}``,
        ``[("name", -1)]``...); replaces any earlier order."""
        compile_order(self.model, fields)
        return attrs.evolve(self, order=tuple(fields))

    def all(self) -> QuerySet[T]:
        """This query (a copy, as in Django)."""
        return self

    def page_size(self, size: int) -> QuerySet[T]:
        """How many records each request fetches while iterating (default 100)."""
        return attrs.evolve(self, page_size=check_positive("page size", size))

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            return self._slice(key)
        if isinstance(key, bool) or not isinstance(key, int):
            raise TypeError(f"QuerySet indices must be integers or slices, not {type(key)}")
        if key < 0:
            raise ValidationError("negative indexing is not supported by a QuerySet")
        if self._limit is not None and key >= self._limit:
            raise IndexError("QuerySet index out of range")
        page = self._page(limit=1, skip=self._skip + key)
        if not page:
            raise IndexError("QuerySet index out of range")
        return page[0]

    def _slice(self, key: slice) -> QuerySet[T]:
        if key.step not in (None, 1):
            raise ValidationError("a QuerySet slice cannot have a step")
        start, stop = key.start or 0, key.stop
        for bound in (start, stop):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int) or bound < 0
            ):
                raise ValidationError(f"QuerySet slice bounds must be non-negative, got {key!r}")
        limit = self._limit
        if limit is not None:
            start = min(start, limit)
            stop = limit if stop is None else min(stop, limit)
        count = None if stop is None else max(0, stop - start)
        return attrs.evolve(self, skip=self._skip + start, limit=count)

    # -- compiled -----------------------------------------------------------------------------
    def compile(self) -> CompiledQuery:
        """The filter, sort, skip and limit this query sends (no request)."""
        filter = merge_and([compile_q(self.model, self._where), *self._raw])
        return CompiledQuery(
            filter=filter,
            sort=compile_order(self.model, self._order),
            skip=self._skip,
            limit=self._limit,
        )

    def _page(self, *, limit: int, skip: int) -> list[T]:
        query = self.compile()
        return self._documents._list(query.filter, query.sort, limit, skip).records

    # -- reading ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[T]:
        """Every matching record, ``page_size`` a request, by keyset cursors (see
        :mod:`lumi.keyset`): a record that matches throughout comes exactly once."""
        query = self.compile()
        if query.limit == 0:
            return iter(())
        return self._documents.iterate(
            filter=query.filter,
            sort=query.sort,
            page_size=self._page_size,
            skip=query.skip,
            limit=query.limit,
        )

    def count(self) -> int:
        """How many records match (one request; the slice is taken into account)."""
        query = self.compile()
        total = self._documents._list(query.filter, None, 1, None).total
        matched = max(0, total - self._skip)
        return matched if self._limit is None else min(matched, self._limit)

    def first(self) -> T | None:
        """The first record in order (by ``_id`` when unordered), or None."""
        if self._limit == 0:
            return None
        page = self._page(limit=1, skip=self._skip)
        return page[0] if page else None

    def exists(self) -> bool:
        """Whether any record matches."""
        return self.first() is not None

    def __bool__(self) -> bool:
        raise TypeError("a QuerySet has no truth value without a request: use .exists()")

    def __repr__(self) -> str:
        query = self.compile()
        return (
            f"<QuerySet {self.model.__name__} filter={query.filter!r} sort={query.sort!r} "
            f"skip={query.skip} limit={query.limit}>"
        )
