"""MongoDB query semantics over JSON documents: deciding a filter and ordering documents.

Documents are plain JSON values (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``).
Filters are compiled once into Python closures (:func:`compile_filter`) that decide exactly; the
store lets SQLite do what it can first (:mod:`lumi.emulator.sqlplan` translates filters and sorts
to SQL, exactly where SQLite can follow these rules) and this module is the reference: with
``EntityStore.sql_assist = False`` it decides every document alone, and the tests compare.

Hand-written rather than borrowed: mongomock's matcher differs from MongoDB where apps notice
(``true`` equals ``1``, object equality ignores field order, arrays sort by their first element,
``{"a.b": null}`` misses ``{a: 5}``) and is 1.5-2.5x slower in the same store
(benchmarks/emulator_store.py), and it cannot say which rows SQL may skip.
tests/emulator_store/test_store_differential.py checks this matcher against mongomock's on the
subset where mongomock is right.

Semantics (MongoDB's): equality matches a value or any element of an array value (and a whole
array); ``null`` also matches a missing field; ``1 == 1.0`` but ``true != 1``; objects are equal
only with the same fields in the same order; ``$gt``/``$lt``... compare only within one BSON type
bracket (``{$gt: 5}`` never matches a string); dotted paths descend into objects and through
arrays of objects. Cross-type order: null/missing < numbers < strings < objects < arrays <
booleans; in a sort an array stands for its smallest element (ascending) or largest (descending),
an empty array sorts before null.

Bounds come first (:func:`lumi.emulator.bounds.check_json`: nesting, 64-bit integers, finite
numbers), so compiling and matching never recurse deeper than MongoDB allows; regular expressions
run under one time budget per query (:mod:`lumi.emulator.regexes`).

A new operator is added in :func:`_compile_operator` (a test of single values in
:mod:`lumi.emulator.value_operators`); without a translation in :mod:`lumi.emulator.sqlplan` it is
still exact (SQLite only narrows, Python decides).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lumi._bson import EMPTY_ARRAY_KEY, MISSING, bson_key, resolve
from lumi.emulator import value_operators
from lumi.emulator.bounds import QueryError, check_json, shown
from lumi.emulator.limits import MAX_NESTING, MAX_SORT_KEYS
from lumi.emulator.regexes import Pattern, RegexBudget, compile_regex

Document = dict[str, Any]
Matcher = Callable[[Document], bool]
# An operator compiled for one path: it receives the values the path resolves to in a document.
_ValuesPredicate = Callable[[list[Any]], bool]


__all__ = [
    "CompiledFilter",
    "Document",
    "Matcher",
    "QueryError",
    "SortSpec",
    "compile_filter",
    "compile_sort",
    "is_number",
    "is_operator_object",
    "normalise_id_condition",
    "sort_documents",
    "sort_key",
    "sort_order",
    "split_path",
    "true_value",
]

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")

_JAVASCRIPT = "it runs JavaScript on the server, which the emulator does not"
_GEO = "geospatial queries need a geo index, which the emulator does not have"
#: MongoDB operators the emulator refuses, and why (the message says both).
_REFUSED: Final = {
    "$where": _JAVASCRIPT,
    "$function": _JAVASCRIPT,
    "$accumulator": _JAVASCRIPT,
    "$expr": "aggregation expressions are not evaluated by the emulator",
    "$jsonSchema": "the emulator does not validate documents against a schema in queries",
    "$text": "text search needs a text index, which the emulator does not have (use $regex)",
    "$search": "Atlas Search is not part of the emulator (use $regex)",
    "$sampleRate": "sampling is not part of the emulator",
    "$near": _GEO,
    "$nearSphere": _GEO,
    "$geoWithin": _GEO,
    "$geoIntersects": _GEO,
    "$within": _GEO,
}


# ---------------------------------------------------------------------------------------------
# Paths


def split_path(path: Any) -> tuple[str, ...]:
    """``"a.b.c"`` -> ``("a", "b", "c")``; an empty path or segment is a QueryError."""
    if not isinstance(path, str) or not path:
        raise QueryError(f"invalid field path {shown(path)}: must be a non-empty string")
    parts = tuple(path.split("."))
    if "" in parts:
        raise QueryError(f"invalid field path {shown(path)}: empty segment")
    if len(parts) > MAX_NESTING:
        raise QueryError(
            f"invalid field path {shown(path)}: {len(parts)} segments; the limit is "
            f"{MAX_NESTING} (no document nests deeper)"
        )
    return parts


def _candidates(values: list[Any]) -> Iterator[Any]:
    """Each value, and for an array value also its elements (the one implicit array level)."""
    for value in values:
        yield value
        if isinstance(value, list):
            yield from value


@dataclass(frozen=True)
class CompiledFilter:
    """A validated filter: ``matches(doc)`` decides exactly."""

    matches: Matcher
    is_empty: bool
    #: Whether ``matches`` may serve more than one query: it searches no regular expression,
    #: so it draws on no query's regex budget.
    reusable: bool = False


def compile_filter(filter: Mapping[str, Any] | None) -> CompiledFilter:
    """Validate and compile a MongoDB filter; ``None`` or ``{}`` match every document.

    The matcher's regular expressions share one time budget: compile a filter for each query.
    """
    if filter is None:
        filter = {}
    if not isinstance(filter, Mapping):
        raise QueryError(f"the filter must be an object, not {type(filter).__name__}")
    check_json(filter, "the filter")
    compiler = _Compiler(RegexBudget())
    matches = compiler.document(filter)
    return CompiledFilter(
        matches=matches,
        is_empty=not any(key != "$comment" for key in filter),
        reusable=not compiler.searches,
    )


def true_value(argument: Any) -> bool:
    """MongoDB's truth of an operator argument (``$exists``): null, false and 0 are false,
    every other value (an empty string or array included) is true."""
    if argument is None or isinstance(argument, bool):
        return bool(argument)
    if is_number(argument):
        return bool(argument != 0)
    return True


def _always(doc: Document) -> bool:
    return True


def is_operator_object(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        isinstance(key, str) and key.startswith("$") for key in value
    )


class _Compiler:
    """Compiles one filter into closures; its regexes draw on one budget."""

    def __init__(self, budget: RegexBudget) -> None:
        self._budget = budget
        self.searches = False  # whether a predicate draws on the budget

    def document(self, filter: Mapping[str, Any]) -> Matcher:
        predicates: list[Matcher] = []
        for key, value in filter.items():
            if not isinstance(key, str):
                raise QueryError(f"filter keys must be strings, not {key!r}")
            if key.startswith("$"):
                if key == "$comment":
                    continue
                predicates.append(self._logical(key, value))
            else:
                predicates.append(self._field(key, value))
        if not predicates:
            return _always
        if len(predicates) == 1:
            return predicates[0]
        return lambda doc: all(predicate(doc) for predicate in predicates)

    def _logical(self, key: str, value: Any) -> Matcher:
        if key not in ("$and", "$or", "$nor"):
            if key in _REFUSED:
                raise QueryError(f"unsupported top-level operator {key}: {_REFUSED[key]}")
            if key == "$not":
                raise QueryError(
                    "unknown top-level operator $not: use $nor, or $not inside a field"
                )
            raise QueryError(f"unknown top-level operator {key}")
        if not isinstance(value, list) or not value:
            raise QueryError(f"{key} must be a non-empty array of filters")
        branches = []
        for branch in value:
            if not isinstance(branch, Mapping):
                raise QueryError(f"every element of {key} must be an object")
            branches.append(self.document(branch))
        if key == "$and":
            return lambda doc: all(branch(doc) for branch in branches)
        if key == "$or":
            return lambda doc: any(branch(doc) for branch in branches)
        return lambda doc: not any(branch(doc) for branch in branches)

    def _field(self, path: str, condition: Any) -> Matcher:
        parts = split_path(path)
        if path == "_id":
            condition = normalise_id_condition(condition)
        if is_operator_object(condition):
            predicate = self._operators(path, condition)
        else:
            predicate = _equals(path, condition)
        if len(parts) == 1:
            key = parts[0]
            return lambda doc: predicate([doc.get(key, MISSING)])
        return lambda doc: predicate(resolve(doc, parts))

    def _operators(self, path: str, operators: Mapping[str, Any]) -> _ValuesPredicate:
        for key in operators:
            if not (isinstance(key, str) and key.startswith("$")):
                raise QueryError(f"field {path!r} mixes operators and plain fields ({key!r})")
        predicates: list[_ValuesPredicate] = []
        for name, argument in operators.items():
            if name == "$options":
                if "$regex" not in operators:
                    raise QueryError(f"$options without $regex on field {path!r}")
                continue
            predicates.append(self._operator(path, name, argument, operators))
        if len(predicates) == 1:
            return predicates[0]
        return lambda values: all(predicate(values) for predicate in predicates)

    def _operator(
        self, path: str, name: str, argument: Any, siblings: Mapping[str, Any]
    ) -> _ValuesPredicate:
        if name == "$eq":
            return _equals(path, argument)
        if name == "$ne":
            equals = _equals(path, argument)
            return lambda values: not equals(values)
        if name in ("$gt", "$gte", "$lt", "$lte"):
            return _compare(path, name, argument)
        if name in ("$in", "$nin"):
            member = self._member_of(path, name, argument)
            return member if name == "$in" else lambda values: not member(values)
        if name == "$exists":
            wanted = true_value(argument)
            return lambda values: any(value is not MISSING for value in values) is wanted
        if name == "$regex":
            regex = compile_regex(path, argument, siblings.get("$options", ""))
            return self._regex_predicate(path, regex)
        if name == "$not":
            return self._not(path, argument)
        if name == "$size":
            size = value_operators.size_argument(path, argument)
            return lambda values: any(isinstance(v, list) and len(v) == size for v in values)
        if name == "$all":
            return self._all_of(path, argument)
        if name == "$elemMatch":
            return self._elem_match(path, argument)
        test = value_operators.compile_test(path, name, argument)
        if test is not None:  # $type, $mod, $bits...: a test of each value and array element
            return lambda values: any(test(c) for c in _candidates(values) if c is not MISSING)
        if name in _REFUSED:
            raise QueryError(f"unsupported operator {name} on field {path!r}: {_REFUSED[name]}")
        raise QueryError(f"unknown operator {name} on field {path!r}")

    def _not(self, path: str, argument: Any) -> _ValuesPredicate:
        if not isinstance(argument, Mapping):
            raise QueryError(f"$not on field {path!r} needs a regex or an operator object")
        if not argument:
            raise QueryError(f"$not on field {path!r} cannot be empty")
        if not is_operator_object(argument):
            raise QueryError(f"$not on field {path!r} needs operators, not a plain object")
        inner = self._operators(path, argument)
        return lambda values: not inner(values)

    def _member_of(self, path: str, name: str, items: Any) -> _ValuesPredicate:
        if not isinstance(items, list):
            raise QueryError(f"{name} on field {path!r} needs an array")
        strings: set[str] = set()
        numbers: set[int | float] = set()
        booleans: set[bool] = set()
        structured: set[tuple[Any, ...]] = set()
        regexes: list[Pattern[str]] = []
        has_null = False
        for item in items:
            if item is None:
                has_null = True
            elif isinstance(item, str):
                strings.add(item)
            elif isinstance(item, bool):
                booleans.add(item)
            elif isinstance(item, (int, float)):
                numbers.add(item)
            elif isinstance(item, Mapping) and is_operator_object(item):
                # Extended JSON's form of a regular expression: the one operator $in takes
                if "$regex" not in item or set(item) - {"$regex", "$options"}:
                    raise QueryError(
                        f"{name} on field {path!r} cannot contain operators, only $regex"
                    )
                regexes.append(compile_regex(path, item["$regex"], item.get("$options", "")))
            elif isinstance(item, (dict, list)):
                structured.add(bson_key(item))
            else:
                raise QueryError(f"unsupported value of type {type(item).__name__} in {name}")
        search = self._budget.search
        self.searches = self.searches or bool(regexes)

        def test(c: Any) -> bool:
            if c is None or c is MISSING:
                return has_null
            if isinstance(c, str):
                return c in strings or any(search(regex, c, path) for regex in regexes)
            if isinstance(c, bool):
                return c in booleans
            if isinstance(c, (int, float)):
                return c in numbers
            return bool(structured) and bson_key(c) in structured

        return lambda values: any(test(c) for c in _candidates(values))

    def _regex_predicate(self, path: str, regex: Pattern[str]) -> _ValuesPredicate:
        search = self._budget.search
        self.searches = True
        return lambda values: any(
            isinstance(c, str) and search(regex, c, path) for c in _candidates(values)
        )

    def _all_of(self, path: str, items: Any) -> _ValuesPredicate:
        if not isinstance(items, list):
            raise QueryError(f"$all on field {path!r} needs an array")
        if not items:
            return lambda values: False
        elem_matches = [isinstance(i, Mapping) and "$elemMatch" in i for i in items]
        of_elem_matches = any(elem_matches)
        if of_elem_matches and not all(
            is_match and len(item) == 1 for is_match, item in zip(elem_matches, items, strict=True)
        ):  # MongoDB's rule: all of them $elemMatch objects, or none
            raise QueryError(
                f"$all on field {path!r} mixes $elemMatch objects with other values "
                "($all/$elemMatch has to be consistent)"
            )
        predicates: list[_ValuesPredicate] = []
        for item in items:
            if of_elem_matches:
                predicates.append(self._elem_match(path, item["$elemMatch"]))
            elif isinstance(item, Mapping) and set(item) and set(item) <= {"$regex", "$options"}:
                regex = compile_regex(path, item.get("$regex"), item.get("$options", ""))
                predicates.append(self._regex_predicate(path, regex))
            elif is_operator_object(item):
                raise QueryError(
                    f"$all on field {path!r} takes values, regexes or $elemMatch objects, "
                    f"not other operators (no $ expressions in $all)"
                )
            else:
                predicates.append(_equals(path, item))
        return lambda values: all(predicate(values) for predicate in predicates)

    def _elem_match(self, path: str, query: Any) -> _ValuesPredicate:
        if not isinstance(query, Mapping) or not query:
            raise QueryError(f"$elemMatch on field {path!r} needs a non-empty object")
        element_matches: Callable[[Any], bool]
        logical = {"$and", "$or", "$nor"}
        if all(isinstance(k, str) and k.startswith("$") and k not in logical for k in query):
            operators = self._operators(path, query)

            def element_matches(element: Any) -> bool:
                return operators([element])

        else:
            document = self.document(query)

            def element_matches(element: Any) -> bool:
                return isinstance(element, dict) and document(element)

        return lambda values: any(
            isinstance(value, list) and any(element_matches(e) for e in value) for value in values
        )


def normalise_id_condition(condition: Any) -> Any:
    """``_id`` strings are ObjectIds: compare 24-hex strings case-insensitively (stored lower)."""
    if isinstance(condition, str) and _HEX24.fullmatch(condition):
        return condition.lower()
    if isinstance(condition, list):
        return [normalise_id_condition(item) for item in condition]
    if is_operator_object(condition):
        return {
            name: argument
            if name in ("$regex", "$options", "$exists", "$size", "$type", "$mod")
            else normalise_id_condition(argument)
            for name, argument in condition.items()
        }
    return condition


def _equals(path: str, wanted: Any) -> _ValuesPredicate:
    if wanted is None:
        return lambda values: any(c is None or c is MISSING for c in _candidates(values))
    if isinstance(wanted, str):
        return lambda values: any(isinstance(c, str) and c == wanted for c in _candidates(values))
    if isinstance(wanted, bool):
        return lambda values: any(c is wanted for c in _candidates(values))
    if isinstance(wanted, (int, float)):
        return lambda values: any(is_number(c) and c == wanted for c in _candidates(values))
    if isinstance(wanted, (dict, list)):
        if is_operator_object(wanted):
            raise QueryError(f"operator object used as a value for field {path!r}")
        key = bson_key(wanted)
        kind = type(wanted)
        return lambda values: any(
            isinstance(c, kind) and bson_key(c) == key for c in _candidates(values)
        )
    raise QueryError(
        f"unsupported value of type {type(wanted).__name__} for field {path!r} (JSON only)"
    )


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_COMPARATORS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def _compare(path: str, name: str, bound: Any) -> _ValuesPredicate:
    compare = _COMPARATORS[name]
    if bound is None:  # null is its own bracket: only $gte/$lte match null and missing
        if name in ("$gte", "$lte"):
            return _equals(path, None)
        return lambda values: False
    test: Callable[[Any], bool]
    if isinstance(bound, str):

        def test(c: Any) -> bool:
            return isinstance(c, str) and compare(c, bound)

    elif isinstance(bound, bool):

        def test(c: Any) -> bool:
            return isinstance(c, bool) and compare(c, bound)

    elif isinstance(bound, (int, float)):

        def test(c: Any) -> bool:
            return is_number(c) and compare(c, bound)

    elif isinstance(bound, (dict, list)):
        if is_operator_object(bound):
            raise QueryError(f"{name} on field {path!r} needs a value, not operators")
        key = bson_key(bound)
        kind = type(bound)

        def test(c: Any) -> bool:
            return isinstance(c, kind) and compare(bson_key(c), key)

    else:
        raise QueryError(f"unsupported value of type {type(bound).__name__} for {name} on {path!r}")
    return lambda values: any(test(c) for c in _candidates(values) if c is not MISSING)


# ---------------------------------------------------------------------------------------------
# Sort


SortSpec = list[tuple[tuple[str, ...], bool]]  # (path parts, descending)

_DIRECTIONS: Final = {"asc": False, "ascending": False, "desc": True, "descending": True}


def compile_sort(sort: Mapping[str, Any] | None) -> SortSpec:
    """``{"a": 1, "b.c": -1}`` -> path parts and direction, in key order."""
    if sort is None:
        return []
    if not isinstance(sort, Mapping):
        raise QueryError(f"sort must be an object mapping fields to 1 or -1, not {shown(sort)}")
    if len(sort) > MAX_SORT_KEYS:
        raise QueryError(
            f"the sort names {len(sort)} fields; the limit is {MAX_SORT_KEYS}, as in MongoDB"
        )
    spec: SortSpec = []
    for field, direction in sort.items():
        parts = split_path(field)
        if isinstance(direction, str) and direction.lower() in _DIRECTIONS:
            spec.append((parts, _DIRECTIONS[direction.lower()]))
        elif is_number(direction) and direction in (1, -1):
            spec.append((parts, direction == -1))
        else:
            raise QueryError(
                f"sort direction for {field!r} must be 1 or -1, not {shown(direction)}"
            )
    return spec


def sort_key(document: Document, parts: tuple[str, ...], descending: bool) -> tuple[Any, ...]:
    """The BSON sort key of one field: an array counts as its min (or max) element."""
    keys: list[tuple[Any, ...]] = []
    for value in resolve(document, parts):
        if isinstance(value, list):
            if value:
                keys.extend(bson_key(element) for element in value)
            else:
                keys.append(EMPTY_ARRAY_KEY)
        else:
            keys.append(bson_key(value))
    if len(keys) == 1:
        return keys[0]
    return max(keys) if descending else min(keys)


def sort_order(documents: Sequence[Document], spec: SortSpec) -> list[int]:
    """Positions of ``documents`` in sorted order; ties keep the incoming (insertion) order."""
    order = list(range(len(documents)))
    # Python's sort is stable (also with reverse=True), so sorting by the last key first and
    # the first key last gives the multi-key order with insertion order as the final tiebreak.
    for parts, descending in reversed(spec):
        keys = [sort_key(document, parts, descending) for document in documents]
        order.sort(key=keys.__getitem__, reverse=descending)
    return order


def sort_documents(documents: list[Document], spec: SortSpec) -> list[Document]:
    """Stable multi-key sort: ties keep the incoming (insertion) order."""
    if not spec:
        return documents
    return [documents[index] for index in sort_order(documents, spec)]
