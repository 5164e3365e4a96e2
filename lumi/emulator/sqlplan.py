"""MongoDB filters and sorts as SQL over the entity store's ``documents`` table.

A filter becomes SQL conjuncts that every matching document meets. When the whole filter is
*exact*, only matching documents meet them, and SQLite alone can page and count; otherwise they
only narrow, and the Python matcher (:mod:`lumi.emulator.matcher`, the reference) decides.
Exact translations exist for ``_id`` and top-level fields: equality, ``$ne``, ranges, ``$in``,
``$nin``, ``$exists``, ``$size``, ``$all`` of values, a literal ``^prefix`` regex, and ``$and``,
``$or``, ``$nor``, ``$not`` over them. Everything else (dotted paths, other regexes,
``$elemMatch``, object or array values, numbers beyond 64 bits) is left to Python; an operator
added to the matcher is left to Python until it gets a translation here.

How SQL sees a top-level field (the indexes use the same expressions): its BSON bracket
(:func:`bracket_sql`: 1 null or missing, 2 number, 3 string, 4 object, 5 array, 8 boolean) and
its value (:func:`value_sql`, ``json_extract``: booleans read 0/1). Within a bracket SQLite orders
values as MongoDB does: numbers by value (integers and reals compared exactly), strings by code
point (UTF-8 bytes), false before true. Array fields are decided element by element with
``json_each``; in a sort, a row whose field holds an array or an object is left to Python
(:attr:`SortSql.exceptions`). Two things SQLite reads differently, strings holding NUL (cut
there) and integers beyond 64 bits (read as reals), are kept out by the store: documents holding
them are not "plain" and are always decided in Python.

Each condition comes in two forms. The *seekable* form tests the bracket beside the value,
the way the field indexes are keyed, so that an index can look it up. The *lean* form leaves
the bracket test out where what the field holds makes it redundant (the index probes tell
which brackets a field holds; an object's JSON text never equals ``'s7'``, and no string
reads as a number ``>= 100`` when the field holds no strings). The store seeks one condition
through an index and tests the others row by row in their lean form: each bracket test left
out is one ``json_type`` call fewer per row read. A lean condition reads NULL, not false, for
a missing field, so negations coalesce it to false first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Final, Protocol

from lumi._bson import (
    ARRAY_BRACKET,
    BOOL_BRACKET,
    NULL_BRACKET,
    NUMBER_BRACKET,
    OBJECT_BRACKET,
    STRING_BRACKET,
)
from lumi.emulator.matcher import (
    SortSpec,
    is_operator_object,
    normalise_id_condition,
    true_value,
)

__all__ = [
    "VALUE_BRACKETS",
    "FieldShapes",
    "FilterSql",
    "Lookup",
    "SortSql",
    "Sql",
    "bracket_sql",
    "index_candidates",
    "is_sql_text",
    "sql_and",
    "sql_field",
    "sql_or",
    "translate_filter",
    "translate_sort",
    "value_sql",
]

#: Top-level field names SQL may address (as ``$."name"``): word characters and dashes.
_SQL_FIELD = re.compile(r"[\w-]+")
_INT64 = 2**63
_RANGE_OPERATORS: Final = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_MAX_DEPTH: Final = 24  # nested $and/$or/$nor: SQLite's parser stack holds about 100 levels
_MAX_CONDITIONS: Final = 300  # keys and operator arguments in all: expression depth 1000
#: An ``$in`` of up to this many values binds each (cheaper to test), a longer one is one JSON
#: parameter read by ``json_each``.
_LISTED_PARAMETERS: Final = 32
_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\#")
_BRACKET_CASE = (
    "CASE {} WHEN 'integer' THEN {n} WHEN 'real' THEN {n} WHEN 'text' THEN {s} "
    "WHEN 'object' THEN {o} WHEN 'array' THEN {a} WHEN 'true' THEN {b} WHEN 'false' THEN {b} "
    "ELSE {z} END"
)
#: The brackets whose values SQL cannot order as MongoDB sorts them (left to Python).
STRUCTURED_BRACKETS: Final = frozenset({OBJECT_BRACKET, ARRAY_BRACKET})


def sql_field(name: str) -> bool:
    """Whether a top-level field name can be addressed in SQL (and indexed)."""
    return name != "_id" and _SQL_FIELD.fullmatch(name) is not None


def _path(name: str) -> str:
    return f"'$.\"{name}\"'"  # the name matched _SQL_FIELD: no quote can end the literal


def _bracket_case(json_type: str) -> str:
    return _BRACKET_CASE.format(
        json_type,
        n=NUMBER_BRACKET,
        s=STRING_BRACKET,
        o=OBJECT_BRACKET,
        a=ARRAY_BRACKET,
        b=BOOL_BRACKET,
        z=NULL_BRACKET,
    )


@lru_cache(maxsize=4096)
def bracket_sql(name: str) -> str:
    """SQL for the BSON bracket of a top-level field (null and missing are one bracket)."""
    return f"({_bracket_case(f'json_type(body, {_path(name)})')})"


@lru_cache(maxsize=4096)
def value_sql(name: str) -> str:
    """SQL for the value of a top-level field; within one bracket it orders as MongoDB does."""
    return f"json_extract(body, {_path(name)})"


_ELEMENT_BRACKET = f"({_bracket_case('e.type')})"


@dataclass(frozen=True)
class Sql:
    """A fragment of SQL and the parameters of its ``?`` marks, in order."""

    text: str
    params: tuple[Any, ...] = ()


_FALSE = Sql("0")


def sql_and(parts: Sequence[Sql]) -> Sql:
    """The conjunction of SQL conditions (true when there are none)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Sql("1")
    return Sql(" AND ".join(f"({p.text})" for p in parts), sum((p.params for p in parts), ()))


