"""The one converter between wire JSON and typed objects.

Generated classes carry each field's wire name in ``metadata["wire"]`` and keep unknown wire keys
in a field marked ``metadata["extra"]`` (read once per class by :mod:`lumi._wire`). Each such
class gets a structure and an unstructure function compiled on first use (:mod:`lumi._classgen`):

* unknown keys a newer server adds land in ``extra`` and are written back on unstructure;
* a record's ``_id`` is ``id`` in Python; ``_id`` and ``id`` are both accepted on input;
* ``UNSET`` fields are left out of the JSON (JavaScript drops ``undefined``); ``None`` stays ``null``;
* datetimes are read as aware UTC datetimes and written in JavaScript's ``toISOString()`` form
  (``2026-03-01T10:00:00.000Z``); a naive datetime is refused when written (it names no instant);
* primitives are checked, never coerced (``None`` does not become ``"None"``).

A value that does not fit its class raises :class:`lumi.errors.SchemaError` naming the field,
except in stored documents (records and entity classes), which are read leniently: see
:func:`structure`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._classgen import JSON_SCALARS, Compiler
from ._js import iso_string
from ._record import RecordAccess
from ._unset import UNSET, Unset
from ._wire import is_wire_class
from .errors import SchemaError, ValidationError

T = TypeVar("T")
Reader = Callable[[Any], Any]

_PRIMITIVES: tuple[type, ...] = (str, int, float, bool)
_UTC = _dt.timezone.utc
_NONE = type(None)


# -- datetimes -----------------------------------------------------------------------------------
def format_datetime(value: _dt.datetime, field: str = "") -> str:
    """A datetime in JavaScript's ``toISOString()`` form: UTC, milliseconds, ``Z``.

    A naive datetime raises :class:`lumi.ValidationError` (naming ``field``)."""
    return iso_string(value, field)


if sys.version_info >= (3, 11):
    _from_iso = _dt.datetime.fromisoformat  # reads "Z" and fractions of any length
else:  # pragma: no cover - exercised by `make test-py310`

    def _from_iso(text: str) -> _dt.datetime:
        if text[-1:] == "Z":
            text = text[:-1] + "+00:00"
        return _dt.datetime.fromisoformat(text)


def _normalised(text: str) -> str:
    """What every supported Python's ``fromisoformat`` reads: no surrounding blanks, ``z`` or
    ``Z`` as ``+00:00``, the fraction of a second in 6 digits (cut, as Python 3.11 does)."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if dot and digits:
        text = f"{head}.{(rest[:digits] + '00000')[:6]}{rest[digits:]}"
    return text


