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

A new operator is added in :func:`_compile_operator`; without a translation in
:mod:`lumi.emulator.sqlplan` it is still exact (SQLite only narrows, Python decides).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from lumi._bson import EMPTY_ARRAY_KEY, MISSING, bson_key, resolve

Document = dict[str, Any]
Matcher = Callable[[Document], bool]
# An operator compiled for one path: it receives the values the path resolves to in a document.
_ValuesPredicate = Callable[[list[Any]], bool]


class QueryError(ValueError):
    """An invalid filter, sort or update; the message names the operator or field at fault."""


_HEX24 = re.compile(r"[0-9a-fA-F]{24}")

_KNOWN_UNSUPPORTED = frozenset(
    {
        "$where",
        "$expr",
        "$text",
        "$jsonSchema",
        "$type",
        "$mod",
        "$bitsAllSet",
        "$bitsAnySet",
        "$bitsAllClear",
        "$bitsAnyClear",
        "$geoWithin",
        "$geoIntersects",
        "$near",
        "$nearSphere",
        "$sampleRate",
    }
)


# ---------------------------------------------------------------------------------------------
# Paths


def split_path(path: Any) -> tuple[str, ...]:
    """``"a.b.c"`` -> ``("a", "b", "c")``; an empty path or segment is a QueryError."""
    if not isinstance(path, str) or not path:
        raise QueryError(f"invalid field path {path!r}: must be a non-empty string")
    parts = tuple(path.split("."))
    if "" in parts:
        raise QueryError(f"invalid field path {path!r}: empty segment")
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


def compile_filter(filter: Mapping[str, Any] | None) -> CompiledFilter:
    """Validate and compile a MongoDB filter; ``None`` or ``{}`` match every document."""
    if filter is None:
        filter = {}
    if not isinstance(filter, Mapping):
        raise QueryError(f"the filter must be an object, not {type(filter).__name__}")
    return CompiledFilter(
        matches=_compile_document(filter),
        is_empty=not any(key != "$comment" for key in filter),
    )


def _compile_document(filter: Mapping[str, Any]) -> Matcher:
    predicates: list[Matcher] = []
    for key, value in filter.items():
        if not isinstance(key, str):
            raise QueryError(f"filter keys must be strings, not {key!r}")
        if key.startswith("$"):
            if key == "$comment":
                continue
            predicates.append(_compile_logical(key, value))
        else:
            predicates.append(_compile_field(key, value))
    if not predicates:
        return _always
    if len(predicates) == 1:
        return predicates[0]
    return lambda doc: all(predicate(doc) for predicate in predicates)


def _always(doc: Document) -> bool:
    return True


def _compile_logical(key: str, value: Any) -> Matcher:
    if key not in ("$and", "$or", "$nor"):
        if key in _KNOWN_UNSUPPORTED:
            raise QueryError(f"unsupported top-level operator {key} (the emulator does not run it)")
        if key == "$not":
            raise QueryError("unknown top-level operator $not: use $nor, or $not inside a field")
        raise QueryError(f"unknown top-level operator {key}")
    if not isinstance(value, list) or not value:
        raise QueryError(f"{key} must be a non-empty array of filters")
    branches = []
    for branch in value:
        if not isinstance(branch, Mapping):
            raise QueryError(f"every element of {key} must be an object")
        branches.append(_compile_document(branch))
    if key == "$and":
        return lambda doc: all(branch(doc) for branch in branches)
    if key == "$or":
        return lambda doc: any(branch(doc) for branch in branches)
    return lambda doc: not any(branch(doc) for branch in branches)


def is_operator_object(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        isinstance(key, str) and key.startswith("$") for key in value
    )


def _compile_field(path: str, condition: Any) -> Matcher:
    parts = split_path(path)
    if path == "_id":
        condition = normalise_id_condition(condition)
    if is_operator_object(condition):
        predicate = _compile_operators(path, condition)
    else:
        predicate = _equals(path, condition)
    if len(parts) == 1:
        key = parts[0]
        return lambda doc: predicate([doc.get(key, MISSING)])
    return lambda doc: predicate(resolve(doc, parts))