def sql_or(parts: Sequence[Sql]) -> Sql:
    """The disjunction of SQL conditions (false when there are none)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return _FALSE
    return Sql(" OR ".join(f"({p.text})" for p in parts), sum((p.params for p in parts), ()))


def _not(part: Sql) -> Sql:
    # coalesce: a lean condition reads NULL for a missing field, where it means false
    return Sql(f"NOT coalesce({part.text}, 0)", part.params)


class FieldShapes(Protocol):
    """What the store knows of the values a field holds in the queried entity."""

    def brackets(self, name: str) -> frozenset[int]:
        """The brackets other than null the field may hold (all of them when unknown)."""


# ---------------------------------------------------------------------------------------------
# Ranges a condition implies (so SQLite can use an index for an $or of keyset terms)


@dataclass(frozen=True)
class _Range:
    """The field is a scalar of ``bracket`` between ``low`` and ``high`` (None: unbounded)."""

    bracket: int
    low: Any = None
    high: Any = None
    derived: bool = False  # implied by an $or rather than stated by one condition

    def intersect(self, other: _Range) -> _Range:
        if other.bracket != self.bracket:
            return self  # cannot both hold: nothing matches, either range is implied
        low = _pick(self.low, other.low, max)
        high = _pick(self.high, other.high, min)
        return _Range(self.bracket, low, high, self.derived and other.derived)

    def width(self) -> int:
        if self.low is not None and self.high is not None:
            return 0 if self.low == self.high else 1
        return 2

    def hull(self, other: _Range) -> _Range | None:
        if other.bracket != self.bracket:
            return None
        low = None if self.low is None or other.low is None else min(self.low, other.low)
        high = None if self.high is None or other.high is None else max(self.high, other.high)
        return _Range(self.bracket, low, high, derived=True)


def _pick(a: Any, b: Any, choose: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return choose(a, b)


def _intersect(maps: Iterable[Mapping[str, _Range]]) -> dict[str, _Range]:
    out: dict[str, _Range] = {}
    for ranges in maps:
        for name, item in ranges.items():
            out[name] = out[name].intersect(item) if name in out else item
    return out


def _hull(maps: Sequence[Mapping[str, _Range]]) -> dict[str, _Range]:
    if not maps:
        return {}
    out: dict[str, _Range] = {}
    for name, first in maps[0].items():
        merged: _Range | None = first
        for other in maps[1:]:
            if merged is None or name not in other:
                merged = None
                break
            merged = merged.hull(other[name])
        if merged is not None:
            out[name] = merged
    return out


# ---------------------------------------------------------------------------------------------
# Translation


@dataclass(frozen=True)
class _Node:
    """A translated condition: ``sql`` None means no SQL condition (every row may match)."""

    sql: Sql | None
    exact: bool
    ranges: Mapping[str, _Range] = field(default_factory=dict)


_TRUE_EXACT = _Node(None, exact=True)
_TRUE_INEXACT = _Node(None, exact=False)


def _and_nodes(nodes: Sequence[_Node]) -> _Node:
    parts = [node.sql for node in nodes if node.sql is not None]
    return _Node(
        sql_and(parts) if parts else None,
        all(node.exact for node in nodes),
        _intersect(node.ranges for node in nodes),
    )


def _or_nodes(nodes: Sequence[_Node]) -> _Node:
    if any(node.sql is None and node.exact for node in nodes):
        return _TRUE_EXACT  # one branch matches every document
    if any(node.sql is None for node in nodes):
        return _TRUE_INEXACT
    parts = [node.sql for node in nodes if node.sql is not None]
    return _Node(sql_or(parts), all(node.exact for node in nodes), _hull([n.ranges for n in nodes]))


def _nor_nodes(nodes: Sequence[_Node]) -> _Node:
    if not all(node.exact for node in nodes):
        return _TRUE_INEXACT
    if any(node.sql is None for node in nodes):
        return _Node(_FALSE, exact=True)
    return _Node(_not(sql_or([node.sql for node in nodes if node.sql is not None])), exact=True)


@dataclass(frozen=True)
class FilterSql:
    """A filter as SQL: ``conjuncts`` hold for every match (and for matches only when exact)."""

    conjuncts: tuple[Sql, ...]
    #: The same conditions in their lean form (see the module docstring), position by position.
    lean: tuple[Sql, ...]
    exact: bool
    #: The one ``_id`` range among the conjuncts, as (position, operator, bound), if any.
    id_range: tuple[int, str, str] | None
    #: Brackets the conjuncts pin top-level fields to (what an ORDER BY need not repeat).
    pinned: Mapping[str, int]
    #: The conjuncts an index on their field can look up, narrowest first.
    lookups: tuple[Lookup, ...]


@dataclass(frozen=True)
class Lookup:
    """Conjunct ``position`` bounds ``field`` (or ``_id``) to one bracket: its index serves it.

    ``width``: 0 one value, 1 bounded on both sides (or a list of values), 2 on one side.
    """

    position: int
    field: str
    width: int


def translate_filter(filter: Mapping[str, Any] | None, shapes: FieldShapes) -> FilterSql:
    """SQL for a filter the matcher has already validated (see the module docstring)."""
    if not _within_sql_limits(filter or {}, 0, [_MAX_CONDITIONS]):
        return FilterSql((), (), exact=False, id_range=None, pinned={}, lookups=())
    conjuncts: list[Sql] = []
    lean: list[Sql] = []
    lookups: list[Lookup] = []
    exact = True
    id_ranges: list[tuple[int, str, str]] = []
    ranges: list[Mapping[str, _Range]] = []
    for key, condition in _top_level_conjuncts(filter or {}):
        node = _translate_item(key, condition, shapes, lean=False)
        exact = exact and node.exact
        ranges.append(node.ranges)
        if node.sql is None:
            continue
        conjuncts.append(node.sql)
        lean.append(_translate_item(key, condition, shapes, lean=True).sql or Sql("1"))
        item = node.ranges.get(key)
        if item is not None and not item.derived:
            lookups.append(Lookup(len(conjuncts) - 1, key, item.width()))
        bound = _single_id_range(condition) if key == "_id" and node.exact else None
        if bound is not None:
            id_ranges.append((len(conjuncts) - 1, *bound))
    implied = _intersect(ranges)
    for name, item in implied.items():
        stated = _range_sql(name, item) if item.derived else None
        if stated is not None:  # an $or implies it: say it outright so that an index serves it
            conjuncts.append(stated)
            lean.append(Sql("1"))  # implied by the others: only a lookup needs it
            lookups.append(Lookup(len(conjuncts) - 1, name, item.width()))
    return FilterSql(
        tuple(conjuncts),
        tuple(lean),
        exact,
        id_ranges[0] if len(id_ranges) == 1 else None,
        {name: item.bracket for name, item in implied.items() if name != "_id"},
        tuple(sorted(lookups, key=lambda lookup: lookup.width)),
    )


def _within_sql_limits(filter: Mapping[str, Any], depth: int, budget: list[int]) -> bool:
    """Whether the filter's SQL stays within what SQLite parses (its parser stack, expression
    depth and parameter count); a larger filter is left to Python whole."""
    if depth > _MAX_DEPTH:
        return False
    for key, condition in filter.items():
        if key in ("$and", "$or", "$nor"):
            budget[0] -= 1
            if not all(_within_sql_limits(branch, depth + 1, budget) for branch in condition):
                return False
        else:
            budget[0] -= _terms(condition, depth, budget)
        if budget[0] < 0:
            return False
    return True


def _terms(condition: Any, depth: int, budget: list[int]) -> int:
    """The SQL terms of one field's condition ($all: one per value; $not nests)."""
    if not is_operator_object(condition):
        return 1
    if depth > _MAX_DEPTH:
        return budget[0] + 1  # too deep: spend the whole budget
    terms = 0
    for op, argument in condition.items():
        if op == "$all" and isinstance(argument, list):
            terms += len(argument)
        elif op == "$not":
            terms += _terms(argument, depth + 1, budget)
        else:
            terms += 1
    return terms


