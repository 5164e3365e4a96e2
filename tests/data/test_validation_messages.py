"""Each missing (or refused) field is named once in validation messages, whatever jsonschema
reports: in SchemaValidator, in the repository's raise and warn modes, and in imports.
`validation="off"` never imports jsonschema."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumi import LumiClient, ValidationError, create_client
from lumi.data import SchemaValidator, repository
from lumi.data.formats import Row
from lumi.data.importer import Importer, Journal

REQUIRED = ["question", "options", "correct", "category", "difficulty", "createdAt"]


def names_in(message: str, names: list[str]) -> dict[str, int]:
    return {name: message.count(f".{name}: is required") for name in names}


def test_a_document_missing_five_fields_names_each_once() -> None:
    schema = {"type": "object", "required": ["a", "b", "c", "d", "e"], "properties": {}}
    problems = SchemaValidator(schema, "t").errors({"z": 1})
    assert problems == [f"t.{name}: is required" for name in "abcde"]


def test_nested_and_closed_objects_name_each_field_once() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "patternProperties": {"^x_": {}},
        "properties": {
            "a": {"type": "object", "required": ["p", "q"], "properties": {}},
            "b": {"type": "string"},
        },
    }
    problems = SchemaValidator(schema, "t").errors({"a": {}, "c": 1, "d": 2, "x_ok": 3})
    refused = "is not allowed by the schema (additionalProperties is false)"
    assert problems == [
        f"t.c: {refused}",
        f"t.d: {refused}",
        "t.a.p: is required",
        "t.a.q: is required",
    ]
    assert SchemaValidator(schema, "t").partial_errors({"a": {"q": 1}}) == ["t.a.p: is required"]


@given(
    required=st.lists(st.sampled_from("abcdefgh"), unique=True, min_size=1),
    present=st.sets(st.sampled_from("abcdefgh")),
)
def test_every_missing_field_exactly_once(required: list[str], present: set[str]) -> None:
    schema = {"type": "object", "required": required, "allOf": [{"required": required[:2]}]}
    problems = SchemaValidator(schema, "t").errors(dict.fromkeys(present, 1))
    missing = [name for name in required if name not in present]
    assert sorted(problems) == sorted(f"t.{name}: is required" for name in missing)


def test_repository_raise_names_each_missing_field_once(auto_escola: Any) -> None:
    client = create_client(project_id="p1", api_base_url="http://127.0.0.1:9")  # never reached
    repo = repository(client, auto_escola.Questions, validation="raise")
    with pytest.raises(ValidationError) as raised:
        repo.create({"explanation": "only this"})
    assert names_in(raised.value.message, REQUIRED[:5]) == dict.fromkeys(REQUIRED[:5], 1)


def test_repository_warn_names_each_missing_field_once(
    client: LumiClient, auto_escola: Any, caplog: pytest.LogCaptureFixture
) -> None:
    repo = repository(client, auto_escola.Questions, validation="warn")
    with caplog.at_level(logging.WARNING, logger="lumi"):
        repo.create({"explanation": "sent anyway"})
    (warning,) = [r.getMessage() for r in caplog.records if "entity schema" in r.getMessage()]
    assert names_in(warning, REQUIRED[:5]) == dict.fromkeys(REQUIRED[:5], 1)


def test_import_rejections_name_each_missing_field_once(
    client: LumiClient, auto_escola: Any, tmp_path: Path
) -> None:
    validator = SchemaValidator(auto_escola.Questions.__lumi_schema__, "questions")
    importer = Importer(
        client.entities["questions"], Journal(tmp_path / "j.json", "f"), validator=validator
    )
    report = importer.run([Row(0, "line 1", {"explanation": "x"})])
    (rejection,) = report.rejected
    assert names_in(rejection.reason, REQUIRED) == dict.fromkeys(REQUIRED, 1)


def test_validation_off_never_imports_jsonschema(tmp_path: Path, auto_escola: Any) -> None:
    # A fresh interpreter where jsonschema cannot be imported (tests/test_extras.py does the same
    # in a venv that does not have it).
    module = Path(sys.modules[auto_escola.__name__].__file__ or "")
    script = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "jsonschema":
            raise ModuleNotFoundError(name, name=name)
sys.meta_path.insert(0, Missing())
sys.path.insert(0, {str(module.parent)!r})
import lumi, lumi.data
from {module.stem} import Questions
client = lumi.create_client(project_id="p1", api_base_url="http://127.0.0.1:9")
repo = lumi.data.repository(client, Questions, validation="off")
try:
    repo.create({{"explanation": "x"}})
except lumi.ConnectionError:
    pass
try:
    repo.update("6939311e8458665713e0b522", explanation="y")
except lumi.ConnectionError:
    pass
assert "jsonschema" not in sys.modules
try:
    lumi.data.repository(client, Questions, validation="raise").create({{}})
except lumi.MissingExtraError as exc:
    print(exc.message)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'lumi-sdk[validation]'" in result.stdout
