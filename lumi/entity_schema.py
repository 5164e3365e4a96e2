"""An app's entity schema files (``src/entities/*.json``) -> one standard JSON Schema each.

The only translator of these files: ``lumi codegen`` compiles its output into attrs classes (and
keeps it as their ``__lumi_schema__``), and :mod:`lumi.data` validates documents against the very
same schema. Every format seen in Lumi apps (docs/protocol.md §4b) is read:

* ``{"name", "options": {"validator": {"$jsonSchema": S}}}`` (MongoDB validator wrapper);
* a bare ``{"$jsonSchema": S}``;
* a plain JSON Schema ``{"name"?, "type": "object", "properties", "required"}``;
* ``{"name"?, "fields": {NAME: SPEC} | [{"name": NAME, ...SPEC}]}``;
* any of these wrapped once as ``{ENTITY_NAME: ...}``.

At any depth, MongoDB ``bsonType`` and JSON Schema ``type`` are both read, case-insensitively
(``int``/``long`` -> integer, ``double``/``decimal`` -> number, ``bool`` -> boolean, ``objectId``
-> a 24-hex-digit string, ``date``/``timestamp`` and strings titled ``datetime`` -> ``format:
date-time``, ``uuid``/``text`` -> string); so are ``"required": true`` inside a property,
``"options": [{"value", "label"}]`` as an enum, ``"nullable": true`` and MongoDB's draft-4 forms
(tuple ``items``, boolean ``exclusiveMinimum``/``exclusiveMaximum``, ``dependencies``). The
result is Draft 2020-12. A type nobody knows constrains nothing and is reported in
:attr:`EntitySchema.warnings`, never an error, so one odd field does not stop an app.

Hand-written on purpose: no library reads this mix of MongoDB and JSON Schema dialects. Only the
standard library and attrs are needed (no jsonschema, no code generator).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import ValidationError

__all__ = [
    "OBJECT_ID_PATTERN",
    "SYSTEM_FIELDS",
    "EntitySchema",
    "entity_from_document",
    "load_entity_file",
    "load_entity_schemas",
]

#: what an ``objectId`` is on the wire (the JSON form of a MongoDB ObjectId)
OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$"

#: fields every stored document has, whether or not the entity's schema declares them
SYSTEM_FIELDS: dict[str, dict[str, Any]] = {
    "_id": {"type": "string", "description": "The document's id (24 hex digits)."},
    "creator": {
        "type": ["string", "null"],
        "description": "The id of the user who created the document.",
    },
    "createdAt": {
        "type": "string",
        "format": "date-time",
        "description": "When the document was created (UTC).",
    },
    "updatedAt": {
        "type": "string",
        "format": "date-time",
        "description": "When the document was last updated (UTC).",
    },
}

_DATE_TIME = {"format": "date-time"}

#: lower-cased bsonType / type name -> (JSON Schema type, None for "any"; keywords it implies)
_TYPES: dict[str, tuple[str | None, Mapping[str, str]]] = {
    "string": ("string", {}),
    "str": ("string", {}),
    "text": ("string", {}),
    "objectid": ("string", {"pattern": OBJECT_ID_PATTERN}),
    "uuid": ("string", {}),
    "email": ("string", {}),
    "url": ("string", {}),
    "number": ("number", {}),
    "double": ("number", {}),
    "decimal": ("number", {}),
    "float": ("number", {}),
    "int": ("integer", {}),
    "integer": ("integer", {}),
    "long": ("integer", {}),
    "bool": ("boolean", {}),
    "boolean": ("boolean", {}),
    "date": ("string", _DATE_TIME),
    "datetime": ("string", _DATE_TIME),
    "timestamp": ("string", _DATE_TIME),
    "array": ("array", {}),
    "object": ("object", {}),
    "null": ("null", {}),
    "any": (None, {}),
    "mixed": (None, {}),
}

_DATE_TIME_FORMATS = {"date-time", "datetime", "date_time", "timestamp"}

#: JSON Schema keywords copied as they are, first and in this order (the output is stable)
PLAIN_KEYWORDS = (
    "title",
    "description",
    "default",
    "const",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)

#: keywords read by :func:`_normalise` itself; every other one is kept (subschemas normalised)
_CONSUMED = {
    *PLAIN_KEYWORDS,
    "type",
    "bsonType",
    "enum",
    "options",
    "nullable",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "anyOf",
    "oneOf",
    "allOf",
    "name",
}

#: other keywords whose value is one schema / a map of schemas / a list of schemas
_SUBSCHEMA = {"not", "if", "then", "else", "contains", "propertyNames"}
_SUBSCHEMA_MAP = {"patternProperties", "$defs", "definitions", "dependentSchemas"}
_SUBSCHEMA_LIST = {"prefixItems"}


@attrs.frozen
class EntitySchema:
    """One entity: its name (the collection in URLs), its JSON Schema, and where it came from."""

    name: str
    schema: dict[str, Any]
    source: str
    warnings: tuple[str, ...] = ()
    """What the normaliser had to guess (an unknown type became "any"...)."""


@attrs.define
class _Context:
    source: str
    warnings: list[str]

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{self.source}: {where or '(entity)'}: {message}")

    def error(self, where: str, message: str) -> ValidationError:
        return ValidationError(f"{self.source}: {where or '(entity)'}: {message}")


def _type_of(
    node: Mapping[str, Any], ctx: _Context, where: str
) -> tuple[list[str], dict[str, str]]:
    """The JSON Schema types (empty: any) of a node and the keywords its types imply."""
    raw = node.get("bsonType", node.get("type"))
    if raw is None:
        if "properties" in node:
            return ["object"], {}
        if "items" in node:
            return ["array"], {}
        return [], {}
    types: list[str] = []
    implied: dict[str, str] | None = None
    for name in raw if isinstance(raw, list) else [raw]:
        known = _TYPES.get(name.lower()) if isinstance(name, str) else None
        if known is None:
            ctx.warn(where, f"unknown type {name!r}; the field is typed Any")
            return [], {}
        json_type, keywords = known
        if json_type is None:
            return [], {}
        if json_type not in types:
            types.append(json_type)
        if json_type == "string":  # ["string", "date"]: any string, so no format
            implied = (
                dict(keywords) if implied is None else dict(implied.items() & keywords.items())
            )
    return types, implied or {}


def _enum_from_options(options: Any) -> list[Any] | None:
    if not isinstance(options, list) or not options:
        return None
    values = []
    for option in options:
        value = option.get("value") if isinstance(option, Mapping) else option
        if not isinstance(value, (str, int, float, bool)):
            return None
        values.append(value)
    return values


def _draft4_exclusive(out: dict[str, Any], ctx: _Context, where: str) -> None:
    """MongoDB's boolean ``exclusiveMinimum: true`` (next to ``minimum``) as Draft 2020-12."""
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = out.get(exclusive)
        if not isinstance(flag, bool):
            continue
        if flag and bound in out:
            out[exclusive] = out.pop(bound)
            continue
        del out[exclusive]
        if flag:
            ctx.warn(where, f"{exclusive}: true without {bound} means nothing; ignored")