def _top_level_conjuncts(filter: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, condition in filter.items():
        if key == "$and":
            for branch in condition:
                yield from _top_level_conjuncts(branch)
        elif key != "$comment":
            yield key, condition


def _single_id_range(condition: Any) -> tuple[str, str] | None:
    condition = normalise_id_condition(condition)
    if isinstance(condition, Mapping) and len(condition) == 1:
        ((name, bound),) = condition.items()
        if name in _RANGE_OPERATORS and isinstance(bound, str) and is_sql_text(bound):
            return name, bound
    return None


def _range_sql(name: str, item: _Range) -> Sql | None:
    value = "id" if name == "_id" else value_sql(name)
    parts = [] if name == "_id" else [Sql(f"{bracket_sql(name)} = {item.bracket}")]
    if item.low is not None:
        parts.append(Sql(f"{value} >= ?", (item.low,)))
    if item.high is not None:
        parts.append(Sql(f"{value} <= ?", (item.high,)))
    return sql_and(parts) if parts else None


def _document(filter: Mapping[str, Any], shapes: FieldShapes, lean: bool) -> _Node:
    return _and_nodes(
        [
            _translate_item(key, value, shapes, lean)
            for key, value in filter.items()
            if key != "$comment"
        ]
    )


def _translate_item(key: str, condition: Any, shapes: FieldShapes, lean: bool) -> _Node:
    """One condition; ``lean``: in its lean form, else in its seekable form."""
    if key in ("$and", "$or", "$nor"):
        branches = [_document(branch, shapes, lean) for branch in condition]
        if key == "$and":
            return _and_nodes(branches)
        return _or_nodes(branches) if key == "$or" else _nor_nodes(branches)
    if key == "_id":
        return _field(key, normalise_id_condition(condition), _ID, arrays=False)
    if sql_field(key):
        held = shapes.brackets(key)
        operand = _Operand.of(key, held if lean else None)
        return _field(key, condition, operand, arrays=ARRAY_BRACKET in held)
    return _TRUE_INEXACT  # dotted paths and odd names: the matcher decides


# ---------------------------------------------------------------------------------------------
# One field


@dataclass(frozen=True)
class _Operand:
    """How SQL reads one candidate value: its bracket (SQL, or a constant) and its value.

    ``held``: the brackets the value may hold besides null, for a lean condition (None: a
    seekable one, which always tests the bracket).
    """

    bracket: str
    value: str
    constant: int | None = None
    held: frozenset[int] | None = None

    @staticmethod
    def of(name: str, held: frozenset[int] | None = None) -> _Operand:
        return _Operand(bracket_sql(name), value_sql(name), held=held)

    def is_bracket(self, bracket: int) -> Sql:
        if self.constant is not None:
            return Sql("1") if self.constant == bracket else _FALSE
        return Sql(f"{self.bracket} = {bracket}")

    def within(self, bracket: int, condition: Sql, reach: frozenset[int]) -> Sql:
        """``condition`` on the value, for values of ``bracket`` only. ``reach``: the brackets
        whose SQL values can meet ``condition``; the bracket test is left out of a lean
        condition when the value holds no other of them (null reads NULL: never true)."""
        if self.constant is not None:
            return condition if self.constant == bracket else _FALSE
        if self.held is not None and not (self.held & reach) - {bracket}:
            return condition
        return Sql(f"{self.bracket} = {bracket} AND {condition.text}", condition.params)


#: What SQLite returns for a JSON value, by bracket: numbers and booleans read as numbers
#: (true 1, false 0), strings, objects and arrays as text; SQLite orders NULL < numbers < text.
_READ_AS_NUMBER: Final = frozenset({NUMBER_BRACKET, BOOL_BRACKET})
_READ_AS_TEXT: Final = frozenset({STRING_BRACKET, OBJECT_BRACKET, ARRAY_BRACKET})
#: Every bracket but null's: what a field may hold, as far as SQL is concerned.
VALUE_BRACKETS: Final = _READ_AS_NUMBER | _READ_AS_TEXT


def _reach(bracket: int, op: str) -> frozenset[int]:
    """The brackets whose SQL values can meet ``value <op> ?`` for a parameter of
    ``bracket`` (``=`` for equality and ``$in``)."""
    same = _READ_AS_NUMBER if bracket in _READ_AS_NUMBER else _READ_AS_TEXT
    if op in ("$gt", "$gte") and same is _READ_AS_NUMBER:
        return VALUE_BRACKETS  # every text is above every number
    if op in ("$lt", "$lte") and same is _READ_AS_TEXT:
        return VALUE_BRACKETS  # every number is below every text
    return same


_ID = _Operand("", "id", constant=STRING_BRACKET)  # the stored _id: always a lower-case string
_ELEMENT = _Operand(_ELEMENT_BRACKET, "e.value")  # an element of an array, from json_each


def _field(name: str, condition: Any, operand: _Operand, arrays: bool) -> _Node:
    """A field's condition; ``arrays``: the field may hold arrays (decided element-wise)."""

    def candidates(build: Any) -> Sql | None:
        # The value itself, or (MongoDB's one implicit level) any element of an array value.
        top: Sql | None = build(operand)
        if top is None or not arrays:
            return top
        inner: Sql | None = build(_ELEMENT)
        if inner is None:
            return None
        each = (
            f"{operand.bracket} = {ARRAY_BRACKET} AND EXISTS (SELECT 1 FROM "
            f"json_each(documents.body, {_path(name)}) AS e WHERE {inner.text})"
        )
        return sql_or([top, Sql(each, inner.params)])

    if not is_operator_object(condition):
        sql = candidates(lambda o: _equals(o, condition))
        ranges = _ranges_of(name, "$eq", condition) if sql is not None and not arrays else {}
        return _Node(sql, exact=True, ranges=ranges) if sql is not None else _TRUE_INEXACT
    nodes: list[_Node] = []
    for op, argument in condition.items():
        if op == "$options":
            continue
        sql = _operator(name, op, argument, condition, operand, arrays, candidates)
        if sql is None:
            nodes.append(_TRUE_INEXACT)
        else:
            ranges = {} if arrays else _ranges_of(name, op, argument)
            nodes.append(_Node(sql, exact=True, ranges=ranges))
    return _and_nodes(nodes)


def _operator(
    name: str,
    op: str,
    argument: Any,
    siblings: Mapping[str, Any],
    operand: _Operand,
    arrays: bool,
    candidates: Any,
) -> Sql | None:
    result: Sql | None
    if op == "$eq":
        result = candidates(lambda o: _equals(o, argument))
    elif op == "$ne":
        result = candidates(lambda o: _equals(o, argument))
        result = None if result is None else _not(result)
    elif op in _RANGE_OPERATORS:
        result = candidates(lambda o: _compare(o, op, argument))
    elif op in ("$in", "$nin"):
        result = candidates(lambda o: _member_of(o, argument))
        result = _not(result) if result is not None and op == "$nin" else result
    elif op == "$exists":
        if operand.constant is not None:
            result = Sql("1") if true_value(argument) else _FALSE
        else:
            test = "IS NOT NULL" if true_value(argument) else "IS NULL"
            result = Sql(f"json_type(body, {_path(name)}) {test}")
    elif op == "$size":
        result = _size(name, argument, operand)
    elif op == "$all":
        result = _all_of(argument, candidates)
    elif op == "$regex":
        prefix = _literal_prefix(argument, siblings.get("$options", ""))
        result = None if prefix is None else candidates(lambda o: _starts_with(o, prefix))
    elif op == "$not":
        inner = _field(name, argument, operand, arrays)
        result = _not(inner.sql) if inner.exact and inner.sql is not None else None
    else:  # $elemMatch, and any operator without a translation: the matcher decides
        result = None
    return result


def is_sql_text(text: str) -> bool:
    """Whether SQLite can hold this text: valid Unicode, so no lone surrogates (JSON allows
    them, UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scalar(value: Any) -> tuple[int, Any] | None:
    """(bracket, SQL parameter) of a value SQL compares exactly, else None."""
    if isinstance(value, bool):
        return BOOL_BRACKET, int(value)
    if isinstance(value, int):
        return (NUMBER_BRACKET, value) if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return (NUMBER_BRACKET, value) if math.isfinite(value) else None
    if isinstance(value, str):
        return (STRING_BRACKET, value) if is_sql_text(value) else None
    return None


def _equals(operand: _Operand, value: Any) -> Sql | None:
    if value is None:
        return operand.is_bracket(NULL_BRACKET)
    scalar = _scalar(value)
    if scalar is None:
        return None
    bracket, param = scalar
    return operand.within(bracket, Sql(f"{operand.value} = ?", (param,)), _reach(bracket, "="))


def _compare(operand: _Operand, op: str, bound: Any) -> Sql | None:
    if bound is None:  # null is its own bracket: only $gte/$lte match null (and missing)
        return _equals(operand, None) if op in ("$gte", "$lte") else _FALSE
    scalar = _scalar(bound)
    if scalar is None:
        return None
    bracket, param = scalar
    test = Sql(f"{operand.value} {_RANGE_OPERATORS[op]} ?", (param,))
    return operand.within(bracket, test, _reach(bracket, op))


def _member_of(operand: _Operand, items: Any) -> Sql | None:
    groups: dict[int, list[Any]] = {}
    parts: list[Sql] = []
    for item in items:
        if item is None:
            groups.setdefault(NULL_BRACKET, [])
            continue
        scalar = _scalar(item)
        if scalar is None or (isinstance(item, str) and "\x00" in item):
            return None  # regexes, objects, arrays, huge numbers; NUL would not survive JSON1
        groups.setdefault(scalar[0], []).append(scalar[1])
    for bracket, values in groups.items():
        if bracket == NULL_BRACKET:
            parts.append(operand.is_bracket(NULL_BRACKET))
            continue
        if len(values) <= _LISTED_PARAMETERS:
            marks = ", ".join("?" * len(values))
            member = Sql(f"{operand.value} IN ({marks})", tuple(values))
        else:  # one parameter, however long the list: within SQLite's parameter limit
            listed = json.dumps(values, ensure_ascii=False)
            member = Sql(f"{operand.value} IN (SELECT value FROM json_each(?))", (listed,))
        parts.append(operand.within(bracket, member, _reach(bracket, "=")))
    return sql_or(parts) if parts else _FALSE


def _size(name: str, argument: Any, operand: _Operand) -> Sql | None:
    size = int(argument) if isinstance(argument, float) else argument
    if operand.constant is not None:
        return _FALSE  # _id is never an array
    if not isinstance(size, int) or size >= _INT64:
        return None
    return Sql(
        f"{operand.bracket} = {ARRAY_BRACKET} AND json_array_length(body, {_path(name)}) = ?",
        (size,),
    )


def _all_of(items: Any, candidates: Any) -> Sql | None:
    if not items:
        return _FALSE
    parts: list[Sql] = []
    for item in items:
        if isinstance(item, (Mapping, list)):
            return None  # $elemMatch, objects and arrays: the matcher decides
        part = candidates(lambda o, item=item: _equals(o, item))
        if part is None:
            return None
        parts.append(part)
    return sql_and(parts)


def _literal_prefix(pattern: Any, options: Any) -> str | None:
    """``^literal`` (no i/m/x options) -> the literal; any other pattern -> None."""
    if not isinstance(pattern, str) or not isinstance(options, str) or set(options) - {"s", "u"}:
        return None
    if not pattern.startswith("^") or len(pattern) < 2:
        return None
    prefix: list[str] = []
    characters = iter(pattern[1:])
    for char in characters:
        if char == "\\":
            escaped = next(characters, "")
            if not escaped or escaped.isalnum() or escaped.isspace():
                return None  # \d, \w, \b... are classes, not literals
            prefix.append(escaped)
        elif char in _REGEX_SPECIAL:
            return None
        else:
            prefix.append(char)
    text = "".join(prefix)
    return text if is_sql_text(text) else None


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: there is none)."""
    stripped = prefix.rstrip("\U0010ffff")
    if not stripped:
        return None
    following = ord(stripped[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters: skip them
        following = 0xE000
    return stripped[:-1] + chr(following)


def _starts_with(operand: _Operand, prefix: str) -> Sql:
    value = operand.value
    end = _prefix_end(prefix)
    if end is None:
        test = Sql(f"{value} >= ? AND substr({value}, 1, ?) = ?", (prefix, len(prefix), prefix))
    else:
        test = Sql(f"{value} >= ? AND {value} < ?", (prefix, end))
    return operand.within(STRING_BRACKET, test, _READ_AS_TEXT)


def _ranges_of(name: str, op: str, argument: Any) -> dict[str, _Range]:
    """The range an exact, array-free condition pins a field to (for index use)."""
    if op == "$in" and isinstance(argument, list) and argument:
        scalars = [_scalar(item) for item in argument]
        brackets = {s[0] for s in scalars if s is not None}
        if None in scalars or len(brackets) != 1:
            return {}  # null, regexes, objects...: no single range
        values = [s[1] for s in scalars if s is not None]
        return {name: _Range(brackets.pop(), min(values), max(values))}
    if op not in ("$eq", *_RANGE_OPERATORS) or argument is None:
        return {}
    scalar = _scalar(argument)
    if scalar is None:
        return {}
    bracket, value = scalar
    if op == "$eq":
        return {name: _Range(bracket, value, value)}
    if op in ("$gt", "$gte"):
        return {name: _Range(bracket, low=value)}
    return {name: _Range(bracket, high=value)}


# ---------------------------------------------------------------------------------------------
# Sort


@dataclass(frozen=True)
class SortSql:
    """A sort as an ORDER BY over the rows SQL can order; ``exceptions`` are left to Python."""

    #: The ORDER BY terms as the field indexes are keyed (a read in index order needs them).
    terms: tuple[str, ...]
    #: The same order without the bracket terms that what the fields hold makes redundant (a
    #: read that sorts its rows anyway).
    lean_terms: tuple[str, ...]
    #: True for rows whose sort fields hold objects or arrays (None: there are none).
    exceptions: str | None
    #: The top-level fields the ORDER BY reads, in order (the first is the one to index).
    fields: tuple[str, ...]
    by_id: bool

    @cached_property
    def lean_order_by(self) -> str:
        """The ORDER BY clause of the lean terms."""
        return ", ".join(self.lean_terms)


def translate_sort(
    spec: SortSpec, shapes: FieldShapes, pinned: Mapping[str, int]
) -> SortSql | None:
    """An ORDER BY for a sort on ``_id`` and top-level fields (None: Python must sort).

    Ties keep insertion order (``seq``), as in the matcher; after ``_id`` nothing can tie.
    """
    terms: list[str] = []
    lean: list[str] = []
    exceptions: list[str] = []
    names: list[str] = []
    for parts, descending in spec:
        direction = " DESC" if descending else ""
        if parts == ("_id",):
            terms.append(f"id{direction}")
            lean.append(f"id{direction}")
            return SortSql(
                tuple(terms), tuple(lean), _any_text(exceptions), tuple(names), by_id=True
            )
        if len(parts) != 1 or not sql_field(parts[0]):
            return None
        name = parts[0]
        names.append(name)
        held = shapes.brackets(name)
        if name not in pinned:
            terms.append(f"{bracket_sql(name)}{direction}")
            if not _orders_as_read(held):
                lean.append(f"{bracket_sql(name)}{direction}")
        terms.append(f"{value_sql(name)}{direction}")
        lean.append(f"{value_sql(name)}{direction}")
        structured = held & STRUCTURED_BRACKETS
        if structured:
            listed = ", ".join(str(b) for b in sorted(structured))
            exceptions.append(f"{bracket_sql(name)} IN ({listed})")
    terms.append("seq")
    lean.append("seq")
    return SortSql(tuple(terms), tuple(lean), _any_text(exceptions), tuple(names), by_id=False)


def _orders_as_read(held: frozenset[int]) -> bool:
    """Whether SQLite orders the values of these brackets (objects and arrays aside: they are
    sorted in Python) as MongoDB does without a bracket term: null < numbers < strings, or
    null < false < true; booleans beside numbers or strings read as numbers and would not."""
    scalars = held - STRUCTURED_BRACKETS
    return scalars <= {NUMBER_BRACKET, STRING_BRACKET} or scalars <= {BOOL_BRACKET}


def _any_text(parts: list[str]) -> str | None:
    return " OR ".join(f"({part})" for part in parts) if parts else None


# ---------------------------------------------------------------------------------------------
# Index candidates


def index_candidates(filter: Mapping[str, Any] | None, spec: SortSpec) -> list[str]:
    """Top-level fields an index would serve: sorted by, or matched by equality, ``$in``,
    a range or a prefix, outside negations. In order of first use, without repeats."""
    names: dict[str, None] = {}
    for parts, _ in spec:
        if parts == ("_id",):
            break
        if len(parts) == 1 and sql_field(parts[0]):
            names[parts[0]] = None
    _positive_fields(filter or {}, names)
    return list(names)


def _positive_fields(filter: Mapping[str, Any], names: dict[str, None]) -> None:
    for key, condition in filter.items():
        if key in ("$and", "$or") and isinstance(condition, list):
            for branch in condition:
                if isinstance(branch, Mapping):
                    _positive_fields(branch, names)
        elif isinstance(key, str) and sql_field(key) and _looked_up(condition):
            names[key] = None


def _looked_up(condition: Any) -> bool:
    """Whether an index on the field serves this condition (a regex only as a literal prefix)."""
    if not is_operator_object(condition):
        return True
    if any(op in ("$eq", "$in", *_RANGE_OPERATORS) for op in condition):
        return True
    pattern = condition.get("$regex")
    return (
        pattern is not None and _literal_prefix(pattern, condition.get("$options", "")) is not None
    )
