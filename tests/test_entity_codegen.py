"""`lumi codegen`: every entity schema format of real apps compiles to importable, type-clean
attrs classes; the tricky cases (types, enums, dates, names) come out right."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from click.testing import CliRunner

import lumi.model
from codegen import generate_entities
from codegen.cli import codegen
from lumi.entity_schema import entity_from_document, load_entity_file, load_entity_schemas
from lumi.errors import ValidationError
from lumi.model import UNSET, RecordAccess, Unset

from .support.typecheck import mypy_strict, pyright_strict

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures" / "lumi-entities"
BIN = Path(sys.executable).parent
APPS = sorted(path for path in FIXTURES.iterdir() if path.is_dir()) if FIXTURES.is_dir() else []


def load_module(path: Path) -> types.ModuleType:
    name = f"lumi_entity_test_{path.stem}_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # typing.get_type_hints looks the module up by name
    spec.loader.exec_module(module)
    return module


def module_name(app: Path) -> str:
    return "app_" + "".join(ch if ch.isalnum() else "_" for ch in app.name).lower()


def compile_entities(tmp_path: Path, files: dict[str, Any], name: str = "ents") -> Any:
    """Write ``files`` (file name -> JSON document) and compile them into one module."""
    folder = tmp_path / f"{name}_src"
    folder.mkdir()
    for file_name, document in files.items():
        (folder / file_name).write_text(json.dumps(document), encoding="utf-8")
    code = generate_entities(load_entity_schemas([folder]), source_name="t", regenerate_with="t")
    target = tmp_path / f"{name}.py"
    target.write_text(code, encoding="utf-8")
    return load_module(target)


def fields_of(cls: type) -> dict[str | None, attrs.Attribute[Any]]:
    """Fields by wire name; the ``extra`` dict under None."""
    return {field.metadata.get("wire"): field for field in attrs.fields(cls)}


# --- every real app -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    if not APPS:
        pytest.skip(f"no fixtures at {FIXTURES}")
    out = tmp_path_factory.mktemp("apps")
    modules = {}
    for app in APPS:
        entities = load_entity_schemas([app])
        code = generate_entities(entities, source_name=app.name, regenerate_with="lumi codegen")
        target = out / f"{module_name(app)}.py"
        target.write_text(code, encoding="utf-8")
        modules[app] = target
    return modules


def test_every_fixture_app_compiles_and_imports(generated_apps: dict[Path, Path]) -> None:
    assert len(generated_apps) == len(APPS) >= 30
    total = 0
    for app, path in generated_apps.items():
        module = load_module(path)
        files = sorted(app.glob("*.json"))
        names = {entity.name for entity in load_entity_schemas([app])}
        assert len(names) == len(files), app  # one entity per file, none lost
        assert set(module.ENTITIES) == names, app
        for entity_name, cls in module.ENTITIES.items():
            assert cls.__lumi_entity__ == entity_name
            assert issubclass(cls, RecordAccess)
            assert isinstance(cls.__lumi_schema__, dict) and cls.__lumi_schema__["type"] == "object"
            assert fields_of(cls)["_id"].name == "id"
            typing.get_type_hints(cls, globalns=vars(module))  # annotations resolve (cattrs)
        total += len(module.ENTITIES)
    assert total == sum(len(list(app.glob("*.json"))) for app in APPS) == 220


def test_every_fixture_app_passes_mypy_strict(generated_apps: dict[Path, Path]) -> None:
    # Where the modules are, outside the checkout: lumi comes from the editable install, and no
    # configuration of this repository applies.
    folder = next(iter(generated_apps.values())).parent
    assert mypy_strict(folder, *(path.name for path in generated_apps.values())) == ""


@pytest.mark.slow
def test_every_fixture_app_passes_pyright_strict(generated_apps: dict[Path, Path]) -> None:
    folder = next(iter(generated_apps.values())).parent
    assert pyright_strict(folder, *(path.name for path in generated_apps.values())) == ""


def test_generated_code_imports_only_public_names(generated_apps: dict[Path, Path]) -> None:
    paths = [*generated_apps.values(), *sorted((REPO / "lumi" / "_generated").glob("*.py"))]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
                names = [alias.name for alias in node.names]
                assert not any(name.startswith("_") for name in names), (path, names)
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                if module.split(".")[0] == "lumi":
                    assert module == "lumi.model", (path, module)  # the module made for it
    assert set(lumi.model.__all__) <= set(dir(lumi.model))


def test_every_fixture_app_passes_ruff(generated_apps: dict[Path, Path]) -> None:
    # The project's rules, run where the modules are (lumi is a third-party package there).
    folder = next(iter(generated_apps.values())).parent
    settings = ["--isolated", "--line-length=100", "--target-version=py310"]
    rules = ["--select=E,F,W,I,B,UP,SIM,RUF", "--ignore=E501,RUF012"]
    for command in (["check", *settings, *rules], ["format", "--check", *settings]):
        result = subprocess.run(
            [str(BIN / "ruff"), *command, "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_output_is_deterministic(generated_apps: dict[Path, Path]) -> None:
    app = APPS[-1]
    again = generate_entities(
        load_entity_schemas([app]), source_name=app.name, regenerate_with="lumi codegen"
    )
    assert generated_apps[app].read_text(encoding="utf-8") == again


def test_validation_sees_the_schema_the_class_carries(generated_apps: dict[Path, Path]) -> None:
    """One translator: for every fixture file, the class's ``__lumi_schema__``, the repository's
    validator and ``lumi entities import --schema FILE``'s validator hold the same schema."""
    pytest.importorskip("jsonschema")
    from lumi.data.validation import SchemaValidator, validator_for

    checked = 0
    for app, path in generated_apps.items():
        module = load_module(path)
        for file in sorted(app.glob("*.json")):
            entity = load_entity_file(file)  # what `--schema FILE` validates against
            cls = module.ENTITIES[entity.name]
            assert cls.__lumi_schema__ == entity.schema, file
            from_class = validator_for(cls)  # what a repository of the class validates against
            assert from_class is not None, file
            assert from_class.schema == SchemaValidator(entity.schema, entity.name).schema, file
            checked += 1
    assert checked == 220


