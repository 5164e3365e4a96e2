"""Lumi updates on JSON documents: a field merge, or MongoDB's ``$set``/``$unset``/``$inc``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from lumi._bson import MISSING
from lumi._js import a_json_type
from lumi.emulator.bounds import check_json
from lumi.emulator.limits import MAX_INT, MIN_INT
from lumi.emulator.matcher import Document, QueryError, is_number, split_path

__all__ = ["apply_update"]

_UPDATE_OPERATORS: Final = ("$set", "$unset", "$inc")


def apply_update(document: Document, update: Mapping[str, Any], now: str) -> Document:
    """The document after a Lumi update (a field merge) or a ``$set``/``$unset``/``$inc`` one.

    Dotted keys set nested fields, creating intermediate objects. ``_id`` may be sent back
    unchanged (a different ``_id`` is an error); ``creator`` is ignored; ``updatedAt`` becomes
    ``now`` unless this update sets it to a new value itself (apps often send ``updatedAt: now``).
    """
    if not isinstance(update, Mapping):
        raise QueryError(f"the update must be an object, not {type(update).__name__}")
    check_json(update, "the update")
    steps = _update_steps(update)
    _check_conflicts([path for _, path, _ in steps])
    result: Document = _deep_copy(document)
    explicit_updated_at = False
    for operation, path, value in steps:
        parts = split_path(path)
        if parts[0] == "_id":
            if operation == "$set" and len(parts) == 1 and _same_id(value, result.get("_id")):
                continue
            raise QueryError("_id cannot be changed by an update")
        if parts[0] == "creator":
            continue  # the owner is set at creation; apps send it back with whole documents
        if parts[0] == "updatedAt":
            # An unchanged updatedAt is a document sent back whole, not a chosen timestamp.
            echoed = operation == "$set" and len(parts) == 1 and value == document.get(path)
            explicit_updated_at = explicit_updated_at or not echoed
        if operation == "$set":
            _set_path(result, parts, _deep_copy(value))
        elif operation == "$unset":
            _unset_path(result, parts)
        else:
            _increment_path(result, parts, value)
    if not explicit_updated_at:
        result["updatedAt"] = now
    return result


def _update_steps(update: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    keys = list(update)
    for key in keys:
        if not isinstance(key, str):
            raise QueryError(f"update keys must be strings, not {key!r}")
    operator_keys = [key for key in keys if key.startswith("$")]
    if not operator_keys:
        return [("$set", key, value) for key, value in update.items()]
    if len(operator_keys) != len(keys):
        raise QueryError("an update cannot mix operators ($set...) and plain fields")
    steps: list[tuple[str, str, Any]] = []
    for name, fields in update.items():
        if name not in _UPDATE_OPERATORS:
            raise QueryError(f"unknown update operator {name} (supported: $set, $unset, $inc)")
        if not isinstance(fields, Mapping):
            raise QueryError(f"{name} needs an object of fields")
        for path, value in fields.items():
            if not isinstance(path, str) or path.startswith("$"):
                raise QueryError(f"invalid field name {path!r} in {name}")
            if name == "$inc" and not is_number(value):
                raise QueryError(f"$inc on field {path!r} needs a number, not {value!r}")
            steps.append((name, path, value))
    return steps


def _check_conflicts(paths: list[str]) -> None:
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            raise QueryError(f"the update names field {path!r} twice")
        seen.add(path)
    for path in paths:
        parts = split_path(path)
        for end in range(1, len(parts)):
            prefix = ".".join(parts[:end])
            if prefix in seen:
                raise QueryError(f"update paths {prefix!r} and {path!r} conflict")


def _same_id(value: Any, current: Any) -> bool:
    return isinstance(value, str) and isinstance(current, str) and value.lower() == current


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _container_for(root: Document, parts: tuple[str, ...], create: bool) -> Any:
    """The object or array holding the last segment of ``parts`` (None if absent and not create)."""
    current: Any = root
    for depth, key in enumerate(parts[:-1]):
        if isinstance(current, dict):
            if key not in current:
                if not create:
                    return None
                current[key] = {}
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and key.isascii():
            index = int(key)
            if index >= len(current):
                if not create:
                    return None
                current.extend([None] * (index + 1 - len(current)))
                current[index] = {}
            elif current[index] is None and create:
                current[index] = {}
            current = current[index]
        else:
            if not create:
                return None
            where = ".".join(parts[:depth]) or "the document"
            raise QueryError(
                f"cannot create field {'.'.join(parts)!r}: {where!r} is a "
                f"{a_json_type(current)}, not an object"
            )
    if not isinstance(current, (dict, list)):
        if not create:
            return None
        raise QueryError(
            f"cannot create field {'.'.join(parts)!r}: "
            f"{'.'.join(parts[:-1])!r} is {a_json_type(current)}, not an object"
        )
    return current


def _set_path(root: Document, parts: tuple[str, ...], value: Any) -> None:
    container = _container_for(root, parts, create=True)
    last = parts[-1]
    if isinstance(container, dict):
        container[last] = value
        return
    if not (last.isdigit() and last.isascii()):
        raise QueryError(f"cannot set field {'.'.join(parts)!r}: the parent is an array")
    index = int(last)
    if index >= len(container):
        container.extend([None] * (index + 1 - len(container)))
    container[index] = value


def _get_path(root: Document, parts: tuple[str, ...]) -> Any:
    container = _container_for(root, parts, create=False)
    last = parts[-1]
    if isinstance(container, dict):
        return container.get(last, MISSING)
    if isinstance(container, list) and last.isdigit() and last.isascii():
        index = int(last)
        return container[index] if index < len(container) else MISSING
    return MISSING


def _unset_path(root: Document, parts: tuple[str, ...]) -> None:
    container = _container_for(root, parts, create=False)
    last = parts[-1]
    if isinstance(container, dict):
        container.pop(last, None)
    elif isinstance(container, list) and last.isdigit() and last.isascii():
        index = int(last)
        if index < len(container):
            container[index] = None  # MongoDB keeps array positions: the element becomes null


def _increment_path(root: Document, parts: tuple[str, ...], amount: Any) -> None:
    current = _get_path(root, parts)
    if current is MISSING:
        _set_path(root, parts, amount)
        return
    if not is_number(current):
        raise QueryError(
            f"$inc on field {'.'.join(parts)!r}: the current value is {a_json_type(current)}"
        )
    total = current + amount
    if isinstance(total, float) and not math.isfinite(total):
        raise QueryError(f"$inc on field {'.'.join(parts)!r} overflows")
    if isinstance(total, int) and not MIN_INT <= total <= MAX_INT:
        raise QueryError(
            f"$inc on field {'.'.join(parts)!r} overflows the 64-bit integers MongoDB stores"
        )
    _set_path(root, parts, total)
