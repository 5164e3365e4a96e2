"""An app's entity schema files (``src/entities/*.json``) -> one module of attrs classes.

Every format seen in Lumi apps (PROTOCOL §4b) is first normalised into one JSON Schema per
entity, then compiled by the same machinery as lumi's own models (:func:`generate_models`):

* ``{"name", "options": {"validator": {"$jsonSchema": S}}}`` (MongoDB validator wrapper);
* a bare ``{"$jsonSchema": S}``;
* a plain JSON Schema ``{"name"?, "type": "object", "properties", "required"}``;
* ``{"name"?, "fields": {NAME: SPEC} | [{"name": NAME, ...SPEC}]}`` with ``"required": true``
  inside a spec, ``"options": [{"value", "label"}]`` as an enum, ``"nullable": true``;
* any of these wrapped once as ``{ENTITY_NAME: ...}``.

MongoDB ``bsonType`` and JSON Schema ``type`` are both read (``int``/``long`` -> integer,
``double``/``decimal`` -> number, ``bool`` -> boolean, ``date``/``timestamp`` and strings titled
``datetime`` -> ``format: date-time``, ``objectId``/``uuid``/``text`` -> string). A type nobody
knows becomes ``Any`` with a warning, never an error, so one odd field does not stop an app.
"""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ._format import format_code
from ._models import CodegenError, generate_models
from ._naming import class_name, snake_name

#: bsonType / type name -> (JSON Schema type or None for "any", JSON Schema format or None)
_TYPES: dict[str, tuple[str | None, str | None]] = {
    "string": ("string", None),
    "str": ("string", None),
    "text": ("string", None),
    "objectid": ("string", None),
    "uuid": ("string", None),
    "email": ("string", None),
    "url": ("string", None),
    "number": ("number", None),
    "double": ("number", None),
    "decimal": ("number", None),
    "float": ("number", None),
    "int": ("integer", None),
    "integer": ("integer", None),
    "long": ("integer", None),
    "bool": ("boolean", None),
    "boolean": ("boolean", None),
    "date": ("string", "date-time"),
    "datetime": ("string", "date-time"),
    "timestamp": ("string", "date-time"),
    "array": ("array", None),
    "object": ("object", None),
    "null": ("null", None),
    "any": (None, None),
    "mixed": (None, None),
}

_DATE_TIME_FORMATS = {"date-time", "datetime", "date_time", "timestamp"}