# --- the four formats (docs/protocol.md §4b) and a wrapper --------------------------------------------

SCHEMA = {
    "bsonType": "object",
    "required": ["title"],
    "additionalProperties": True,
    "properties": {
        "title": {"bsonType": "string", "description": "The title."},
        "count": {"bsonType": "int", "minimum": 0},
    },
}


@pytest.mark.parametrize(
    ("document", "expected_name"),
    [
        (
            {
                "name": "todos",
                "options": {
                    "validator": {"$jsonSchema": SCHEMA},
                    "validationLevel": "moderate",
                    "validationAction": "warn",
                },
            },
            "todos",
        ),
        ({"$jsonSchema": SCHEMA}, "file_stem"),
        (
            {
                "name": "todos",
                "type": "object",
                "properties": {"title": {"type": "string"}, "count": {"type": "integer"}},
                "required": ["title"],
            },
            "todos",
        ),
        (
            {
                "name": "todos",
                "fields": {
                    "title": {"type": "string", "required": True},
                    "count": {"type": "number"},
                },
            },
            "todos",
        ),
        (
            {
                "name": "todos",
                "fields": [
                    {"name": "title", "type": "string", "required": True},
                    {"name": "count", "type": "int"},
                ],
            },
            "todos",
        ),
        (
            {
                "todos": {
                    "type": "object",
                    "properties": {"title": {"type": "string", "required": True}},
                }
            },
            "todos",
        ),
    ],
    ids=["validator", "bare-jsonSchema", "plain", "fields-dict", "fields-list", "wrapped"],
)
def test_every_format_gives_the_same_entity(
    tmp_path: Path, document: dict[str, Any], expected_name: str
) -> None:
    module = compile_entities(tmp_path, {"file_stem.json": document})
    cls = module.ENTITIES[expected_name]
    assert cls.__name__ == ("FileStem" if expected_name == "file_stem" else "Todos")
    title = fields_of(cls)["title"]
    assert title.default is attrs.NOTHING  # required
    assert typing.get_type_hints(cls)["title"] is str
    obj = cls(title="x")
    assert obj.id is UNSET and obj.created_at is UNSET and obj.extra == {}


