"""The wire metadata of attrs classes, computed once per class and cached.

Generated classes carry each field's wire name in ``metadata={"wire": "userId"}`` and keep the
keys their schema does not declare in a field marked ``metadata={"extra": True}``. Everything
that maps Python names to wire names reads it from here: the converter (:mod:`lumi.serde`),
records read by wire key (:mod:`lumi._record`) and typed queries (:mod:`lumi.data.fields`).
"""

from __future__ import annotations

import threading
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from ._unset import Unset
from .errors import SchemaError

#: A record's ``_id`` is also accepted as ``id`` (the JavaScript README spells it that way).
ID_WIRE = "_id"
ID_ALIAS = "id"


@attrs.frozen
class WireField:
    """One typed attribute of a class: its Python and wire names and its type."""

    name: str
    """The Python attribute name."""
    wire: str
    """The key on the wire (``metadata["wire"]``, else the attribute name)."""
    type: Any
    """The annotation without ``Unset`` (``Any`` when untyped)."""
    alias: str = attrs.field(eq=False)
    """The ``__init__`` keyword of the attribute."""
    required: bool = attrs.field(eq=False)
    """Whether the class has no default for it (absent on the wire: the JSON lacks the key)."""
    default: Any = attrs.field(eq=False, repr=False)
    """The attrs default (``attrs.NOTHING`` when required; an ``attrs.Factory`` or a value)."""
    init: bool = attrs.field(eq=False, repr=False)
    """Whether ``__init__`` takes it (attributes with ``init=False`` are never read)."""


@attrs.frozen
class WireClass:
    """The wire metadata of one attrs class."""

    cls: type
    fields: tuple[WireField, ...]
    """The typed attributes in class order (the ``extra`` field excluded)."""
    by_name: Mapping[str, WireField]
    by_wire: Mapping[str, WireField]
    extra: str | None
    """The attribute keeping undeclared wire keys (None: the class allows none)."""
    extra_alias: str | None
    """Its ``__init__`` keyword."""

    def field_for_key(self, key: str) -> WireField | None:
        """The field read from wire key ``key`` (``id`` stands for ``_id`` unless declared)."""
        found = self.by_wire.get(key)
        if found is None and key == ID_ALIAS:
            found = self.by_wire.get(ID_WIRE)
        return found

    @property
    def id_alias(self) -> bool:
        """Whether ``id`` on the wire is read as the ``_id`` field."""
        return ID_WIRE in self.by_wire and ID_ALIAS not in self.by_wire


def strip_unset(tp: Any) -> Any:
    """``T | Unset`` -> ``T`` (UNSET is never on the wire, so it is never read or written)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(tp) if a is not Unset)
        if len(args) == 1:
            return args[0]
        return typing.Union[args]  # noqa: UP007 - building a Union at run time
    return tp


def is_wire_class(cls: Any) -> bool:
    """Whether ``cls`` is an attrs class following the wire contract (wire names or extra)."""
    return (
        isinstance(cls, type)
        and attrs.has(cls)
        and any("wire" in f.metadata or "extra" in f.metadata for f in attrs.fields(cls))
    )


_CACHE: dict[type, WireClass] = {}
_LOCK = threading.Lock()


def wire_class(cls: type) -> WireClass:
    """The wire metadata of the attrs class ``cls`` (computed on first use, then cached)."""
    found = _CACHE.get(cls)
    if found is None:
        with _LOCK:
            found = _CACHE.get(cls)
            if found is None:
                found = _CACHE[cls] = _read(cls)
    return found


def _read(cls: type) -> WireClass:
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise SchemaError(f"{cls!r} is not an attrs class")
    try:
        # Module globals only: a field named `list` must not shadow the builtin in annotations.
        hints = typing.get_type_hints(cls, localns={})
    except Exception as exc:  # NameError, TypeError: an annotation that does not resolve
        raise SchemaError(
            f"{cls.__name__}: its annotations do not resolve ({type(exc).__name__}: {exc}); "
            "is the module that defines it importable?"
        ) from None
    fields: list[WireField] = []
    extra: attrs.Attribute[Any] | None = None
    for field in attrs.fields(cls):
        if field.metadata.get("extra"):
            extra = field
            continue
        wire = field.metadata.get("wire", field.name)
        fields.append(
            WireField(
                name=field.name,
                wire=wire if isinstance(wire, str) else field.name,
                type=strip_unset(hints.get(field.name, Any)),
                alias=field.alias or field.name,
                required=field.default is attrs.NOTHING,
                default=field.default,
                init=field.init,
            )
        )
    return WireClass(
        cls=cls,
        fields=tuple(fields),
        by_name=types.MappingProxyType({f.name: f for f in fields}),
        by_wire=types.MappingProxyType({f.wire: f for f in fields}),
        extra=extra.name if extra is not None else None,
        extra_alias=(extra.alias or extra.name) if extra is not None else None,
    )
