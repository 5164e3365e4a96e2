"""The one converter between wire JSON and typed objects.

Generated classes carry each field's wire name in ``metadata["wire"]`` and keep unknown wire keys
in a field marked ``metadata["extra"]``. This module turns that into structure/unstructure hooks
(built once per class and cached by cattrs):

* unknown keys a newer server adds land in ``extra`` and are written back on unstructure;
* a record's ``_id`` is ``id`` in Python; ``_id`` and ``id`` are both accepted on input;
* ``UNSET`` fields are left out of the JSON (JavaScript drops ``undefined``); ``None`` stays ``null``;
* datetimes are written in JavaScript's ``toISOString()`` form (``2026-03-01T10:00:00.000Z``);
* primitives are checked, never coerced (``None`` does not become ``"None"``).

A value that does not fit its class raises :class:`lumi.errors.SchemaError` naming the field.
"""

from __future__ import annotations

import datetime as _dt
import enum
import logging
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import CattrsError

from ._js import iso_string
from ._record import RecordAccess
from ._unset import UNSET, Unset
from .errors import SchemaError

T = TypeVar("T")
logger = logging.getLogger("lumi")

_PRIMITIVES: tuple[type, ...] = (str, int, float, bool)


def format_datetime(value: _dt.datetime) -> str:
    """A datetime in JavaScript's ``toISOString()`` form: UTC, milliseconds, ``Z``."""
    return iso_string(value)


def parse_datetime(value: str) -> _dt.datetime:
    """An ISO-8601 string (``Z`` or offset, any fraction) as an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _without_unset(tp: Any) -> Any:
    """``T | Unset`` -> ``T`` (UNSET is never on the wire, so it is never structured)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(tp) if a is not Unset)
        if len(args) == 1:
            return args[0]
        return typing.Union[args]  # noqa: UP007 - building a Union at run time
    return tp


def _is_wire_class(cls: Any) -> bool:
    return attrs.has(cls) and any(
        "wire" in f.metadata or "extra" in f.metadata for f in attrs.fields(cls)
    )


