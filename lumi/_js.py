"""JavaScript's view of values, written once: ``Date.prototype.toISOString`` and JSON type names.

Every module that writes a timestamp the way the JavaScript client does, or names the JSON type
of a value in an error message, uses these.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

_UTC = _dt.timezone.utc


def iso_string(moment: _dt.datetime) -> str:
    """``moment`` as JavaScript's ``toISOString()`` writes it: UTC, milliseconds, ``Z``.

    A naive datetime is taken as UTC here; callers that must refuse naive values check first.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(_UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def iso_now(now: float | None = None) -> str:
    """The current time (or Unix seconds ``now``) in ``toISOString()`` form."""
    if now is None:
        return iso_string(_dt.datetime.now(_UTC))
    return iso_string(_dt.datetime.fromtimestamp(now, tz=_UTC))


_JSON_TYPES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    tuple: "array",
    dict: "object",
}
_ARTICLES = {"null": "null", "array": "an array", "object": "an object", "integer": "an integer"}


def json_type(value: Any) -> str:
    """The JSON Schema type name of ``value`` (``integer`` for ints, ``number`` for floats);
    the Python type name for anything JSON has no type for."""
    name = _JSON_TYPES.get(type(value))
    if name is not None:
        return name
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def a_json_type(value: Any) -> str:
    """:func:`json_type` with its article, for messages: ``an array``, ``a string``, ``null``."""
    name = json_type(value)
    return _ARTICLES.get(name) or f"a {name}"