def _as_utc(parsed: _dt.datetime) -> _dt.datetime:
    tz = parsed.tzinfo
    if tz is _UTC:
        return parsed
    if tz is None:  # no offset on the wire: UTC, as the server writes and compares them
        return parsed.replace(tzinfo=_UTC)
    try:
        return parsed.astimezone(_UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{parsed.isoformat()} is out of range in UTC") from None


def parse_datetime(value: str) -> _dt.datetime:
    """An ISO-8601 string (``Z`` or an offset, any fraction; no offset means UTC) as an aware
    UTC datetime. Raises ValueError when it is not one."""
    try:
        parsed = _from_iso(value)
    except ValueError:
        parsed = _dt.datetime.fromisoformat(_normalised(value))
    return _as_utc(parsed)


def _is_date_only(text: str) -> bool:
    # Every ISO-8601 date alone ("2024-05-01", "20240501", "2024-W18-3") has at most 10
    # characters; a date with a time ("20240501T10") has more.
    return len(text.strip()) <= 10


def read_datetime(value: Any) -> _dt.datetime:
    """A wire value read as a datetime field: an ISO-8601 date-time string (or an aware
    datetime) as an aware UTC datetime; SchemaError otherwise.

    A date alone ("2024-05-01") is not a date-time: reading it as midnight would rewrite the
    stored string on the next write."""
    if isinstance(value, str):
        if not _is_date_only(value):
            try:
                return parse_datetime(value)
            except ValueError:
                pass
    elif isinstance(value, _dt.datetime):
        if value.utcoffset() is not None:
            return value
        raise SchemaError(f"expected an aware datetime, got the naive {value.isoformat()}")
    raise SchemaError(f"expected an ISO-8601 date-time string, got {value!r:.60}")


# -- readers: one function per type, checking (never coercing) a wire value -----------------------
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _primitive_reader(tp: type) -> Reader:
    def read(value: Any) -> Any:
        if value.__class__ is tp:
            return value
        if isinstance(value, bool):
            if tp is bool:
                return value
        elif tp is float and isinstance(value, int):
            try:
                number = float(value)
            except OverflowError:
                number = None
            if number is not None and number == value:
                return number
            # Written back as a float, it would not be the integer that was read.
            raise SchemaError(f"expected float, got an int a float cannot hold: {value!r:.60}")
        elif isinstance(value, tp):
            return value
        raise SchemaError(f"expected {tp.__name__}, got {type(value).__name__} {value!r:.60}")

    return read


def _literal_reader(tp: Any) -> Reader:
    allowed = frozenset((type(v), v) for v in typing.get_args(tp))
    names = ", ".join(repr(v) for v in typing.get_args(tp))

    def read(value: Any) -> Any:
        try:
            if (type(value), value) in allowed:
                return value
        except TypeError:  # unhashable value: never a literal
            pass
        raise SchemaError(f"expected one of {names}, got {value!r:.60}")

    return read


def _union_reader(tp: Any) -> Reader:
    args = [a for a in typing.get_args(tp) if a is not Unset]
    nullable = _NONE in args
    candidates = [a for a in args if a is not _NONE]
    readers = [reader_for(a) for a in candidates]
    exact = frozenset(a for a in candidates if a in _PRIMITIVES)
    names = " | ".join(map(_type_name, candidates))

    def read(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise SchemaError(f"expected {' | '.join(map(_type_name, args))}, got null")
        # Exact primitive matches first, so that `int | str` keeps 3 as 3 and "3" as "3".
        if value.__class__ in exact:
            return value
        errors: list[str] = []
        for reader in readers:
            try:
                return reader(value)
            except SchemaError as exc:
                errors.append(exc.message)
        raise SchemaError(
            f"expected {names}, got {value!r:.60}" + (f" ({'; '.join(errors)})" if errors else "")
        )

    return read


def _list_reader(item_type: Any) -> Reader:
    item = reader_for(item_type)
    name = _type_name(item_type)

    def read(value: Any) -> list[Any]:
        if value.__class__ is list:
            try:
                return [item(element) for element in value]
            except SchemaError:
                pass  # again below, to name the element
        elif not isinstance(value, (list, tuple)):
            raise SchemaError(f"expected a list of {name}, got {value!r:.60}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except SchemaError as exc:
                raise SchemaError(f"[{index}]: {exc.message}") from None
        return out

    return read


def _dict_reader(value_type: Any) -> Reader:
    item = reader_for(value_type)

    def read(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise SchemaError(f"expected an object, got {value!r:.60}")
        out = {}
        for key, element in value.items():
            if not isinstance(key, str):
                raise SchemaError(f"expected string keys, got {key!r:.60}")
            try:
                out[key] = item(element)
            except SchemaError as exc:
                raise SchemaError(f"{key}: {exc.message}") from None
        return out

    return read


def _cattrs_reader(tp: Any) -> Reader:
    """Types this module has no reader for (tuples, sets, enums, plain attrs classes): cattrs,
    whose hooks come back here for the types inside them."""

    def read(value: Any) -> Any:
        try:
            return _cattrs().structure(value, tp)
        except SchemaError:
            raise
        except Exception as exc:  # cattrs' own errors, and whatever a hook of its raised
            raise SchemaError(f"cannot read {value!r:.60} as {_type_name(tp)}: {exc}") from None

    return read


def _identity(value: Any) -> Any:
    return value


def _own_reader(tp: Any) -> Callable[[Any], Reader] | None:
    """The factory of this module's reader for ``tp``; None when cattrs reads it."""
    if tp in _PRIMITIVES:
        return _primitive_reader
    if tp is _dt.datetime:
        return lambda _: read_datetime
    if tp is Any or tp is object:
        return lambda _: _identity
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return _literal_reader
    if origin in (typing.Union, types.UnionType):
        return _union_reader
    if origin is list or tp is list:
        return lambda _: _list_reader(args[0] if args else Any)
    if (origin in (dict, Mapping) and args[:1] in ((str,), (Any,))) or tp in (dict, Mapping):
        return lambda _: _dict_reader(args[1] if args else Any)
    if is_wire_class(tp):
        return _COMPILER.structurer
    return None


def _make_reader(tp: Any) -> Reader:
    factory = _own_reader(tp)
    return factory(tp) if factory is not None else _cattrs_reader(tp)


_READERS: dict[Any, Reader] = {}


def reader_for(tp: Any) -> Reader:
    """The function reading a wire value as ``tp`` (built once per type); it raises
    SchemaError naming what does not fit."""
    try:
        return _READERS[tp]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation
        return _make_reader(tp)
    if _COMPILER.building(tp):  # a class that contains itself: found when first called
        return lambda value: _COMPILER.structurer(tp)(value)
    found = _READERS[tp] = _make_reader(tp)
    return found


# -- writing -------------------------------------------------------------------------------------
def _unstructure(obj: Any) -> Any:
    """``obj`` as wire JSON (no error conversion: the generated functions call this)."""
    cls = obj.__class__
    if cls in JSON_SCALARS:
        return obj
    write = _COMPILER.unstructurers.get(cls)
    if write is not None:
        return write(obj)
    if isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if value is not UNSET:
                try:
                    out[str(key)] = _unstructure(value)
                except ValidationError as exc:
                    raise type(exc)(f"{key}: {exc.message}", exc.code) from None
        return out
    if isinstance(obj, (list, tuple)):
        if obj:  # a list of records: call their class's function directly
            first = obj[0].__class__
            write = _COMPILER.unstructurers.get(first)
            if write is not None:
                return [write(v) if v.__class__ is first else _unstructure(v) for v in obj]
        return [_unstructure(value) for value in obj]
    if isinstance(obj, Unset):
        return None
    if isinstance(obj, enum.Enum):
        return _unstructure(obj.value)
    if isinstance(obj, _dt.datetime):
        return iso_string(obj)
    if is_wire_class(cls):
        return _COMPILER.unstructurer(cls)(obj)
    try:
        return _cattrs().unstructure(obj)
    except ValidationError:
        raise
    except Exception as exc:  # cattrs' own errors, and whatever a hook of its raised
        raise SchemaError(f"cannot write {cls.__name__} as JSON: {exc}") from None


def _lenient(cls: type) -> bool:
    # Documents (Record and entity classes) are only validated with "warn" by the service;
    # API models (User, Page, ...) stay strict.
    return issubclass(cls, RecordAccess)


def new_compiler() -> Compiler:
    """A compiler of per-class functions using this module's readers and writers (the
    module's own is ``_COMPILER``; the benchmarks make fresh ones to time compiling)."""
    return Compiler(
        reader_for=reader_for,
        unstructure=_unstructure,
        iso_string=iso_string,
        from_iso=_from_iso,
        lenient=_lenient,
    )


_COMPILER = new_compiler()


def _handled_here(tp: Any) -> bool:
    try:
        return _own_reader(tp) is not None
    except TypeError:
        return False


_CATTRS: list[Any] = []


def _cattrs() -> Any:
    """The cattrs converter, made on first use: most programs never need it, and importing
    cattrs would add a fifth to the time ``import lumi`` takes."""
    if not _CATTRS:
        import cattrs

        converter = cattrs.Converter()
        # cattrs reads what this module has no reader for; the types inside come back here.
        converter.register_structure_hook_func(
            _handled_here, lambda value, tp: reader_for(tp)(value)
        )
        converter.register_unstructure_hook_func(
            lambda cls: is_wire_class(cls) or cls is _dt.datetime or cls is Unset, _unstructure
        )
        _CATTRS.append(converter)
    return _CATTRS[0]


# -- public --------------------------------------------------------------------------------------
def structure(data: Any, cls: type[T]) -> T:
    """Read wire JSON (dicts, lists, scalars) as ``cls``; raises SchemaError naming the field.

    Stored documents (``lumi.Record`` and the entity classes ``lumi codegen`` writes) are read
    leniently, since the service only warns about documents that do not fit their schema: a
    value that does not fit its field is kept raw in ``extra`` (and written back unchanged), the
    field reads as ``UNSET``, a missing required field reads as ``UNSET``, and a warning on the
    ``lumi`` logger names them."""
    try:
        read = _READERS[cls]
    except (KeyError, TypeError):
        read = reader_for(cls)
    try:
        result: T = read(data)
    except SchemaError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise SchemaError(f"cannot read {data!r:.60} as {_type_name(cls)}: {exc}") from None
    return result


def unstructure(obj: Any) -> Any:
    """Turn typed objects (and containers of them) into wire JSON, with wire names.

    A naive datetime raises :class:`lumi.ValidationError` naming the field."""
    try:
        return _unstructure(obj)
    except ValidationError:
        raise
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise SchemaError(f"cannot write {type(obj).__name__} as JSON: {exc}") from None


__all__ = [
    "format_datetime",
    "parse_datetime",
    "read_datetime",
    "reader_for",
    "structure",
    "unstructure",
]
