"""JSON text byte-for-byte as JavaScript's ``JSON.stringify`` writes it.

The body is signed (docs/protocol.md §2), so the bytes matter: no spaces, non-ASCII left as
UTF-8, lone surrogates escaped, numbers in JavaScript's ``Number#toString`` form (``1.0`` -> ``1``,
``1e-05`` -> ``0.00001``, ``1e21`` -> ``1e+21``; NaN and Infinity -> ``null``), and object keys in
JavaScript's property order (integer-like keys such as ``"7"`` first, ascending, then the others
in insertion order). Python's ``json`` differs only in those three points, so the fast C encoder
does the work and the pure-Python path with a JavaScript float formatter is taken only when a
float needs it.
"""

from __future__ import annotations

import gc
import json
import math
import re
from typing import Any

from .errors import ValidationError

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def js_number(value: float) -> str:
    """ECMAScript ``Number::toString`` for a finite float (non-finite floats are ``null``)."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, the same digits JavaScript chooses.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    digits_part, _, fraction = mantissa.partition(".")
    digits = (digits_part + fraction).lstrip("0")
    # n: position of the decimal point relative to the start of `digits` (ECMAScript's n).
    n = (
        len(digits_part.lstrip("0"))
        if digits_part.strip("0")
        else -(len(fraction) - len(fraction.lstrip("0")))
    )
    n += int(exponent or 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        exp_text = f"+{exp}" if exp >= 0 else str(exp)
        text = (digits if k == 1 else f"{digits[0]}.{digits[1:]}") + "e" + exp_text
    return sign + text


_MAX_ARRAY_INDEX = 2**32 - 2


def _is_array_index(key: str) -> bool:
    """An ECMAScript array index: JavaScript enumerates such keys first, in numeric order."""
    return (
        key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) <= _MAX_ARRAY_INDEX
    )


def _scan(obj: Any) -> tuple[bool, bool]:
    """(a float occurs, an object has an integer-like key): what the fast path cannot do."""
    if isinstance(obj, float):
        return True, False
    if isinstance(obj, dict):
        has_float = False
        has_index = any(isinstance(k, str) and _is_array_index(k) for k in obj)
        for value in obj.values():
            f, i = _scan(value)
            has_float, has_index = has_float or f, has_index or i
        return has_float, has_index
    if isinstance(obj, (list, tuple)):
        has_float = has_index = False
        for value in obj:
            f, i = _scan(value)
            has_float, has_index = has_float or f, has_index or i
        return has_float, has_index
    return False, False


def _js_ordered(obj: Any) -> Any:
    """``obj`` with every object's keys in JavaScript's property order."""
    if isinstance(obj, dict):
        indexed = sorted((int(k), k) for k in obj if isinstance(k, str) and _is_array_index(k))
        ordered = {k: _js_ordered(obj[k]) for _, k in indexed}
        ordered.update((k, _js_ordered(v)) for k, v in obj.items() if k not in ordered)
        return ordered
    if isinstance(obj, (list, tuple)):
        return [_js_ordered(v) for v in obj]
    return obj


class _JSEncoder(json.JSONEncoder):
    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        make = json.encoder._make_iterencode  # type: ignore[attr-defined]
        return make(
            {},
            self.default,
            json.encoder.py_encode_basestring,
            None,
            lambda f: js_number(f),
            ":",
            ",",
            False,
            False,
            True,
        )(o, 0)


def dumps(obj: Any) -> str:
    """``JSON.stringify(obj)`` for JSON-ready Python values (dicts, lists, str, numbers, bool, None)."""
    has_float, has_index = _scan(obj)
    if has_index:
        obj = _js_ordered(obj)
    try:
        if has_float:
            text = "".join(_JSEncoder().iterencode(obj))
        else:
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"cannot send this value as JSON ({exc}); give JSON types (dict, list, str, number, "
            "bool, None), datetimes or typed lumi objects"
        ) from None
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def dumps_bytes(obj: Any) -> bytes:
    """:func:`dumps` as the UTF-8 bytes that go on the wire."""
    return dumps(obj).encode("utf-8")


def loads_reply(text: bytes | str) -> Any:
    """Parse JSON a server sent, with the cyclic garbage collector paused meanwhile.

    A hostile reply nested thousands deep makes the C parser recurse up to the interpreter's
    limit before it gives up (RecursionError, which callers turn into InvalidResponseError). A
    collection starting down there would run other objects' finalizers (a stream's close, a
    generator's ``finally``) with almost no stack left: they fail as "unraisable" errors far
    from this call. Pausing costs well under a microsecond.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        # An object in UTF-8 (what servers send; no NUL after "{" as UTF-16/32 would have) is
        # decoded here, which skips json's own encoding detection, a sixth of a small reply.
        if isinstance(text, bytes) and text[:1] == b"{" and text[1:2] != b"\x00":
            return json.loads(text.decode("utf-8", "surrogatepass"))
        return json.loads(text)
    finally:
        if paused:
            gc.enable()
