"""Checking documents against an entity's schema before they are sent, with ``jsonschema``.

The schema is the Draft 2020-12 one :mod:`lumi.entity_schema` makes of the entity file: the
``__lumi_schema__`` of a generated class, or :func:`lumi.entity_schema.load_entity_file`'s for a
file. Lumi's own files say ``validationAction: "warn"``, so strictness is a setting:

* ``"warn"`` (the default): log a warning on the ``lumi`` logger and send anyway;
* ``"raise"``: raise :class:`lumi.errors.ValidationError` naming the field(s); nothing is sent;
* ``"off"``: no check (and jsonschema, the ``validation`` extra, is never imported).

A repository's ``validation=`` wins; otherwise :func:`set_default_validation` (or the
``LUMI_VALIDATION`` environment variable) decides for the whole process.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._extras import optional_imports
from .._js import json_type
from ..entity_schema import SYSTEM_FIELDS
from ..errors import ValidationError
from ..serde import parse_datetime

if TYPE_CHECKING:
    import jsonschema

ValidationMode = Literal["warn", "raise", "off"]
MODES: tuple[ValidationMode, ...] = ("warn", "raise", "off")

logger = logging.getLogger("lumi")

_default_mode: ValidationMode | None = None


def check_mode(mode: str) -> ValidationMode:
    """``mode`` if it is one of warn/raise/off; a ValidationError otherwise."""
    if mode not in MODES:
        raise ValidationError(f"validation must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def set_default_validation(mode: ValidationMode | None) -> None:
    """The process-wide mode for repositories created without ``validation=`` (None: reset)."""
    global _default_mode
    _default_mode = None if mode is None else check_mode(mode)


def default_validation() -> ValidationMode:
    """:func:`set_default_validation`'s mode, else ``LUMI_VALIDATION``, else ``"warn"``."""
    if _default_mode is not None:
        return _default_mode
    return check_mode(os.environ.get("LUMI_VALIDATION", "warn").strip().lower() or "warn")


# -- validating ------------------------------------------------------------------------------
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


_FEATURE = "validating documents against an entity schema (validation='warn' or 'raise')"


# date-time is checked the way lumi.serde reads it (ISO 8601, like the generated classes),
# not as strict RFC 3339: Lumi apps store "2024-05-01" in fields titled "datetime".
@functools.cache
def _format_checker() -> jsonschema.FormatChecker:
    with optional_imports("validation", _FEATURE):
        import jsonschema
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=(ValueError,))(_date_time)
    return checker


def _draft_validator(schema: Any) -> jsonschema.Draft202012Validator:
    """A Draft 2020-12 validator of ``schema`` with lumi's format checks."""
    with optional_imports("validation", _FEATURE):
        import jsonschema
    return jsonschema.Draft202012Validator(schema, format_checker=_format_checker())


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _problems(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    """``(where, what)`` for each field an error is about: a ``required`` error names every
    field its keyword misses, an ``additionalProperties`` error every key it refuses."""
    path = ".".join(str(part) for part in error.absolute_path)
    where = path or "(document)"
    instance, schema = error.instance, error.schema
    if error.validator == "required" and isinstance(instance, Mapping):
        listed = error.validator_value if isinstance(error.validator_value, list) else []
        return [(_joined(path, name), "is required") for name in listed if name not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        declared = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        patterns = schema.get("patternProperties", {}) if isinstance(schema, Mapping) else {}
        refused = [
            name
            for name in instance
            if name not in declared and not any(re.search(p, name) for p in patterns)
        ]
        what = "is not allowed by the schema (additionalProperties is false)"
        return [(_joined(path, str(name)), what) for name in refused] or [(where, what)]
    return [(where, _describe(error))]


def _each_once(errors: Iterable[jsonschema.ValidationError]) -> list[tuple[str, str]]:
    """The problems of ``errors``, each field named once. jsonschema reports a missing field
    once per field, each error carrying the whole keyword: one error per keyword is read."""
    seen_keywords: set[tuple[tuple[Any, ...], tuple[Any, ...]]] = set()
    problems: dict[tuple[str, str], None] = {}
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path]):
        keyword = (tuple(error.absolute_path), tuple(error.absolute_schema_path))
        if error.validator in ("required", "additionalProperties"):
            if keyword in seen_keywords:
                continue
            seen_keywords.add(keyword)
        problems.update(dict.fromkeys(_problems(error)))
    return list(problems)


#: keyword -> message template (``{}``: the keyword's value)
_MESSAGES = {
    "enum": "must be one of {}",
    "const": "must be {}",
    "minimum": "must be >= {}",
    "maximum": "must be <= {}",
    "exclusiveMinimum": "must be > {}",
    "exclusiveMaximum": "must be < {}",
    "multipleOf": "must be a multiple of {}",
    "minLength": "must have at least {} characters",
    "maxLength": "must have at most {} characters",
    "pattern": "must match the pattern {}",
    "format": "must be a {} string",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "uniqueItems": "must not repeat items",
    "minProperties": "must have at least {} keys",
    "maxProperties": "must have at most {} keys",
}


