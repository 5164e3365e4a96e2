"""Read access by wire key for generated record classes.

Generated record classes (``lumi._generated.models.Record`` and the entity classes written by
``lumi codegen``) inherit :class:`RecordAccess`, so a record reads like the JavaScript object it
comes from: ``rec["_id"]``, ``rec.get("createdAt")``, ``"title" in rec``, ``rec.title``. Typed
fields are found by their wire name (``metadata={"wire": ...}``); every other key is looked up in
the record's ``extra`` dict; iterating a record gives its wire keys. A typed field that is
``UNSET`` counts as absent, as a key missing from the JSON would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lumi._unset import UNSET
from lumi._wire import wire_class
from lumi.errors import SchemaError

_MISSING: Any = object()


class RecordAccess:
    """Mixin: mapping-style and attribute access to a record by the keys it has on the wire."""

    __slots__ = ()

    def _extra(self) -> dict[str, Any]:
        try:
            name = wire_class(type(self)).extra
        except SchemaError:  # not an attrs class: no extra keys
            return {}
        if name is None:  # a class without additional properties
            return {}
        try:
            extra = object.__getattribute__(self, name)
        except AttributeError:  # not initialised yet
            return {}
        return extra if isinstance(extra, dict) else {}

    def _lookup(self, key: str) -> Any:
        # `id` finds the `_id` field: the JS README spells the record id `id`.
        field = wire_class(type(self)).field_for_key(key)
        if field is not None:
            value = getattr(self, field.name)
            if value is not UNSET:
                return value
        # Not a typed field, or one left UNSET because the stored value did not fit its type
        # (the converter keeps such values raw in `extra`).
        return self._extra().get(key, _MISSING)

    def __getitem__(self, key: str) -> Any:
        value = self._lookup(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of wire key ``key``, or ``default`` when the record does not have it."""
        value = self._lookup(key)
        return default if value is _MISSING else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not _MISSING

    def keys(self) -> list[str]:
        """The wire keys the record has: typed fields that are set, then the extra keys."""
        present = [
            field.wire
            for field in wire_class(type(self)).fields
            if getattr(self, field.name) is not UNSET
        ]
        present.extend(key for key in self._extra() if key not in present)
        return present

    def __iter__(self) -> Iterator[str]:
        """The wire keys, as iterating a dict gives its keys."""
        return iter(self.keys())

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal attribute lookup failed: fall back to the untyped keys.
        if name.startswith("__") or name == "extra":
            raise AttributeError(name)
        extra = self._extra()
        if name in extra:
            return extra[name]
        known = ", ".join(sorted(extra)[:10]) or "none"
        raise AttributeError(
            f"{type(self).__name__} has no field or extra key {name!r} (extra keys: {known})"
        )