def _normalise(node: Any, ctx: _Context, where: str) -> dict[str, Any]:
    """One schema node as Draft 2020-12; unknown keywords are kept as they are."""
    if not isinstance(node, Mapping):
        ctx.warn(where, f"a schema must be an object, got {node!r}; the field is typed Any")
        return {}
    out: dict[str, Any] = {key: copy.deepcopy(node[key]) for key in PLAIN_KEYWORDS if key in node}
    _draft4_exclusive(out, ctx, where)
    types, implied = _type_of(node, ctx, where)
    if node.get("nullable") is True and types and "null" not in types:
        types.append("null")
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    title = node.get("title")
    if "string" in types and isinstance(title, str) and title.strip().lower() == "datetime":
        implied.setdefault("format", "date-time")
    if isinstance(out.get("format"), str) and out["format"].lower() in _DATE_TIME_FORMATS:
        out["format"] = "date-time"
    for keyword, value in implied.items():
        out.setdefault(keyword, value)
    enum = node.get("enum")
    if enum is None and "options" in node:
        enum = _enum_from_options(node["options"])
    if isinstance(enum, list):
        out["enum"] = copy.deepcopy(enum)
    elif enum is not None:
        ctx.warn(where, f"enum must be a list, got {enum!r}; ignored")
    listed = node.get("required")
    required = [*listed] if isinstance(listed, list) else []
    if "properties" in node:
        out["properties"], flagged = _properties(node["properties"], ctx, where)
        required += [name for name in flagged if name not in required]
    if required:
        out["required"] = required
    _items(node, out, ctx, where)
    _bool_or_schema(node, "additionalProperties", out, "additionalProperties", ctx, where, ".*")
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(keyword), list):
            out[keyword] = [
                _normalise(sub, ctx, f"{where}.{keyword}[{index}]")
                for index, sub in enumerate(node[keyword])
            ]
        elif keyword in node:
            ctx.warn(where, f"{keyword} must be a list of schemas; ignored")
    tuple_items = isinstance(node.get("items"), list)
    for key, value in node.items():
        if key in _CONSUMED or key.startswith("x-lumi-"):  # x-lumi-*: codegen's own keywords
            continue
        if key == "dependencies" and isinstance(value, Mapping):
            _dependencies(value, out, ctx, where)
        elif not (key == "additionalItems" and tuple_items):  # that one became `items`
            out[key] = _keyword(key, value, ctx, where)
    return out