def _compile_operators(path: str, operators: Mapping[str, Any]) -> _ValuesPredicate:
    for key in operators:
        if not (isinstance(key, str) and key.startswith("$")):
            raise QueryError(f"field {path!r} mixes operators and plain fields ({key!r})")
    predicates: list[_ValuesPredicate] = []
    for name, argument in operators.items():
        if name == "$options":
            if "$regex" not in operators:
                raise QueryError(f"$options without $regex on field {path!r}")
            continue
        predicates.append(_compile_operator(path, name, argument, operators))
    if len(predicates) == 1:
        return predicates[0]
    return lambda values: all(predicate(values) for predicate in predicates)


def _compile_operator(
    path: str, name: str, argument: Any, siblings: Mapping[str, Any]
) -> _ValuesPredicate:
    if name == "$eq":
        return _equals(path, argument)
    if name == "$ne":
        equals = _equals(path, argument)
        return lambda values: not equals(values)
    if name in ("$gt", "$gte", "$lt", "$lte"):
        return _compare(path, name, argument)
    if name == "$in":
        return _member_of(path, name, argument)
    if name == "$nin":
        member = _member_of(path, name, argument)
        return lambda values: not member(values)
    if name == "$exists":
        wanted = bool(argument)
        return lambda values: any(value is not MISSING for value in values) is wanted
    if name == "$regex":
        return _regex_predicate(_compile_regex(path, argument, siblings.get("$options", "")))
    if name == "$not":
        if not isinstance(argument, Mapping) or not argument:
            raise QueryError(f"$not on field {path!r} needs a regex or an operator object")
        if not is_operator_object(argument):
            raise QueryError(f"$not on field {path!r} needs operators, not a plain object")
        inner = _compile_operators(path, argument)
        return lambda values: not inner(values)
    if name == "$size":
        size = argument
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise QueryError(f"$size on field {path!r} needs a non-negative integer")
        return lambda values: any(isinstance(v, list) and len(v) == size for v in values)
    if name == "$all":
        return _all_of(path, argument)
    if name == "$elemMatch":
        return _elem_match(path, argument)
    if name in _KNOWN_UNSUPPORTED:
        raise QueryError(f"unsupported operator {name} on field {path!r}")
    raise QueryError(f"unknown operator {name} on field {path!r}")