def test_unknown_document_shape_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"hello": 1, "world": 2}))
    with pytest.raises(ValidationError, match=r"bad\.json: not an entity schema.*hello"):
        load_entity_schemas([tmp_path / "bad.json"])
    (tmp_path / "broken.json").write_text('{"name": "x",\n "fields": }')
    with pytest.raises(ValidationError, match=r"broken\.json: not valid JSON \(line 2"):
        load_entity_schemas([tmp_path / "broken.json"])


def test_duplicate_entity_names_are_refused(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps({"name": "same", "fields": {}}))
    with pytest.raises(
        ValidationError, match=r"b\.json: entity 'same' is already defined by .*a\.json"
    ):
        load_entity_schemas([tmp_path])


# --- types -------------------------------------------------------------------------------------


def test_bson_and_json_types(tmp_path: Path) -> None:
    properties = {
        "s": {"bsonType": "string"},
        "n": {"bsonType": "number"},
        "i": {"bsonType": "int"},
        "l": {"bsonType": "long"},
        "d": {"bsonType": "double"},
        "dec": {"bsonType": "decimal"},
        "b": {"bsonType": "bool"},
        "jb": {"type": "boolean"},
        "when": {"bsonType": "date"},
        "ref": {"bsonType": "objectId"},
        "tags": {"bsonType": "array", "items": {"bsonType": "string"}},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "loose": {"bsonType": "array"},
        "maybe": {"bsonType": ["string", "null"]},
        "either": {"type": ["string", "number"]},
        "anything": {"description": "no type at all"},
        "meta": {"bsonType": "object"},
        "address": {
            "bsonType": "object",
            "required": ["city"],
            "properties": {"city": {"bsonType": "string"}, "zip": {"bsonType": "int"}},
        },
        "items": {
            "bsonType": "array",
            "items": {"bsonType": "object", "properties": {"sku": {"bsonType": "string"}}},
        },
    }
    module = compile_entities(
        tmp_path, {"orders.json": {"name": "orders", "type": "object", "properties": properties}}
    )
    cls = module.ENTITIES["orders"]
    hints = typing.get_type_hints(cls)

    def core(name: str) -> set[Any]:
        return set(typing.get_args(hints[name])) - {Unset}

    assert core("s") == {str} and core("ref") == {str}
    assert cls.__lumi_schema__["properties"]["ref"]["pattern"] == "^[0-9a-fA-F]{24}$"  # validated
    assert core("n") == core("d") == core("dec") == {float}
    assert core("i") == core("l") == {int}
    assert core("b") == core("jb") == {bool}
    assert core("when") == {dt.datetime}
    assert core("tags") == {list[str]} and core("matrix") == {list[list[int]]}
    assert core("loose") == {list[Any]}
    assert core("maybe") == {str, type(None)}
    assert core("either") == {str, float}
    assert hints["anything"] == Any | Unset or core("anything") == {Any}
    assert core("meta") == {dict[str, Any]}
    (address,) = core("address")
    assert address.__name__ == "OrdersAddress" and attrs.has(address)
    assert fields_of(address)["city"].default is attrs.NOTHING
    assert [f.name for f in attrs.fields(address)][-1] == "extra"
    (item_list,) = core("items")
    assert attrs.has(typing.get_args(item_list)[0])


def test_unknown_type_becomes_any_with_a_warning() -> None:
    entity = entity_from_document(
        {"name": "x", "fields": {"rel": {"type": "belongs_to"}, "ok": {"type": "text"}}},
        fallback_name="x",
        source="x.json",
    )
    assert entity.warnings == ("x.json: rel: unknown type 'belongs_to'; the field is typed Any",)
    assert "type" not in entity.schema["properties"]["rel"]
    assert entity.schema["properties"]["ok"]["type"] == "string"


