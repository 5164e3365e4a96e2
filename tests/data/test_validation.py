"""Entity schema files -> JSON Schema for jsonschema, and the messages that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lumi import ValidationError
from lumi.data.validation import SchemaValidator
from lumi.entity_schema import entity_from_document, load_entity_file

from .conftest import FIXTURES, QUESTIONS_SCHEMA

SCHEMA_FILES = sorted(FIXTURES.glob("*/*.json")) if FIXTURES.is_dir() else []


@pytest.mark.skipif(not SCHEMA_FILES, reason="no fixture schemas")
def test_every_real_schema_file_becomes_a_valid_draft_2020_12_schema() -> None:
    names = set()
    for path in SCHEMA_FILES:
        entity = load_entity_file(path)
        name, schema = entity.name, entity.schema
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "bsonType" not in json.dumps(schema), path
        assert schema["type"] == "object" and isinstance(schema.get("properties"), dict), path
        SchemaValidator(schema, name)  # builds
        names.add(name)
    assert len(names) > 100


def test_bson_types_translate() -> None:
    schema = entity_from_document(
        {
            "name": "t",
            "options": {
                "validator": {
                    "$jsonSchema": {
                        "bsonType": "object",
                        "properties": {
                            "i": {"bsonType": "int"},
                            "l": {"bsonType": "long"},
                            "d": {"bsonType": "double"},
                            "m": {"bsonType": "decimal"},
                            "b": {"bsonType": "bool"},
                            "o": {"bsonType": "objectId"},
                            "when": {"bsonType": "date"},
                            "s": {"bsonType": "string", "title": "datetime"},
                            "n": {"bsonType": ["string", "null"]},
                            "tags": {"bsonType": "array", "items": {"bsonType": "int"}},
                            "odd": {"bsonType": "javascript"},
                        },
                    }
                }
            },
        },
        fallback_name="t",
        source="t.json",
    ).schema
    props = schema["properties"]
    assert props["i"] == {"type": "integer"} and props["l"] == {"type": "integer"}
    assert props["d"] == {"type": "number"} and props["m"] == {"type": "number"}
    assert props["b"] == {"type": "boolean"}
    assert props["o"] == {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["s"] == {"type": "string", "title": "datetime", "format": "date-time"}
    assert props["n"] == {"type": ["string", "null"]}
    assert props["tags"] == {"type": "array", "items": {"type": "integer"}}
    assert props["odd"] == {}  # an unknown bsonType constrains nothing


def test_every_file_format_gives_the_same_schema() -> None:
    inner = {"bsonType": "object", "required": ["a"], "properties": {"a": {"bsonType": "int"}}}
    expected = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
    documents: list[Any] = [
        {"name": "e", "options": {"validator": {"$jsonSchema": inner}}},
        {"name": "e", "$jsonSchema": inner},
        {"name": "e", **inner},
        {"e": {"$jsonSchema": inner}},
        {"name": "e", "fields": {"a": {"type": "integer", "required": True}}},
        {"name": "e", "fields": [{"name": "a", "type": "integer", "required": True}]},
    ]
    for document in documents:
        entity = entity_from_document(document, fallback_name="file_stem", source="e.json")
        assert (entity.name, entity.schema) == ("e", expected), document
    with pytest.raises(ValidationError, match=r"e\.json: not an entity schema"):
        entity_from_document({"hello": 1, "world": 2}, fallback_name="e", source="e.json")


@pytest.fixture(scope="module")
def questions() -> SchemaValidator:
    entity = load_entity_file(QUESTIONS_SCHEMA)
    return SchemaValidator(entity.schema, entity.name)


def good() -> dict[str, Any]:
    return {
        "question": "q",
        "options": [],
        "correct": 0,
        "category": "mecanica",
        "difficulty": "facil",
        "createdAt": "2026-03-01T10:00:00.000Z",
    }


def test_errors_name_the_field_and_never_quote_the_value(questions: SchemaValidator) -> None:
    assert questions.errors(good()) == []
    bad = {**good(), "correct": -7, "category": "s3cr3t-value", "statistics": {"successRate": 500}}
    del bad["difficulty"]
    problems = questions.errors(bad)
    assert problems == [
        "questions.difficulty: is required",
        "questions.category: must be one of "
        '["legislacao", "sinalizacao", "direcao_defensiva", "primeiros_socorros", '
        '"meio_ambiente", "mecanica"]',
        "questions.correct: must be >= 0",
        "questions.statistics.successRate: must be <= 100",
    ]
    assert "s3cr3t" not in " ".join(problems)
    assert questions.errors({**good(), "correct": "1"}) == [
        "questions.correct: must be integer (got string)"
    ]


def test_system_fields_and_dates(questions: SchemaValidator) -> None:
    stored = {**good(), "_id": "6939311e8458665713e0b522", "creator": None}
    assert questions.errors(stored) == []
    assert questions.errors({**good(), "createdAt": "yesterday"}) == [
        'questions.createdAt: must be a "date-time" string'
    ]
    assert questions.errors({**good(), "createdAt": "2024-05-01"}) == []  # as apps store them


def test_partial_updates_check_only_the_given_paths(questions: SchemaValidator) -> None:
    assert questions.partial_errors({"explanation": "x"}) == []
    assert questions.partial_errors({"statistics.totalAnswers": -1}) == [
        "questions.statistics.totalAnswers: must be >= 0"
    ]
    assert questions.partial_errors({"statistics": {"totalAnswers": "many"}}) == [
        "questions.statistics.totalAnswers: must be integer (got string)"
    ]
    assert questions.partial_errors({"anything.new": 1}) == []  # additionalProperties: true


def test_closed_schemas_refuse_unknown_fields() -> None:
    closed = SchemaValidator(
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        "closed",
    )
    assert closed.errors({"a": "x", "_id": "6939311e8458665713e0b522"}) == []
    assert closed.errors({"a": "x", "b": 1}) == [
        "closed.b: is not allowed by the schema (additionalProperties is false)"
    ]
    assert closed.partial_errors({"b": 1}) == ["closed.b: is not allowed by the schema"]


def test_unreadable_schema_files_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"broken\.json: not valid JSON \(line 1"):
        load_entity_file(broken)
    with pytest.raises(ValidationError, match=r"missing\.json: cannot read the file"):
        load_entity_file(tmp_path / "missing.json")
    with pytest.raises(ValidationError, match="the entity schema is invalid"):
        SchemaValidator({"type": "object", "properties": {"a": {"type": "strin"}}}, "bad")