def _keyword(key: str, value: Any, ctx: _Context, where: str) -> Any:
    """Any other keyword: its subschemas normalised, anything else copied."""
    if key in _SUBSCHEMA and isinstance(value, Mapping):
        return _normalise(value, ctx, f"{where}.{key}")
    if key in _SUBSCHEMA_MAP and isinstance(value, Mapping):
        return {name: _normalise(sub, ctx, f"{where}.{key}.{name}") for name, sub in value.items()}
    if key in _SUBSCHEMA_LIST and isinstance(value, list):
        return [_normalise(sub, ctx, f"{where}.{key}[{i}]") for i, sub in enumerate(value)]
    return copy.deepcopy(value)


def _bool_or_schema(
    node: Mapping[str, Any],
    key: str,
    out: dict[str, Any],
    target: str,
    ctx: _Context,
    where: str,
    child: str,
) -> None:
    """``node[key]`` (a boolean, or a schema normalised at ``where + child``) as ``out[target]``;
    anything else is ignored with a warning."""
    value = node.get(key)
    if isinstance(value, bool):
        out[target] = value
    elif isinstance(value, Mapping):
        out[target] = _normalise(value, ctx, f"{where}{child}")
    elif value is not None:
        ctx.warn(where, f"{key} must be a boolean or a schema; ignored")


def _items(node: Mapping[str, Any], out: dict[str, Any], ctx: _Context, where: str) -> None:
    items = node.get("items")
    if isinstance(items, Mapping):
        out["items"] = _normalise(items, ctx, f"{where}[]")
    elif isinstance(items, list):  # draft-4 tuple form: 2020-12 says prefixItems (+ items)
        out["prefixItems"] = [
            _normalise(sub, ctx, f"{where}[{index}]") for index, sub in enumerate(items)
        ]
        _bool_or_schema(node, "additionalItems", out, "items", ctx, where, "[]")
    elif items is not None:
        ctx.warn(where, "items must be a schema or a list of schemas; ignored")


def _dependencies(value: Mapping[str, Any], out: dict[str, Any], ctx: _Context, where: str) -> None:
    """Draft-4 ``dependencies``: names -> ``dependentRequired``, schemas -> ``dependentSchemas``."""
    for name, dependency in value.items():
        if isinstance(dependency, list):
            out.setdefault("dependentRequired", {})[name] = list(dependency)
        elif isinstance(dependency, Mapping):
            schema = _normalise(dependency, ctx, f"{where}.dependencies.{name}")
            out.setdefault("dependentSchemas", {})[name] = schema
        else:
            ctx.warn(where, f"dependencies.{name} must be a list or a schema; ignored")