class _Converter:
    """Wraps a cattrs converter configured with this module's hooks."""

    def __init__(self) -> None:
        conv = cattrs.Converter()
        self._cattrs = conv
        for primitive in _PRIMITIVES:
            conv.register_structure_hook(primitive, self._structure_primitive)
        conv.register_structure_hook(_dt.datetime, self._structure_datetime)
        conv.register_unstructure_hook(_dt.datetime, format_datetime)
        # A predicate, not a class: `typing.Any` is not a class before Python 3.11.
        conv.register_structure_hook_func(lambda tp: tp is typing.Any, lambda value, _: value)
        conv.register_structure_hook_func(self._is_union, self._structure_union)
        conv.register_structure_hook_factory(_is_wire_class, self._make_structure)
        conv.register_unstructure_hook_factory(_is_wire_class, self._make_unstructure)
        conv.register_unstructure_hook(Unset, lambda _: None)

    # -- primitives -------------------------------------------------------------------------
    @staticmethod
    def _structure_primitive(value: Any, tp: type) -> Any:
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if type(value) is tp or (
            tp is int and isinstance(value, int) and not isinstance(value, bool)
        ):
            return value
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return value
        raise SchemaError(f"expected {tp.__name__}, got {type(value).__name__} {value!r:.60}")

    @staticmethod
    def _structure_datetime(value: Any, _: type) -> _dt.datetime:
        if isinstance(value, _dt.datetime):
            return value
        # A date alone ("2024-05-01") is not a date-time: reading it as midnight would rewrite
        # the stored string on the next write.
        if isinstance(value, str) and len(value) > 10 and value[10] in "Tt ":
            try:
                return parse_datetime(value)
            except ValueError:
                pass
        raise SchemaError(f"expected an ISO-8601 date-time string, got {value!r:.60}")

    # -- unions -----------------------------------------------------------------------------
    @staticmethod
    def _is_union(tp: Any) -> bool:
        return typing.get_origin(tp) in (typing.Union, types.UnionType)

    def _structure_union(self, value: Any, tp: Any) -> Any:
        args = [a for a in typing.get_args(tp) if a is not Unset]
        if value is None:
            if type(None) in args:
                return None
            raise SchemaError(f"expected {' | '.join(map(_type_name, args))}, got null")
        candidates = [a for a in args if a is not type(None)]
        # Exact primitive matches first, so that `int | str` keeps 3 as 3 and "3" as "3".
        for candidate in candidates:
            if candidate in _PRIMITIVES and type(value) is candidate:
                return value
        errors: list[str] = []
        for candidate in candidates:
            try:
                return self.structure(value, candidate)
            except SchemaError as exc:
                errors.append(exc.message)
        raise SchemaError(
            f"expected {' | '.join(map(_type_name, candidates))}, got {value!r:.60}"
            + (f" ({'; '.join(errors)})" if errors else "")
        )

    # -- wire classes -----------------------------------------------------------------------
    def _field_reader(self, tp: Any) -> Callable[[Any], Any]:
        """A function reading one wire value as ``tp``, resolved once per field."""
        if tp in _PRIMITIVES:
            expected = tp
            check = self._structure_primitive

            def read_primitive(value: Any) -> Any:
                if type(value) is expected:
                    return value
                return check(value, expected)

            return read_primitive
        if tp is _dt.datetime:
            read_datetime = self._structure_datetime
            return lambda value: read_datetime(value, tp)
        if tp is Any:
            return lambda value: value
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            allowed = frozenset((type(v), v) for v in typing.get_args(tp))
            names = ", ".join(repr(v) for v in typing.get_args(tp))

            def read_literal(value: Any) -> Any:
                try:
                    if (type(value), value) in allowed:
                        return value
                except TypeError:  # unhashable value: never a literal
                    pass
                raise SchemaError(f"expected one of {names}, got {value!r:.60}")

            return read_literal
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not Unset]
            others = [a for a in args if a is not type(None)]
            if len(others) == 1 and len(args) == 2:  # T | None
                inner = self._field_reader(others[0])
                return lambda value: None if value is None else inner(value)
        structure_value = self.structure
        return lambda value: structure_value(value, tp)

    def _make_structure(self, cls: type[T]) -> Callable[[Any, Any], T]:
        # Module globals only: a field named `list` must not shadow the builtin in annotations.
        hints = typing.get_type_hints(cls, localns={})
        by_wire: dict[str, tuple[str, Callable[[Any], Any]]] = {}
        extra_name: str | None = None
        required: list[tuple[str, str]] = []
        for field in attrs.fields(cls):  # type: ignore[arg-type]
            if not field.init:
                continue
            if field.metadata.get("extra"):
                extra_name = field.alias
                continue
            wire = field.metadata.get("wire", field.name)
            reader = self._field_reader(_without_unset(hints.get(field.name, Any)))
            by_wire[wire] = (field.alias, reader)
            if field.default is attrs.NOTHING:
                required.append((wire, field.alias))
        if "_id" in by_wire and "id" not in by_wire:
            by_wire["id"] = by_wire["_id"]
        # Documents (Record and entity classes) are only validated with "warn" by the service,
        # so stored data may not fit its class: such values are kept raw in `extra` (and written
        # back as they were), a missing required field reads as UNSET, and a warning names them.
        # API models (User, Page, ...) stay strict.
        lenient = extra_name is not None and issubclass(cls, RecordAccess)

        def structure(data: Any, _: Any) -> T:
            if isinstance(data, cls):
                return data
            if not isinstance(data, Mapping):
                raise SchemaError(f"{cls.__name__}: expected an object, got {data!r:.60}")
            kwargs: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            misfits: list[str] = []
            for key, value in data.items():
                target = by_wire.get(key)
                if target is None:
                    extra[key] = value
                    continue
                alias, reader = target
                try:
                    kwargs[alias] = reader(value)
                except SchemaError as exc:
                    if not lenient:
                        raise SchemaError(f"{cls.__name__}.{key}: {exc.message}") from None
                    extra[key] = value
                    misfits.append(f"{key} ({exc.message})")
            missing = [wire for wire, alias in required if alias not in kwargs]
            if missing and not lenient:
                raise SchemaError(f"{cls.__name__}: missing required field(s) {', '.join(missing)}")
            if extra:
                if extra_name is None:
                    raise SchemaError(f"{cls.__name__}: unexpected field(s) {', '.join(extra)}")
                kwargs[extra_name] = extra
            if not (misfits or missing):
                return cls(**kwargs)
            _warn_misfit(cls.__name__, misfits, [w for w in missing if w not in extra])
            return _build_partial(cls, kwargs)

        return structure

    def _make_unstructure(self, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        plan: list[tuple[str, str]] = []
        extra_attr: str | None = None
        for field in attrs.fields(cls):
            if field.metadata.get("extra"):
                extra_attr = field.name
            else:
                plan.append((field.name, field.metadata.get("wire", field.name)))
        unstructure_value = self.unstructure

        def unstructure(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, wire in plan:
                value = getattr(obj, name)
                if value is not UNSET:
                    out[wire] = unstructure_value(value)
            if extra_attr is not None:
                for key, value in getattr(obj, extra_attr).items():
                    out.setdefault(key, unstructure_value(value))
            return out

        return unstructure

    # -- public -----------------------------------------------------------------------------
    def structure(self, data: Any, cls: Any) -> Any:
        try:
            return self._cattrs.structure(data, cls)
        except SchemaError:
            raise
        except (CattrsError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise SchemaError(f"cannot read {data!r:.60} as {_type_name(cls)}: {exc}") from None

    def unstructure(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (str, int, float, bool)):
            return obj
        if isinstance(obj, Mapping):
            return {str(k): self.unstructure(v) for k, v in obj.items() if v is not UNSET}
        if isinstance(obj, (list, tuple)):
            return [self.unstructure(v) for v in obj]
        if isinstance(obj, enum.Enum) and not isinstance(obj, Unset):
            return self.unstructure(obj.value)
        return self._cattrs.unstructure(obj)


def _warn_misfit(name: str, misfits: list[str], missing: list[str]) -> None:
    parts = []
    if misfits:
        parts.append("kept raw in .extra: " + "; ".join(misfits))
    if missing:
        parts.append("missing required (read as UNSET): " + ", ".join(missing))
    logger.warning("lumi: a stored %s does not fit its class: %s", name, " / ".join(parts))


def _build_partial(cls: type[T], kwargs: dict[str, Any]) -> T:
    """An instance whose missing fields are UNSET (or their default), bypassing required args."""
    obj = object.__new__(cls)
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        if field.alias in kwargs:
            value = kwargs[field.alias]
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            value = field.default.factory()
        elif field.default is attrs.NOTHING:
            value = UNSET
        else:
            value = field.default
        object.__setattr__(obj, field.name, value)
    return obj


_CONVERTER = _Converter()


def structure(data: Any, cls: type[T]) -> T:
    """Read wire JSON (dicts, lists, scalars) as ``cls``; raises SchemaError naming the field."""
    result: T = _CONVERTER.structure(data, cls)
    return result


def unstructure(obj: Any) -> Any:
    """Turn typed objects (and containers of them) into wire JSON, with wire names."""
    return _CONVERTER.unstructure(obj)
