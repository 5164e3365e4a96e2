"""Checking documents against an entity's schema before they are sent, with ``jsonschema``.

The schema is the Draft 2020-12 one :mod:`lumi.entity_schema` makes of the entity file: the
``__lumi_schema__`` of a generated class, or :func:`lumi.entity_schema.load_entity_file`'s for a
file. Lumi's own files say ``validationAction: "warn"``, so strictness is a setting:

* ``"warn"`` (the default): log a warning on the ``lumi`` logger and send anyway;
* ``"raise"``: raise :class:`lumi.errors.ValidationError` naming the field(s); nothing is sent;
* ``"off"``: no check.

A repository's ``validation=`` wins; otherwise :func:`set_default_validation` (or the
``LUMI_VALIDATION`` environment variable) decides for the whole process.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import jsonschema

from .._js import json_type
from ..entity_schema import SYSTEM_FIELDS
from ..errors import ValidationError
from ..serde import parse_datetime

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


# date-time is checked the way lumi.serde reads it (ISO 8601, like the generated classes),
# not as strict RFC 3339: Lumi apps store "2024-05-01" in fields titled "datetime".
_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("date-time", raises=(ValueError,))(_date_time)


def _error_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    listed = error.validator_value
    if error.validator == "required" and isinstance(error.instance, Mapping):
        names = listed if isinstance(listed, list) else []
        missing = [name for name in names if name not in error.instance]
        if missing:
            return ".".join(filter(None, [path, missing[0]]))
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = [name for name in error.instance if name not in allowed]
        if extra:
            return ".".join(filter(None, [path, extra[0]]))
    return path or "(document)"


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
    """Checks whole documents or partial updates against one entity's JSON Schema."""

    def __init__(self, schema: Mapping[str, Any], name: str = "document") -> None:
        self.name = name
        schema = dict(schema)
        properties = dict(schema.get("properties") or {})
        for wire, spec in SYSTEM_FIELDS.items():
            properties.setdefault(wire, spec)
        schema["properties"] = properties
        schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ValidationError(f"{name}: the entity schema is invalid: {exc.message}") from exc
        self.schema = schema
        self._validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)

    def errors(self, document: Any) -> list[str]:
        """Problems of a whole document, as ``"name.field: what"`` (empty: valid)."""
        found = sorted(self._validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        return [f"{self.name}.{_error_path(error)}: {_describe(error)}" for error in found]

    def partial_errors(self, update: Mapping[str, Any]) -> list[str]:
        """Problems of a partial update: only the given (possibly dotted) keys, no ``required``."""
        problems: list[str] = []
        for key, value in update.items():
            subschema = self._subschema(key.split("."))
            if subschema is None:
                continue
            if subschema is False:
                problems.append(f"{self.name}.{key}: is not allowed by the schema")
                continue
            validator = jsonschema.Draft202012Validator(subschema, format_checker=_FORMATS)
            for error in validator.iter_errors(value):
                inner = _error_path(error)
                where = key if inner == "(document)" else f"{key}.{inner}"
                problems.append(f"{self.name}.{where}: {_describe(error)}")
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
        validator = SchemaValidator(schema, getattr(cls, "__lumi_entity__", cls.__name__))
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