def normalise_id_condition(condition: Any) -> Any:
    """``_id`` strings are ObjectIds: compare 24-hex strings case-insensitively (stored lower)."""
    if isinstance(condition, str) and _HEX24.fullmatch(condition):
        return condition.lower()
    if isinstance(condition, list):
        return [normalise_id_condition(item) for item in condition]
    if is_operator_object(condition):
        return {
            name: argument
            if name in ("$regex", "$options", "$exists", "$size")
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
        if wanted != wanted:
            return lambda values: any(is_number(c) and c != c for c in _candidates(values))
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


def _member_of(path: str, name: str, items: Any) -> _ValuesPredicate:
    if not isinstance(items, list):
        raise QueryError(f"{name} on field {path!r} needs an array")
    strings: set[str] = set()
    numbers: set[int | float] = set()
    booleans: set[bool] = set()
    structured: set[tuple[Any, ...]] = set()
    regexes: list[re.Pattern[str]] = []
    has_null = has_nan = False
    for item in items:
        if item is None:
            has_null = True
        elif isinstance(item, str):
            strings.add(item)
        elif isinstance(item, bool):
            booleans.add(item)
        elif isinstance(item, (int, float)):
            if item != item:
                has_nan = True
            else:
                numbers.add(item)
        elif isinstance(item, Mapping) and is_operator_object(item):
            if "$regex" not in item or set(item) - {"$regex", "$options"}:
                raise QueryError(f"{name} on field {path!r} cannot contain operators, only $regex")
            regexes.append(_compile_regex(path, item["$regex"], item.get("$options", "")))
        elif isinstance(item, (dict, list)):
            structured.add(bson_key(item))
        else:
            raise QueryError(f"unsupported value of type {type(item).__name__} in {name}")

    def test(c: Any) -> bool:
        if c is None or c is MISSING:
            return has_null
        if isinstance(c, str):
            return c in strings or any(regex.search(c) for regex in regexes)
        if isinstance(c, bool):
            return c in booleans
        if isinstance(c, (int, float)):
            return c in numbers or (has_nan and c != c)
        return bool(structured) and bson_key(c) in structured

    return lambda values: any(test(c) for c in _candidates(values))


_REGEX_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _compile_regex(path: str, pattern: Any, options: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise QueryError(f"$regex on field {path!r} needs a string pattern")
    if not isinstance(options, str):
        raise QueryError(f"$options on field {path!r} must be a string")
    flags = 0
    for option in options:
        if option == "u":  # MongoDB's UTF-8 flag: Python patterns are Unicode already
            continue
        if option not in _REGEX_FLAGS:
            raise QueryError(f"invalid $options flag {option!r} on field {path!r} (i, m, s, x)")
        flags |= _REGEX_FLAGS[option]
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise QueryError(f"invalid $regex on field {path!r}: {exc}") from None


def _regex_predicate(regex: re.Pattern[str]) -> _ValuesPredicate:
    search = regex.search
    return lambda values: any(
        isinstance(c, str) and search(c) is not None for c in _candidates(values)
    )


def _all_of(path: str, items: Any) -> _ValuesPredicate:
    if not isinstance(items, list):
        raise QueryError(f"$all on field {path!r} needs an array")
    if not items:
        return lambda values: False
    predicates: list[_ValuesPredicate] = []
    for item in items:
        if isinstance(item, Mapping) and set(item) == {"$elemMatch"}:
            predicates.append(_elem_match(path, item["$elemMatch"]))
        elif is_operator_object(item):
            raise QueryError(f"$all on field {path!r} takes values or $elemMatch objects")
        else:
            predicates.append(_equals(path, item))
    return lambda values: all(predicate(values) for predicate in predicates)


def _elem_match(path: str, query: Any) -> _ValuesPredicate:
    if not isinstance(query, Mapping) or not query:
        raise QueryError(f"$elemMatch on field {path!r} needs a non-empty object")
    element_matches: Callable[[Any], bool]
    logical = {"$and", "$or", "$nor"}
    if all(isinstance(k, str) and k.startswith("$") and k not in logical for k in query):
        operators = _compile_operators(path, query)

        def element_matches(element: Any) -> bool:
            return operators([element])

    else:
        document = _compile_document(query)

        def element_matches(element: Any) -> bool:
            return isinstance(element, dict) and document(element)

    return lambda values: any(
        isinstance(value, list) and any(element_matches(e) for e in value) for value in values
    )


# ---------------------------------------------------------------------------------------------
# Sort


SortSpec = list[tuple[tuple[str, ...], bool]]  # (path parts, descending)

_DIRECTIONS: Final = {"asc": False, "ascending": False, "desc": True, "descending": True}


def compile_sort(sort: Mapping[str, Any] | None) -> SortSpec:
    """``{"a": 1, "b.c": -1}`` -> path parts and direction, in key order."""
    if sort is None:
        return []
    if not isinstance(sort, Mapping):
        raise QueryError(f"sort must be an object mapping fields to 1 or -1, not {sort!r}")
    spec: SortSpec = []
    for field, direction in sort.items():
        parts = split_path(field)
        if isinstance(direction, str) and direction.lower() in _DIRECTIONS:
            spec.append((parts, _DIRECTIONS[direction.lower()]))
        elif is_number(direction) and direction in (1, -1):
            spec.append((parts, direction == -1))
        else:
            raise QueryError(f"sort direction for {field!r} must be 1 or -1, not {direction!r}")
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