def _describe(error: jsonschema.ValidationError) -> str:
    # Built from the schema, never from the value: documents may hold secrets (passwords...).
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        return "is required"
    if keyword == "additionalProperties":
        return "is not allowed by the schema (additionalProperties is false)"
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"must be {wanted} (got {json_type(error.instance)})"
    template = _MESSAGES.get(str(keyword))
    if template is not None:
        shown = json.dumps(expected, ensure_ascii=False, default=str)
        return template.format(shown if len(shown) <= 120 else shown[:117] + "...")
    return f"fails the schema keyword {keyword!r}"


class SchemaValidator:
    """Checks whole documents or partial updates against one entity's JSON Schema.

    The schema is checked when the validator is made (an invalid one is a ValidationError),
    unless ``deferred``: then on its first use, so that a validator nobody asks anything of
    (``validation="off"``) never imports jsonschema."""

    def __init__(
        self, schema: Mapping[str, Any], name: str = "document", *, deferred: bool = False
    ) -> None:
        self.name = name
        schema = dict(schema)
        properties = dict(schema.get("properties") or {})
        for wire, spec in SYSTEM_FIELDS.items():
            properties.setdefault(wire, spec)
        schema["properties"] = properties
        schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        self.schema = schema
        self._compiled: jsonschema.Draft202012Validator | None = None
        if not deferred:
            self._validator()

    def _validator(self) -> jsonschema.Draft202012Validator:
        if self._compiled is None:
            validator = _draft_validator(self.schema)  # MissingExtraError without jsonschema
            import jsonschema

            try:
                validator.check_schema(self.schema)
            except jsonschema.SchemaError as exc:
                raise ValidationError(
                    f"{self.name}: the entity schema is invalid: {exc.message}"
                ) from exc
            self._compiled = validator
        return self._compiled

    def errors(self, document: Any) -> list[str]:
        """Problems of a whole document, as ``"name.field: what"`` (empty: valid); each
        missing or refused field is named once."""
        found = _each_once(self._validator().iter_errors(document))
        return [f"{self.name}.{where}: {what}" for where, what in found]

    def partial_errors(self, update: Mapping[str, Any]) -> list[str]:
        """Problems of a partial update: only the given (possibly dotted) keys, no ``required``."""
        self._validator()  # the whole schema is valid before a part of it is used
        problems: list[str] = []
        for key, value in update.items():
            subschema = self._subschema(key.split("."))
            if subschema is None:
                continue
            if subschema is False:
                problems.append(f"{self.name}.{key}: is not allowed by the schema")
                continue
            for inner, what in _each_once(_draft_validator(subschema).iter_errors(value)):
                where = key if inner == "(document)" else f"{key}.{inner}"
                problems.append(f"{self.name}.{where}: {what}")
        return problems

    def _subschema(self, parts: list[str]) -> Any:
        """The schema at a dotted path; None when it is unconstrained, False when forbidden."""
        node: Any = self.schema
        for part in parts:
            if not isinstance(node, Mapping):
                return None
            if part.isdigit() and isinstance(node.get("items"), Mapping):
                node = node["items"]
                continue
            properties = node.get("properties") or {}
            if part in properties:
                node = properties[part]
            elif "additionalProperties" in node:
                node = node["additionalProperties"]
                if node is True:
                    return None
            else:
                return None
        return node


_VALIDATORS: dict[type, SchemaValidator | None] = {}


def validator_for(cls: type) -> SchemaValidator | None:
    """The validator of a generated entity class, if it has a ``__lumi_schema__`` (the schema
    :mod:`lumi.entity_schema` made of its entity file, used as it is)."""
    if cls in _VALIDATORS:
        return _VALIDATORS[cls]
    schema = getattr(cls, "__lumi_schema__", None)
    validator = None
    if isinstance(schema, Mapping):
        name = getattr(cls, "__lumi_entity__", cls.__name__)
        validator = SchemaValidator(schema, name, deferred=True)
    return _VALIDATORS.setdefault(cls, validator)


def enforce(mode: ValidationMode, problems: Iterable[str], what: str) -> None:
    """Apply ``mode`` to the problems found in ``what``: log them, raise, or nothing."""
    found = list(problems)
    if not found or mode == "off":
        return
    shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
    if mode == "raise":
        raise ValidationError(f"{what} does not match the entity schema: {shown}")
    logger.warning("%s does not match the entity schema (sent anyway): %s", what, shown)