def test_enums_become_literals_whatever_the_values(tmp_path: Path) -> None:
    module = compile_entities(
        tmp_path,
        {
            "e.json": {
                "name": "e",
                "properties": {
                    "odd": {"type": "string", "enum": ["", "1st", "class", "None", "a b", "é"]},
                    "nums": {"type": "integer", "enum": [1, 2, 3]},
                    "status": {
                        "type": "string",
                        "options": [{"value": "open", "label": "Open"}, {"value": "done"}],
                    },
                },
            }
        },
    )
    hints = typing.get_type_hints(module.ENTITIES["e"])
    assert Literal["", "1st", "class", "None", "a b", "é"] in typing.get_args(hints["odd"])
    assert Literal[1, 2, 3] in typing.get_args(hints["nums"])
    assert Literal["open", "done"] in typing.get_args(hints["status"])


def test_datetime_fields(tmp_path: Path) -> None:
    module = compile_entities(
        tmp_path,
        {
            "ev.json": {
                "name": "events",
                "options": {
                    "validator": {
                        "$jsonSchema": {
                            "bsonType": "object",
                            "required": ["startsAt"],
                            "properties": {
                                "startsAt": {"bsonType": "string", "title": "datetime"},
                                "endsAt": {"type": "string", "format": "date-time"},
                                "day": {"type": "string", "format": "date"},
                                "label": {"bsonType": "string", "title": "Label"},
                            },
                        }
                    }
                },
            }
        },
    )
    cls = module.ENTITIES["events"]
    fields = fields_of(cls)
    hints = typing.get_type_hints(cls)
    assert hints["starts_at"] is dt.datetime
    assert fields["startsAt"].metadata == {"wire": "startsAt", "format": "date-time"}
    assert fields["endsAt"].metadata == {"wire": "endsAt", "format": "date-time"}
    assert fields["createdAt"].metadata == {"wire": "createdAt", "format": "date-time"}
    assert set(typing.get_args(hints["day"])) == {str, Unset}  # a date stays a string
    assert fields["label"].metadata == {"wire": "label"}
    assert cls.__lumi_schema__["properties"]["startsAt"]["format"] == "date-time"


# --- names ---------------------------------------------------------------------------------------


def test_any_property_name_gets_a_safe_python_name(tmp_path: Path) -> None:
    wires = [
        "class",
        "def",
        "None",
        "first name",
        "e-mail",
        "prénom",
        "1st place",
        "extra",
        "id",
        "objects",
        "get",
        "keys",
        "attrs",
        "UNSET",
        "datetime",
        "list",
        "type",
        "사용자",
        "userId",
        "user_id",
    ]
    properties: dict[str, Any] = {wire: {"type": "string"} for wire in wires}
    properties["list"] = {"type": "array", "items": {"type": "string"}}
    module = compile_entities(
        tmp_path, {"n.json": {"name": "names", "type": "object", "properties": properties}}
    )
    cls = module.ENTITIES["names"]
    names = {wire: field.name for wire, field in fields_of(cls).items()}
    assert names["class"] == "class_" and names["def"] == "def_" and names["None"] == "none"
    assert names["first name"] == "first_name" and names["e-mail"] == "e_mail"
    assert names["prénom"] == "prenom" and names["1st place"] == "field_1st_place"
    assert names["extra"] == "extra_" and names["id"] == "id_" and names["_id"] == "id"
    assert names["objects"] == "objects_" and names["get"] == "get_" and names["keys"] == "keys_"
    assert names["attrs"] == "attrs_" and names["UNSET"] == "unset"
    assert names["datetime"] == "datetime_"
    assert names["list"] == "list" and names["type"] == "type"
    assert names["사용자"] == "field"
    assert names["userId"] == "user_id" and names["user_id"] == "user_id_2"
    assert len(set(names.values())) == len(names)
    hints = typing.get_type_hints(cls)  # `list` the field does not hide `list` the type
    assert set(typing.get_args(hints["list"])) == {list[str], Unset}
    # the mixin's methods still work next to fields with clashing wire names
    record = cls(get_="g", keys_="k", extra={"more": 1})
    assert record["get"] == "g" and record.get("keys") == "k" and record.more == 1


