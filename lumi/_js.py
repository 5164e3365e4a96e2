"""JavaScript's view of values, written once: ``Date.prototype.toISOString`` and JSON type names.

Every module that writes a timestamp the way the JavaScript client does, or names the JSON type
of a value in an error message, uses these.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .errors import ValidationError

_UTC = _dt.timezone.utc
_TWO = [f"{n:02d}" for n in range(100)]
_THREE = [f"{n:03d}" for n in range(1000)]


def iso_string(moment: _dt.datetime, field: str = "") -> str:
    """``moment`` as JavaScript's ``toISOString()`` writes it: UTC, milliseconds, ``Z``.

    A naive datetime (no ``tzinfo``) is refused with a :class:`ValidationError` naming ``field``:
    it could be local time or UTC, and guessing would store a wrong instant without a trace.
    """
    if moment.tzinfo is not _UTC:
        offset = moment.utcoffset()
        if offset is None:
            raise ValidationError(
                f"{field + ': ' if field else ''}naive datetime {moment.isoformat()} "
                "(no timezone): give it one, e.g. datetime.now(timezone.utc) or "
                ".replace(tzinfo=timezone.utc)"
            )
        if offset:
            try:
                moment = moment.astimezone(_UTC)
            except OverflowError:  # 0001-01-01T00:30+01:00 is before year 1 in UTC
                raise ValidationError(
                    f"{field + ': ' if field else ''}datetime {moment.isoformat()} "
                    "is out of range in UTC"
                ) from None
    # Table look-ups joined by one f-string: about 2.5 times as fast as %-formatting, and
    # every datetime written goes through here.
    year = moment.year
    return (
        f"{year if year >= 1000 else f'{year:04d}'}-{_TWO[moment.month]}-{_TWO[moment.day]}"
        f"T{_TWO[moment.hour]}:{_TWO[moment.minute]}:{_TWO[moment.second]}"
        f".{_THREE[moment.microsecond // 1000]}Z"
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
