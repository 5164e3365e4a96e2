"""lumi.entity_schema: the one translator of entity files, shared by codegen and validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lumi.entity_schema import (
    OBJECT_ID_PATTERN,
    entity_from_document,
    load_entity_file,
    load_entity_schemas,
)
from lumi.errors import ValidationError

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures" / "lumi-entities"


def normalise(properties: dict[str, Any], **top: Any) -> dict[str, Any]:
    entity = entity_from_document(
        {"name": "t", "properties": properties, **top}, fallback_name="t", source="t.json"
    )
    assert entity.warnings == (), entity.warnings
    return entity.schema


def warnings_of(properties: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
    entity = entity_from_document(
        {"name": "t", "properties": properties}, fallback_name="t", source="t.json"
    )
    return entity.warnings, entity.schema["properties"]


def test_imports_without_jsonschema_or_the_code_generator() -> None:
    code = (
        "import sys\n"
        "for name in ('jsonschema', 'datamodel_code_generator'):\n"
        "    sys.modules[name] = None  # any import of them fails\n"
        "import lumi.entity_schema as m\n"
        "e = m.entity_from_document({'fields': {'a': {'type': 'int'}}}, fallback_name='x',"
        " source='x')\n"
        "print(e.schema['properties']['a']['type'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "integer"


def test_type_names_are_case_insensitive_and_object_ids_are_24_hex() -> None:
    props = normalise(
        {
            "a": {"bsonType": "String"},
            "b": {"type": "ObjectId"},
            "c": {"bsonType": "Date"},
            "d": {"type": "Boolean"},
            "e": {"bsonType": ["objectId", "null"]},
        }
    )["properties"]
    assert props["a"] == {"type": "string"}
    assert props["b"] == {"type": "string", "pattern": OBJECT_ID_PATTERN}
    assert props["c"] == {"type": "string", "format": "date-time"}
    assert props["d"] == {"type": "boolean"}
    assert props["e"] == {"type": ["string", "null"], "pattern": OBJECT_ID_PATTERN}


def test_implied_keywords_only_when_every_string_type_implies_them() -> None:
    props = normalise(
        {
            "either": {"bsonType": ["string", "date"]},  # any string: no format
            "maybe": {"bsonType": ["date", "null"]},
            "titled": {"type": ["null", "string"], "title": "datetime"},
            "spelled": {"type": "string", "format": "date_time"},
            "stamp": {"type": "string", "format": "Timestamp"},
            "explicit": {"bsonType": "date", "format": "date"},  # the file's format wins
        }
    )["properties"]
    assert "format" not in props["either"]
    assert props["maybe"]["format"] == "date-time"
    assert props["titled"]["format"] == "date-time"
    assert props["spelled"]["format"] == props["stamp"]["format"] == "date-time"
    assert props["explicit"]["format"] == "date"


def test_required_true_nullable_and_options_at_any_depth() -> None:
    schema = normalise(
        {
            "guests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "required": True},
                        "name": {"type": "string", "required": True, "nullable": True},
                        "kind": {"type": "string", "options": [{"value": "a"}, "b"]},
                        "ui": {"type": "string", "options": [{"label": "no value"}]},
                    },
                },
            }
        }
    )
    item = schema["properties"]["guests"]["items"]
    assert item["required"] == ["id", "name"]  # the list first, then the flagged names
    assert item["properties"]["name"] == {"type": ["string", "null"]}
    assert item["properties"]["kind"] == {"type": "string", "enum": ["a", "b"]}
    assert item["properties"]["ui"] == {"type": "string"}  # not a list of choices


def test_required_without_properties_is_kept() -> None:
    schema = normalise({"meta": {"bsonType": "object", "required": ["k"]}})
    assert schema["properties"]["meta"] == {"type": "object", "required": ["k"]}


def test_subschemas_of_every_keyword_are_normalised() -> None:
    schema = normalise(
        {
            "code": {"not": {"bsonType": "int"}},
            "tags": {"bsonType": "object", "patternProperties": {"^x": {"bsonType": "long"}}},
            "pair": {"bsonType": "array", "items": [{"bsonType": "int"}, {"bsonType": "bool"}]},
            "rest": {
                "bsonType": "array",
                "items": [{"bsonType": "int"}],
                "additionalItems": {"bsonType": "double"},
            },
        },
        dependencies={"card": ["billing"], "vip": {"required": ["since"]}},
    )
    props = schema["properties"]
    assert props["code"] == {"not": {"type": "integer"}}
    assert props["tags"]["patternProperties"] == {"^x": {"type": "integer"}}
    assert props["pair"] == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "boolean"}],
    }
    assert props["rest"]["prefixItems"] == [{"type": "integer"}]
    assert props["rest"]["items"] == {"type": "number"} and "additionalItems" not in props["rest"]
    assert schema["dependentRequired"] == {"card": ["billing"]}
    assert schema["dependentSchemas"] == {"vip": {"required": ["since"]}}
    assert "dependencies" not in schema


def test_draft4_boolean_exclusive_bounds() -> None:
    props = normalise(
        {
            "above": {"bsonType": "int", "minimum": 0, "exclusiveMinimum": True},
            "below": {"bsonType": "int", "maximum": 9, "exclusiveMaximum": False},
        }
    )["properties"]
    assert props["above"] == {"exclusiveMinimum": 0, "type": "integer"}
    assert props["below"] == {"maximum": 9, "type": "integer"}


def test_what_cannot_be_used_is_reported_not_silently_dropped() -> None:
    warnings, props = warnings_of(
        {
            "rel": {"type": "belongs_to"},
            "e": {"type": "string", "enum": "a|b"},
            "o": {"type": "object", "additionalProperties": "yes"},
            "u": {"anyOf": {"type": "string"}},
            "x": {"type": "int", "exclusiveMinimum": True},
            "s": "string",
        }
    )
    assert warnings == (
        "t.json: rel: unknown type 'belongs_to'; the field is typed Any",
        "t.json: e: enum must be a list, got 'a|b'; ignored",
        "t.json: o: additionalProperties must be a boolean or a schema; ignored",
        "t.json: u: anyOf must be a list of schemas; ignored",
        "t.json: x: exclusiveMinimum: true without minimum means nothing; ignored",
        "t.json: s: a schema must be an object, got 'string'; the field is typed Any",
    )
    assert props["rel"] == {} and props["e"] == {"type": "string"} and props["s"] == {}


def test_unknown_keywords_are_kept_and_codegen_keywords_are_not() -> None:
    props = normalise({"a": {"type": "string", "x-ui": {"w": 1}, "x-lumi-secret": True}})
    assert props["properties"]["a"] == {"type": "string", "x-ui": {"w": 1}}


def test_fields_format_keeps_title_and_description() -> None:
    entity = entity_from_document(
        {"name": "n", "title": "Notes", "description": "d", "fields": {"a": {"type": "text"}}},
        fallback_name="x",
        source="n.json",
    )
    assert entity.schema == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "title": "Notes",
        "description": "d",
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1], r"n\.json: an entity schema must be a JSON object"),
        ({"name": "n", "type": "array", "items": {}}, "not an entity schema"),
        ({"name": "n", "bsonType": "array"}, r"n\.json: an entity schema must describe an object"),
        ({"fields": [{"type": "string"}]}, r"n\.json: \(entity\): field #1 has no name"),
        ({"fields": [{"name": "a"}, {"name": "a"}]}, "field 'a' is declared twice"),
        ({"fields": "a,b"}, r"properties \(fields\) must be an object or a list"),
        ({"options": ["not", "a", "wrapper"], "x": 1}, "not an entity schema"),
    ],
)
def test_bad_documents_are_clear_errors(document: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        entity_from_document(document, fallback_name="n", source="n.json")


def test_files_and_directories(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "src" / "entities").mkdir(parents=True)
    (app / "src" / "entities" / "a.json").write_text(json.dumps({"fields": {}}))
    (app / "src" / "entities" / "b.json").write_bytes(b"\xef\xbb\xbf" + b'{"name": "bee"}')
    with pytest.raises(ValidationError, match=r"b\.json: not an entity schema"):
        load_entity_schemas([app])
    (app / "src" / "entities" / "b.json").write_text(json.dumps({"name": "bee", "fields": {}}))
    assert [entity.name for entity in load_entity_schemas([app])] == ["a", "bee"]
    (tmp_path / "latin.json").write_bytes(b'{"name": "\xe9"}')
    with pytest.raises(ValidationError, match=r"latin\.json: not UTF-8 text"):
        load_entity_file(tmp_path / "latin.json")
    with pytest.raises(ValidationError, match=r"nowhere: no such file or directory"):
        load_entity_schemas([tmp_path / "nowhere"])


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="no fixture schemas")
def test_every_fixture_file_gives_a_valid_draft_2020_12_schema_and_is_stable() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    files = sorted(FIXTURES.glob("*/*.json"))
    for file in files:
        entity = load_entity_file(file)
        jsonschema.Draft202012Validator.check_schema(entity.schema)
        assert "bsonType" not in json.dumps(entity.schema), file
        assert entity.warnings == (), file
        # normalising the result again changes nothing: one fixed point, whoever reads it
        again = entity_from_document(entity.schema, fallback_name=entity.name, source=str(file))
        assert again.schema == entity.schema, file
    assert len(files) == 220