def test_system_fields(tmp_path: Path) -> None:
    module = compile_entities(
        tmp_path,
        {
            "a.json": {"name": "plain", "properties": {"title": {"type": "string"}}},
            "b.json": {
                "name": "own_dates",
                "properties": {
                    "createdAt": {"type": "number"},
                    "created_at": {"type": "string"},
                    "creator": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
    )
    plain = fields_of(module.ENTITIES["plain"])
    assert {wire: f.name for wire, f in plain.items()} == {
        "_id": "id",
        "creator": "creator",
        "createdAt": "created_at",
        "updatedAt": "updated_at",
        "title": "title",
        None: "extra",
    }
    assert all(f.default is UNSET for wire, f in plain.items() if wire is not None)
    own = fields_of(module.ENTITIES["own_dates"])
    hints = typing.get_type_hints(module.ENTITIES["own_dates"])
    assert own["createdAt"].name == "created_at" and set(typing.get_args(hints["created_at"])) == {
        float,
        Unset,
    }
    assert own["created_at"].name == "created_at_2"
    assert "extra" not in {f.name for f in own.values()}  # additionalProperties: false
    assert module.ENTITIES["own_dates"].__lumi_schema__["additionalProperties"] is False


def test_lumi_schema_keeps_the_normalised_schema_for_validation(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    module = compile_entities(
        tmp_path,
        {
            "p.json": {
                "name": "products",
                "options": {
                    "validator": {
                        "$jsonSchema": {
                            "bsonType": "object",
                            "required": ["name", "price"],
                            "properties": {
                                "name": {"bsonType": "string", "maxLength": 5},
                                "price": {"bsonType": "double", "minimum": 0},
                                "sku": {"bsonType": "string", "x-ui": {"widget": "text"}},
                            },
                        }
                    }
                },
            }
        },
    )
    schema = module.ENTITIES["products"].__lumi_schema__
    assert schema["properties"]["price"] == {"minimum": 0, "type": "number"}
    assert schema["properties"]["sku"]["x-ui"] == {"widget": "text"}  # kept, not dropped
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"name": "pen", "price": 2.5})
    assert not validator.is_valid({"name": "too long", "price": 2.5})
    assert not validator.is_valid({"name": "pen"})


def test_round_trip_with_the_converter(tmp_path: Path) -> None:
    serde = pytest.importorskip("lumi.serde")
    module = compile_entities(
        tmp_path,
        {
            "t.json": {
                "name": "tasks",
                "$jsonSchema": {
                    "bsonType": "object",
                    "required": ["title"],
                    "properties": {
                        "title": {"bsonType": "string"},
                        "due": {"bsonType": "string", "title": "datetime"},
                        "sub": {"bsonType": "object", "properties": {"n": {"bsonType": "int"}}},
                    },
                },
            }
        },
    )
    cls = module.ENTITIES["tasks"]
    wire = {
        "_id": "6939311e8458665713e0b522",
        "title": "write",
        "due": "2026-03-01T10:00:00.000Z",
        "sub": {"n": 2, "note": "kept"},
        "createdAt": "2026-03-01T09:00:00.000Z",
        "unknown": [1],
    }
    task = serde.structure(wire, cls)
    assert task.due == dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    assert task.sub.n == 2 and task.sub.extra == {"note": "kept"}
    assert task.extra == {"unknown": [1]} and task["_id"] == wire["_id"]
    assert serde.unstructure(task) == wire


# --- the command ---------------------------------------------------------------------------------


def test_cli_writes_a_package_and_checks_it(tmp_path: Path) -> None:
    app = FIXTURES / "hclu1+delaval"
    if not app.is_dir():
        pytest.skip("fixture app missing")
    out = tmp_path / "delaval_models"
    runner = CliRunner()
    result = runner.invoke(codegen, [str(app), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["__init__.py", "models.py"]
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("delaval_models")
        assert len(package.ENTITIES) == 21 and package.Clients is package.ENTITIES["clients"]
    finally:
        sys.path.remove(str(tmp_path))
    assert runner.invoke(codegen, [str(app), "-o", str(out), "--check"]).exit_code == 0
    (out / "models.py").write_text("# edited\n")
    stale = runner.invoke(codegen, [str(app), "-o", str(out), "--check"])
    assert stale.exit_code == 1 and "stale" in stale.output


def test_cli_single_file_and_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text(
        json.dumps(
            {"name": "notes", "fields": {"text": {"type": "text"}, "rel": {"type": "weird"}}}
        )
    )
    runner = CliRunner()
    out = tmp_path / "notes_models.py"
    result = runner.invoke(codegen, [str(tmp_path / "notes.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "unknown type 'weird'" in result.output
    assert "class Notes(RecordAccess)" in out.read_text()
    (tmp_path / "bad.json").write_text("[1, 2]")
    failed = runner.invoke(codegen, [str(tmp_path / "bad.json"), "-o", str(tmp_path / "x.py")])
    assert (
        failed.exit_code == 1
        and "bad.json: an entity schema must be a JSON object" in failed.output
    )
    assert not (tmp_path / "x.py").exists()


# --- the README's section runs as written ----------------------------------------------------------


def test_readme_models_section_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    app = FIXTURES / "clemfoto+ELEGANCE-PHOTOGRAPHIE-APP"
    if not app.is_dir():
        pytest.skip("fixture app missing")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- section: models -->(.*?)<!-- /section: models -->", text, re.S)
    assert section is not None
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)  # ```py: excerpts
    assert len(blocks) == 2
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    out = tmp_path / "myapp" / "entities"
    result = CliRunner().invoke(codegen, [str(app), "-o", str(out)])
    assert result.exit_code == 0, result.output
    excerpt = re.search(r"```py\n(.*?)```", section.group(1), re.S)
    assert excerpt is not None
    generated = re.sub(r"[\s,]", "", (out / "models.py").read_text(encoding="utf-8"))
    checked = 0
    for line in excerpt.group(1).splitlines():  # the excerpt is what the command writes
        if line.strip() and "..." not in line:
            assert re.sub(r"[\s,]", "", line) in generated, line
            checked += 1
    assert checked >= 9
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    finally:
        for name in [name for name in sys.modules if name.startswith("myapp")]:
            del sys.modules[name]


def test_entity_named_like_a_nested_class_of_another(tmp_path: Path) -> None:
    module = compile_entities(
        tmp_path,
        {
            "a.json": {"name": "orders", "properties": {"address": {"properties": {}}}},
            "b.json": {"name": "orders_address", "properties": {"y": {"type": "string"}}},
        },
    )
    clash = module.ENTITIES["orders_address"]
    assert clash.__lumi_entity__ == "orders_address" and "y" in fields_of(clash)
    assert module.ENTITIES["orders"].__name__ == "Orders"


def test_defaults_are_not_applied_and_undeclared_required_names_are_ignored(
    tmp_path: Path,
) -> None:
    module = compile_entities(
        tmp_path,
        {
            "s.json": {
                "name": "sessions",
                "fields": {
                    "seen": {"type": "timestamp", "required": True, "default": "now()"},
                    "level": {"type": "string", "default": 0},
                },
            },
            "r.json": {
                "name": "rows",
                "type": "object",
                "required": ["ghost", "title"],
                "properties": {"title": {"type": "string"}},
            },
        },
    )
    sessions = fields_of(module.ENTITIES["sessions"])
    assert sessions["seen"].default is attrs.NOTHING  # required; "now()" is the server's business
    assert sessions["level"].default is UNSET
    assert module.ENTITIES["sessions"].__lumi_schema__["properties"]["level"]["default"] == 0
    rows = fields_of(module.ENTITIES["rows"])
    assert "ghost" not in rows and rows["title"].default is attrs.NOTHING


# --- output that belongs in a repository -------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    """A project (pyproject.toml) with src/entities holding two entity files."""
    root = tmp_path / "project"
    (root / "src" / "entities").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    for name in ("posts", "authors"):
        document = {"name": name, "fields": {"title": {"type": "string", "required": True}}}
        (root / "src" / "entities" / f"{name}.json").write_text(json.dumps(document))
    (root / "app").mkdir()
    return root


def test_header_names_inputs_relative_to_the_project(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = CliRunner().invoke(codegen, [str(root / "src" / "entities"), "-o", str(root / "app")])
    assert result.exit_code == 0, result.output
    for path in (root / "app" / "models.py", root / "app" / "__init__.py"):
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert head == [
            "# Generated by lumi codegen from src/entities.",
            "# DO NOT EDIT; regenerate with `lumi codegen src/entities -o app`.",
        ]
        assert str(tmp_path) not in path.read_text(encoding="utf-8")


def test_any_spelling_of_the_same_input_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    entities = root / "src" / "entities"
    (tmp_path / "link").symlink_to(root, target_is_directory=True)
    spellings: list[tuple[Path, list[str], str]] = [
        (root, ["src/entities"], "app"),
        (root, ["src/entities/"], "app/"),
        (root, ["./src/../src/entities"], "./app"),
        (root / "src", ["entities"], "../app"),
        (tmp_path, [str(entities)], str(root / "app")),
        (tmp_path, ["link/src/entities/"], "link/app"),
        (root, [str(entities / "posts.json"), str(entities / "authors.json")], "app"),
        (root, [str(entities / "authors.json"), "src/entities/posts.json"], "app"),
        (root, ["src/entities", str(entities)], "app"),  # the same folder twice
    ]
    outputs = []
    for cwd, paths, out in spellings:
        monkeypatch.chdir(cwd)
        result = CliRunner().invoke(codegen, [*paths, "-o", out])
        assert result.exit_code == 0, (paths, result.output)
        outputs.append({p.name: p.read_bytes() for p in sorted((root / "app").iterdir())})
        for name in ("models.py", "__init__.py"):
            (root / "app" / name).unlink()
    files = [f"src/entities/{n}.json" for n in ("authors", "posts")]
    assert outputs[-3]["models.py"].splitlines()[0].decode() == (
        f"# Generated by lumi codegen from {', '.join(files)}."
    )
    by_folder = outputs[:6] + outputs[-1:]
    assert all(output == by_folder[0] for output in by_folder)  # one folder, seven spellings
    assert outputs[-3] == outputs[-2]  # two files, in either order
    # --check agrees with every spelling, from anywhere
    monkeypatch.chdir(root)
    assert CliRunner().invoke(codegen, ["src/entities", "-o", "app"]).exit_code == 0
    for cwd, paths, out in spellings[:6]:
        monkeypatch.chdir(cwd)
        result = CliRunner().invoke(codegen, [*paths, "-o", out, "--check"])
        assert result.exit_code == 0, (paths, result.output)


def test_inputs_outside_the_project_are_named_without_their_folders(tmp_path: Path) -> None:
    root = _project(tmp_path)
    elsewhere = tmp_path / "shared" / "deep" / "schemas"
    shutil.copytree(root / "src" / "entities", elsewhere)
    result = CliRunner().invoke(codegen, [str(elsewhere), "-o", str(root / "app" / "m.py")])
    assert result.exit_code == 0, result.output
    head = (root / "app" / "m.py").read_text(encoding="utf-8").splitlines()[:2]
    assert head[0] == "# Generated by lumi codegen from schemas."
    assert "shared" not in "\n".join(head) and ".." not in "\n".join(head)


def test_without_a_project_marker_paths_are_relative_to_the_output_folder(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").unlink()
    if any((folder / ".git").exists() for folder in tmp_path.parents):
        pytest.skip("the temporary folder lies inside a repository")
    out = root / "app" / "models.py"
    result = CliRunner().invoke(codegen, [str(root / "src" / "entities"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    head = out.read_text(encoding="utf-8").splitlines()[0]
    assert head == "# Generated by lumi codegen from entities."  # outside app/: its name