def _properties(raw: Any, ctx: _Context, where: str) -> tuple[dict[str, Any], list[str]]:
    """Normalised properties and the names marked ``"required": true`` inside them."""
    if isinstance(raw, list):  # the {"fields": [{"name": ..., ...}]} format
        pairs = []
        for index, spec in enumerate(raw):
            name = spec.get("name") if isinstance(spec, Mapping) else None
            if not isinstance(name, str) or not name:
                raise ctx.error(where, f"field #{index + 1} has no name")
            pairs.append((name, spec))
    elif isinstance(raw, Mapping):
        pairs = list(raw.items())
    else:
        raise ctx.error(where, "the properties (fields) must be an object or a list")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in pairs:
        if name in properties:
            raise ctx.error(where, f"field {name!r} is declared twice")
        if isinstance(spec, Mapping) and spec.get("required") is True:
            required.append(name)
        properties[name] = _normalise(spec, ctx, f"{where}.{name}" if where else name)
    return properties, required


def _unwrap(document: Any, fallback_name: str, ctx: _Context) -> tuple[str, dict[str, Any]]:
    """(entity name, normalised schema) of one entity file in any known format."""
    if not isinstance(document, Mapping):
        raise ValidationError(f"{ctx.source}: an entity schema must be a JSON object")
    declared = document.get("name")
    name = declared if isinstance(declared, str) and declared else fallback_name
    options = document.get("options")
    validator = document.get("validator") or (
        options.get("validator") if isinstance(options, Mapping) else None
    )
    if isinstance(validator, Mapping) and isinstance(validator.get("$jsonSchema"), Mapping):
        return name, _entity_schema(validator["$jsonSchema"], ctx)
    if isinstance(document.get("$jsonSchema"), Mapping):
        return name, _entity_schema(document["$jsonSchema"], ctx)
    if "fields" in document:
        properties, required = _properties(document["fields"], ctx, "")
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        for key in ("title", "description"):
            if isinstance(document.get(key), str):
                schema[key] = document[key]
        return name, schema
    if "properties" in document or document.get("type") == "object" or "bsonType" in document:
        return name, _entity_schema(document, ctx)
    if len(document) == 1:
        ((key, inner),) = document.items()
        if isinstance(inner, Mapping):
            return _unwrap(inner, key, ctx)
    raise ValidationError(
        f"{ctx.source}: not an entity schema (expected $jsonSchema, properties or fields; "
        f"found keys {sorted(document)})"
    )


def _entity_schema(node: Mapping[str, Any], ctx: _Context) -> dict[str, Any]:
    schema = _normalise(node, ctx, "")
    schema.setdefault("type", "object")
    if schema["type"] != "object":
        raise ValidationError(f"{ctx.source}: an entity schema must describe an object")
    schema.setdefault("properties", {})
    return schema


def entity_from_document(document: Any, *, fallback_name: str, source: str) -> EntitySchema:
    """Normalise one parsed entity file (``fallback_name``: the name when the file has none).

    A document that is no entity schema raises :class:`lumi.errors.ValidationError`.
    """
    ctx = _Context(source=source, warnings=[])
    name, schema = _unwrap(document, fallback_name, ctx)
    return EntitySchema(name=name, schema=schema, source=source, warnings=tuple(ctx.warnings))


def load_entity_file(path: str | os.PathLike[str]) -> EntitySchema:
    """The entity of one schema file (named after the file when it does not say)."""
    file = Path(path)
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{file}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise ValidationError(f"{file}: cannot read the file ({exc.strerror})") from exc
    return entity_from_document(document, fallback_name=file.stem, source=str(file))


def _schema_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found and (path / "src" / "entities").is_dir():
                found = sorted((path / "src" / "entities").glob("*.json"))
            if not found:
                raise ValidationError(f"{path}: no entity schema (*.json) in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ValidationError(f"{path}: no such file or directory")
    return files


def load_entity_schemas(paths: Iterable[str | os.PathLike[str]]) -> list[EntitySchema]:
    """The entities of the given files and directories (``*.json``, an app's ``src/entities``);
    two files defining the same entity name are an error."""
    entities: list[EntitySchema] = []
    by_name: dict[str, str] = {}
    for file in _schema_files(Path(path) for path in paths):
        entity = load_entity_file(file)
        if entity.name in by_name:
            raise ValidationError(
                f"{file}: entity {entity.name!r} is already defined by {by_name[entity.name]}"
            )
        by_name[entity.name] = str(file)
        entities.append(entity)
    return entities