#: JSON Schema keywords copied as they are
_COPIED = (
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

#: keywords the normaliser consumes (anything else is kept verbatim in __lumi_schema__)
_CONSUMED = {
    *_COPIED,
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

#: fields every stored document has; added to the class unless the schema declares them
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


@attrs.frozen
class EntitySchema:
    """One entity: its name (the collection in URLs), its JSON Schema, and where it came from."""

    name: str
    schema: dict[str, Any]
    source: str
    warnings: tuple[str, ...] = ()
    """What the normaliser had to guess (an unknown type became ``Any``...)."""


@attrs.define
class _Context:
    source: str
    warnings: list[str]

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(f"{self.source}: {where}: {message}")


def _type_of(node: Mapping[str, Any], ctx: _Context, where: str) -> tuple[list[str], str | None]:
    """The JSON Schema types (empty: any) and the implied format of a schema node."""
    raw = node.get("bsonType", node.get("type"))
    if raw is None:
        if "properties" in node:
            return ["object"], None
        if "items" in node:
            return ["array"], None
        return [], None
    names = raw if isinstance(raw, list) else [raw]
    types: list[str] = []
    implied: str | None = None
    for name in names:
        known = _TYPES.get(name.lower()) if isinstance(name, str) else None
        if known is None:
            ctx.warn(where, f"unknown type {name!r}; the field is typed Any")
            return [], None
        json_type, fmt = known
        if json_type is None:
            return [], None
        if json_type not in types:
            types.append(json_type)
        implied = implied or fmt
    return types, implied


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


def _normalise(node: Any, ctx: _Context, where: str) -> dict[str, Any]:
    """One schema node as standard JSON Schema; unknown keywords are kept as they are."""
    if not isinstance(node, Mapping):
        ctx.warn(where, f"a schema must be an object, got {node!r}; the field is typed Any")
        return {}
    out: dict[str, Any] = {key: copy.deepcopy(node[key]) for key in _COPIED if key in node}
    types, implied = _type_of(node, ctx, where)
    if node.get("nullable") is True and types and "null" not in types:
        types.append("null")
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    title = node.get("title")
    if implied is None and "string" in types and isinstance(title, str):
        implied = "date-time" if title.strip().lower() == "datetime" else None
    if isinstance(out.get("format"), str) and out["format"].lower() in _DATE_TIME_FORMATS:
        out["format"] = "date-time"
    if implied and "format" not in out:
        out["format"] = implied
    enum = node.get("enum")
    if enum is None and "options" in node:
        enum = _enum_from_options(node["options"])
    if isinstance(enum, list):
        out["enum"] = copy.deepcopy(enum)
    if "properties" in node:
        out["properties"], required = _properties(node["properties"], ctx, where)
        listed = node.get("required")
        if isinstance(listed, list):
            required = [*listed, *(name for name in required if name not in listed)]
        if required:
            out["required"] = required
    if "items" in node:
        if isinstance(node["items"], Mapping):
            out["items"] = _normalise(node["items"], ctx, f"{where}[]")
        else:
            ctx.warn(where, "tuple-style items are not supported; the items are typed Any")
    additional = node.get("additionalProperties")
    if isinstance(additional, bool):
        out["additionalProperties"] = additional
    elif isinstance(additional, Mapping):
        out["additionalProperties"] = _normalise(additional, ctx, f"{where}.*")
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(keyword), list):
            out[keyword] = [
                _normalise(sub, ctx, f"{where}.{keyword}[{index}]")
                for index, sub in enumerate(node[keyword])
            ]
    for key, value in node.items():  # kept for validation code, ignored by the generator
        if key not in _CONSUMED and not key.startswith("x-lumi-"):
            out[key] = copy.deepcopy(value)
    return out


def _properties(raw: Any, ctx: _Context, where: str) -> tuple[dict[str, Any], list[str]]:
    """Normalised properties and the names marked ``"required": true`` inside them."""
    if isinstance(raw, list):  # the {"fields": [{"name": ..., ...}]} format
        pairs = []
        for index, spec in enumerate(raw):
            name = spec.get("name") if isinstance(spec, Mapping) else None
            if not isinstance(name, str) or not name:
                raise CodegenError(f"{ctx.source}: {where}: field #{index + 1} has no name")
            pairs.append((name, spec))
    elif isinstance(raw, Mapping):
        pairs = list(raw.items())
    else:
        raise CodegenError(f"{ctx.source}: {where}: properties must be an object or a list")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in pairs:
        if name in properties:
            raise CodegenError(f"{ctx.source}: {where}: field {name!r} is declared twice")
        if isinstance(spec, Mapping) and spec.get("required") is True:
            required.append(name)
        properties[name] = _normalise(spec, ctx, f"{where}.{name}" if where else name)
    return properties, required


def _unwrap(document: Any, fallback_name: str, ctx: _Context) -> tuple[str, dict[str, Any]]:
    """(entity name, normalised schema) of one entity file in any known format."""
    if not isinstance(document, Mapping):
        raise CodegenError(f"{ctx.source}: an entity schema must be a JSON object")
    declared = document.get("name")
    name = declared if isinstance(declared, str) and declared else fallback_name
    validator = document.get("validator") or (document.get("options") or {}).get("validator")
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
    raise CodegenError(
        f"{ctx.source}: not an entity schema (expected $jsonSchema, properties or fields; "
        f"found keys {sorted(document)})"
    )


def _entity_schema(node: Mapping[str, Any], ctx: _Context) -> dict[str, Any]:
    schema = _normalise({key: value for key, value in node.items() if key != "name"}, ctx, "")
    schema.setdefault("type", "object")
    if schema["type"] != "object":
        raise CodegenError(f"{ctx.source}: an entity schema must describe an object")
    schema.setdefault("properties", {})
    return schema


def entity_from_document(document: Any, *, fallback_name: str, source: str) -> EntitySchema:
    """Normalise one parsed entity file (``fallback_name``: the name when the file has none)."""
    ctx = _Context(source=source, warnings=[])
    name, schema = _unwrap(document, fallback_name, ctx)
    return EntitySchema(name=name, schema=schema, source=source, warnings=tuple(ctx.warnings))


def _schema_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found and (path / "src" / "entities").is_dir():
                found = sorted((path / "src" / "entities").glob("*.json"))
            if not found:
                raise CodegenError(f"{path}: no entity schema (*.json) in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CodegenError(f"{path}: no such file or directory")
    return files


def load_entity_schemas(paths: Iterable[Path | str]) -> list[EntitySchema]:
    """The entities of the given files and directories (``*.json``, an app's ``src/entities``)."""
    entities: list[EntitySchema] = []
    by_name: dict[str, str] = {}
    for file in _schema_files(Path(path) for path in paths):
        try:
            document = json.loads(file.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise CodegenError(
                f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        except UnicodeDecodeError as exc:
            raise CodegenError(f"{file}: not UTF-8 text ({exc.reason})") from exc
        entity = entity_from_document(document, fallback_name=file.stem, source=str(file))
        if entity.name in by_name:
            raise CodegenError(
                f"{file}: entity {entity.name!r} is already defined by {by_name[entity.name]}"
            )
        by_name[entity.name] = str(file)
        entities.append(entity)
    return entities


def _generator_schema(node: Any) -> Any:
    """A normalised schema without the keywords kept only for validation code."""
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _CONSUMED or key == "name":
            continue
        if key == "properties":
            out[key] = {name: _generator_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _generator_schema(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [_generator_schema(sub) for sub in value]
        elif key == "format" and value != "date-time":
            continue  # date, email, uuid...: plain strings in Python, checked by validation
        elif key == "default":
            continue  # like the JS client, a class does not fill in defaults the server ignores
        elif key == "required" and isinstance(value, list):
            # a required name the schema does not declare would become a required `Any` field
            out[key] = [name for name in value if name in node.get("properties", {})]
        else:
            out[key] = value
    return out


def _with_system_fields(entity: EntitySchema) -> dict[str, Any]:
    schema: dict[str, Any] = _generator_schema(entity.schema)
    declared = schema.get("properties", {})
    taken = {snake_name(name) for name in declared}
    system = {
        wire: copy.deepcopy(spec)
        for wire, spec in SYSTEM_FIELDS.items()
        if wire not in declared and (wire == "_id" or snake_name(wire) not in taken)
    }
    schema["properties"] = {**system, **declared}
    schema["description"] = entity.schema.get("description") or _class_doc(entity)
    schema["x-lumi-entity"] = entity.name
    schema["x-lumi-base"] = "lumi._record.RecordAccess"
    return schema


def _class_doc(entity: EntitySchema) -> str:
    title = entity.schema.get("title")
    label = f" ({title})" if isinstance(title, str) and title.lower() != "datetime" else ""
    return f"A document of the entity ``{entity.name}``{label}."


def entity_class_names(entities: Sequence[EntitySchema]) -> dict[str, str]:
    """Entity name -> class name (PascalCase, unique, clear of the module's own names)."""
    taken: set[str] = set()
    return {entity.name: class_name(entity.name, taken) for entity in entities}


def generate_entities(
    entities: Sequence[EntitySchema],
    *,
    source_name: str,
    regenerate_with: str,
    warnings_out: list[str] | None = None,
) -> str:
    """One module: an attrs class per entity, and ``ENTITIES`` mapping entity name -> class."""
    if not entities:
        raise CodegenError(f"{source_name}: no entity to generate")
    names = entity_class_names(entities)
    definitions = {names[entity.name]: _with_system_fields(entity) for entity in entities}
    code = generate_models(
        {"$defs": definitions},
        "jsonschema",
        source_name=source_name,
        module_doc=(
            "Entity classes generated by `lumi codegen`: one attrs class per entity, "
            "with the entity's JSON Schema in ``__lumi_schema__``."
        ),
        regenerate_with=regenerate_with,
        skip_root_model=True,
        first_party=(),
        warnings_out=warnings_out,
        entity_schemas={entity.name: entity.schema for entity in entities},
    )
    # Read the class names back: the generator may have renamed a class whose name a nested
    # class of another entity took (`orders.address` and an entity `orders_address`).
    classes = entity_classes_in(code)
    footer = ["", "", "ENTITIES: dict[str, type[RecordAccess]] = {"]
    footer += [f"    {entity.name!r}: {classes[entity.name]}," for entity in entities]
    footer += ["}", '"""Every entity class by entity name (the collection in URLs)."""']
    return format_code(code + "\n".join(footer) + "\n")


def entity_classes_in(code: str) -> dict[str, str]:
    """Entity name -> class name, read off the ``__lumi_entity__`` of a generated module."""
    classes: dict[str, str] = {}
    for node in ast.parse(code).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and statement.target.id == "__lumi_entity__"
                and isinstance(statement.value, ast.Constant)
            ):
                classes[str(statement.value.value)] = node.name
    return classes
