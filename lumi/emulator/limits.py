"""The emulator's bounds at the HTTP layer, in one table (the README's "Limits" lists them).

Each check refuses with code 10400 (10413 for a body) and a message naming the bound, so that a
caller learns which limit it hit. Bounds inside queries (nesting, ``$in`` size, regexes, integers
in filters) belong to the query engine.
"""

from __future__ import annotations

import re

from lumi._js import a_json_type
from lumi.emulator.envelope import bad_request

#: Largest JSON body accepted on any route but uploads.
MAX_JSON_BODY = 16 * 1024 * 1024
#: An upload body may hold this many times the per-file limit (several files in one batch).
UPLOAD_BODY_FILES = 8
#: ``limit`` and ``skip`` are MongoDB's 64-bit integers: 0 to 2**63 - 1.
MAX_COUNT = 2**63 - 1
#: Path and body names, in UTF-8 bytes (MongoDB's namespace is 255 bytes in all).
MAX_PROJECT_ID_BYTES = 128
MAX_ENTITY_NAME_BYTES = 120
MAX_DOCUMENT_ID_BYTES = 256
MAX_FUNCTION_NAME_BYTES = 128
#: An uploaded file's name as sent (characters) and as stored (bytes: one path component).
MAX_FILE_NAME_CHARS = 255
MAX_STORED_NAME_BYTES = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def count(body: dict[str, object], name: str) -> int | None:
    """``limit``/``skip`` of a list body: absent/null, or an integer from 0 to MAX_COUNT.

    A JSON number with no fraction (``10.0``) is that integer, as in JavaScript and MongoDB.
    """
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2.0**64:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        shown = f"{value!r:.40}" if number else a_json_type(value)
        raise bad_request(f"{name} must be an integer from 0 to 2**63 - 1, not {shown}")
    return value


def name(value: str, what: str, max_bytes: int) -> str:
    """A project id, entity name, document id or function name: non-empty, printable, bounded."""
    size = len(value.encode("utf-8", "surrogatepass"))
    if not value:
        raise bad_request(f"the {what} must not be empty")
    if size > max_bytes:
        raise bad_request(
            f"the {what} is {size} bytes long; the limit is {max_bytes} bytes (UTF-8)"
        )
    if _CONTROL.search(value):
        raise bad_request(f"the {what} must not contain control characters: {value!r:.80}")
    return value


# --- bounds inside queries and documents (the query engine's: lumi.emulator.bounds) --------
#: Objects and arrays nested in a filter, sort, update or document, at most (MongoDB's limit
#: for BSON documents and for the expression tree of a filter is 100 levels).
MAX_NESTING = 100
#: Integers MongoDB stores: 64 bits. Beyond them a filter, update or document is refused.
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
#: Fields one sort may name (MongoDB's limit).
MAX_SORT_KEYS = 32
#: Characters of one ``$regex`` pattern.
MAX_REGEX_CHARS = 32 * 1024
#: Seconds all the regular expressions of one query may run, in total over its documents: a
#: pattern that backtracks for ever (``(a|a)+$``) ends there, with the pattern named.
REGEX_SECONDS = 2.0
