"""Python names for wire names: any JSON key becomes a safe, unique identifier.

Hand-written rather than datamodel-code-generator's own renaming because the contract of the
generated classes pins the rules (``_id`` -> ``id``, a property ``id`` -> ``id_``, ``extra`` ->
``extra_``) and because a field must never shadow a name that the class body uses at run time
(``attrs``, ``UNSET``) or that its annotations need (``Any``, ``datetime``); a field may be named
like a builtin (``list``), the annotations of its class then spell it ``builtins.list``.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Callable, Collection

#: never usable as a field name: the class body or the record mixin need them
RESERVED_FIELD_NAMES = frozenset(
    {
        "attrs",
        "UNSET",
        "Unset",
        "Any",
        "ClassVar",
        "Literal",
        "TypeAlias",
        "datetime",
        "extra",  # the additional-properties field
        "id",  # the record id (wire `_id`)
        "get",  # RecordAccess.get
        "keys",  # RecordAccess.keys
        "objects",  # reserved for the entity repositories
        "self",
        "cls",
        "builtins",  # spells shadowed builtins in annotations
    }
)

#: names a generated module defines or imports at top level; entity classes avoid them
RESERVED_CLASS_NAMES = frozenset(
    {"Any", "ClassVar", "Literal", "TypeAlias", "Unset", "UNSET", "RecordAccess", "ENTITIES"}
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9A-Za-z_]+|_+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def ascii_words(text: str) -> list[str]:
    """The ASCII words of ``text``: accents removed, camelCase and punctuation split."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _CAMEL_BOUNDARY.sub("_", plain)
    return [word for word in _NOT_WORD.split(plain) if word]


def snake_name(wire: str) -> str:
    """``userId`` -> ``user_id``, ``imageURL`` -> ``image_url``, ``Prénom du client`` ->
    ``prenom_du_client``, ``1st`` -> ``field_1st``; "" when nothing ASCII is left."""
    name = "_".join(word.lower() for word in ascii_words(wire))
    if name and name[0].isdigit():
        name = "field_" + name
    return name


def pascal_name(text: str) -> str:
    """``user_profiles`` -> ``UserProfiles``; "" when nothing ASCII is left."""
    words = ascii_words(text)
    name = "".join(word[:1].upper() + word[1:] for word in words)
    if name and name[0].isdigit():
        name = "N" + name
    return name


#: builtin names that appear in generated annotations; a field may bear them (see qualifier)
BUILTIN_TYPES = frozenset(
    {"bool", "bytes", "dict", "float", "frozenset", "int", "list", "object", "set", "str"}
    | {"tuple", "type"}
)

_HINT_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|(?<![.\w])[A-Za-z_]\w*""")


def qualifier(shadowed: Collection[str]) -> Callable[[str], str]:
    """A function spelling the ``shadowed`` builtins of a hint as ``builtins.NAME`` (string
    literals inside ``Literal[...]`` are left alone)."""

    def qualify(hint: str) -> str:
        if not shadowed:
            return hint

        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            return f"builtins.{token}" if token in shadowed else token

        return _HINT_TOKEN.sub(replace, hint)

    return qualify


class FieldNamer:
    """Assigns unique Python attribute names to the wire names of one class."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def name(self, wire: str) -> str:
        """A fresh Python name for ``wire``."""
        if wire == "_id":
            base = "id"
        else:
            base = snake_name(wire) or "field"
            if base in RESERVED_FIELD_NAMES or keyword.iskeyword(base):
                base += "_"
        candidate = base
        counter = 2
        while candidate in self._taken:
            candidate = f"{base}_{counter}" if not base.endswith("_") else f"{base}{counter}"
            counter += 1
        self._taken.add(candidate)
        return candidate


def class_name(text: str, taken: set[str], fallback: str = "Entity") -> str:
    """A fresh PascalCase class name for ``text`` (recorded in ``taken``)."""
    base = pascal_name(text) or fallback
    if base in RESERVED_CLASS_NAMES or keyword.iskeyword(base):
        base += fallback
    candidate = base
    counter = 2
    while candidate in taken:
        candidate = f"{base}{counter}"
        counter += 1
    taken.add(candidate)
    return candidate
