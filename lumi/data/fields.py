"""Python field paths of entity classes -> wire paths and types.

``statistics__total_answers`` on a generated ``Questions`` class resolves to the wire path
``statistics.totalAnswers`` with the type ``int``. Queries, order_by and partial updates all name
fields this way, so an unknown name fails here, before any request, with the known names listed.
"""

from __future__ import annotations

import datetime as _dt
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from .._js import iso_string
from .._unset import Unset
from .._wire import WireField, wire_class
from ..errors import ValidationError
from ..serde import unstructure

SEPARATOR = "__"


#: One typed attribute: ``name``, ``wire`` and ``type`` (the annotation without ``Unset``).
FieldInfo = WireField


@attrs.frozen
class ResolvedPath:
    """A field path: the dotted wire path and the type found at its end."""

    python: str
    wire: str
    type: Any


def fields_of(cls: type) -> Mapping[str, FieldInfo]:
    """The typed attributes of an attrs class by Python name (``extra`` excluded)."""
    return wire_class(cls).by_name


def wire_names_of(cls: type) -> Mapping[str, FieldInfo]:
    """The typed attributes of an attrs class by wire name."""
    return wire_class(cls).by_wire


def has_extra(cls: type) -> bool:
    """Whether the class keeps undeclared keys (its schema allows additional properties)."""
    return wire_class(cls).extra is not None


def _members(tp: Any) -> list[Any]:
    """The non-null members of a union (or the type itself)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None) and a is not Unset]
    return [tp]


def element_type(tp: Any) -> Any | None:
    """``list[X]`` (possibly ``| None``) -> ``X``; None when ``tp`` is not a list type."""
    for member in _members(tp):
        if typing.get_origin(member) in (list, tuple, set, frozenset):
            args = typing.get_args(member)
            return args[0] if args else Any
        if member in (list, tuple):
            return Any
    return None


def _nested_class(tp: Any) -> type | None:
    for member in _members(tp):
        if isinstance(member, type) and attrs.has(member):
            return member
    return None


def _is_open(tp: Any) -> bool:
    """Untyped containers: any sub-path is allowed and passed through as written."""
    for member in _members(tp):
        origin = typing.get_origin(member) or member
        if member is Any or origin in (dict, Mapping) or origin is object:
            return True
    return False


def resolve(cls: type, key: str, parts: list[str] | None = None) -> ResolvedPath:
    """Resolve ``a__b__c`` (Python names) on ``cls``; raises ValidationError naming the field."""
    parts = key.split(SEPARATOR) if parts is None else parts
    if not parts or any(not part for part in parts):
        raise ValidationError(f"{cls.__name__}: invalid field path {key!r}")
    current: type | None = cls
    tp: Any = cls
    found: Any = Any
    wire: list[str] = []
    for index, part in enumerate(parts):
        if current is None:
            if _is_open(tp):
                wire.extend(parts[index:])  # inside an untyped object: keys are wire keys
                return ResolvedPath(key, ".".join(wire), Any)
            raise ValidationError(
                f"{cls.__name__}: {SEPARATOR.join(parts[:index])!r} has no sub-field {part!r} "
                f"(in {key!r})"
            )
        known = fields_of(current)
        info = known.get(part)
        if info is None and part == "_id":
            info = known.get("id")
        if info is None:
            names = ", ".join(sorted(known)) or "none"
            where = (
                f"{current.__name__}" if current is cls else f"{cls.__name__}.{current.__name__}"
            )
            raise ValidationError(
                f"{where}: unknown field {part!r} in {key!r} (known fields: {names})"
            )
        wire.append(info.wire)
        tp = found = info.type
        element = element_type(tp)
        # Mongo paths go through arrays: `items.name` reads the `name` of every element.
        current = _nested_class(element if element is not None else tp)
        if element is not None and current is None:
            tp = element
    return ResolvedPath(key, ".".join(wire), found)


# -- values ----------------------------------------------------------------------------------
class _Mismatch(Exception):
    pass


def _literal_base(tp: Any) -> tuple[type, ...]:
    return tuple({type(value) for value in typing.get_args(tp)})


def to_wire(tp: Any, value: Any) -> Any:
    """``value`` checked against ``tp`` and converted to JSON (datetimes as toISOString)."""
    try:
        return _conform(tp, value)
    except _Mismatch:
        raise ValidationError(
            f"expected {describe(tp)}, got {type(value).__name__} {value!r:.60}"
        ) from None


def _conform(tp: Any, value: Any) -> Any:
    if tp is Any or tp is object:
        return unstructure(value)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return None
        for member in _members(tp):
            try:
                return _conform(member, value)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin is typing.Literal:
        bases = _literal_base(tp)
        if isinstance(value, bool) and bool not in bases:
            raise _Mismatch
        if not isinstance(value, bases):
            raise _Mismatch
        return value
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise _Mismatch
        args = typing.get_args(tp)
        return [_conform(args[0] if args else Any, item) for item in value]
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _Mismatch
        return unstructure(value)
    if tp is type(None):
        if value is not None:
            raise _Mismatch
        return None
    if tp is bool:
        if not isinstance(value, bool):
            raise _Mismatch
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _Mismatch
        return value
    if tp is _dt.datetime:
        if isinstance(value, _dt.datetime):
            return iso_string(value)
        if isinstance(value, str):
            return value
        raise _Mismatch
    if isinstance(tp, type) and attrs.has(tp):
        if isinstance(value, (tp, Mapping)):
            return unstructure(value)
        raise _Mismatch
    if isinstance(tp, type) and isinstance(value, tp):
        return unstructure(value)
    raise _Mismatch


def describe(tp: Any) -> str:
    """A short human name of a type (``int``, ``str | None``, ``list[str]``)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " | ".join(describe(a) for a in typing.get_args(tp) if a is not Unset)
    if typing.get_origin(tp) is typing.Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(tp))
    if tp is type(None):
        return "None"
    if tp is _dt.datetime:
        return "datetime or ISO-8601 string"
    if tp is Any:
        return "any value"
    name = getattr(tp, "__name__", None)
    if name and not typing.get_args(tp):
        return str(name)
    return re.sub(r"\btyping\.", "", repr(tp))


def is_text(tp: Any) -> bool:
    """Whether values of ``tp`` are strings on the wire (regex lookups need that)."""
    element = element_type(tp)
    if element is not None:
        tp = element
    for member in _members(tp):
        if member in (str, Any, _dt.datetime):
            return True
        if typing.get_origin(member) is typing.Literal and str in _literal_base(member):
            return True
    return False
