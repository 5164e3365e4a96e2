"""The converter on the classes `lumi codegen` writes for 39 real apps (220 entities): random wire
documents read and written back unchanged, misfit values kept raw, warnings naming them.

What "fits" a field is written out here independently of lumi (``fits`` below): the tests hold
the converter to that specification, field by field, on every generated class.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib.util
import logging
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lumi
from codegen import generate_entities
from lumi._unset import UNSET, Unset
from lumi.entity_schema import load_entity_schemas

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures" / "lumi-entities"
APPS = sorted(path for path in FIXTURES.iterdir() if path.is_dir()) if FIXTURES.is_dir() else []
CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # toISOString()


# -- the classes -------------------------------------------------------------------------------
def _load(app: Path, folder: Path) -> types.ModuleType:
    name = "serde_fixture_" + re.sub(r"\W", "_", app.name).lower()
    target = folder / f"{name}.py"
    code = generate_entities(load_entity_schemas([app]), source_name=app.name, regenerate_with="t")
    target.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # get_type_hints finds the module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, types.ModuleType]:
    if not APPS:
        pytest.skip(f"no fixtures at {FIXTURES}")
    folder = tmp_path_factory.mktemp("serde_fixtures")
    return {app.name: _load(app, folder) for app in APPS}


# -- the specification ---------------------------------------------------------------------------
@attrs.frozen
class Field:
    name: str
    wire: str
    type: Any
    required: bool


@functools.cache
def fields(cls: type) -> list[Field]:
    hints = typing.get_type_hints(cls, localns={})
    out = []
    for f in attrs.fields(cls):
        if f.metadata.get("extra"):
            continue
        out.append(Field(f.name, f.metadata["wire"], strip(hints[f.name]), f.default is attrs.NOTHING))
    return out


def has_extra(cls: type) -> bool:
    return any(f.metadata.get("extra") for f in attrs.fields(cls))


def strip(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(tp) if a is not Unset)
        return args[0] if len(args) == 1 else typing.Union[args]  # noqa: UP007
    return tp


def _float_holds(value: int) -> bool:
    try:
        return float(value) == value
    except OverflowError:
        return False


def fits(tp: Any, value: Any) -> bool:
    """Whether a wire value fits a field of type ``tp`` (and is written back unchanged)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True
    if tp in (str, int, bool):
        return type(value) is tp
    if tp is float:  # an int a float holds exactly (2**53 + 1 is not: it would come back changed)
        return type(value) is float or (type(value) is int and _float_holds(value))
    if tp is dt.datetime:
        return type(value) is str and CANONICAL.fullmatch(value) is not None
    if origin is typing.Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(value is None if a is type(None) else fits(a, value) for a in args)
    if origin is list:
        return type(value) is list and all(fits(args[0], item) for item in value)
    if origin is dict:
        return type(value) is dict
    if attrs.has(tp):  # nested classes are strict: every part must fit
        if type(value) is not dict:
            return False
        known = {f.wire: f for f in fields(tp)}
        if any(f.required and f.wire not in value for f in known.values()):
            return False
        if not has_extra(tp) and any(key not in known for key in value):
            return False
        return all(fits(known[key].type, item) for key, item in value.items() if key in known)
    raise AssertionError(f"no specification for {tp!r}")


# -- documents ---------------------------------------------------------------------------------
junk_text = st.text(alphabet="abxyz _-", max_size=6)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    junk_text,
    st.sampled_from(["2024-05-01", "2024-13-01T00:00:00Z", "tractor", "active", "", "0"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(junk_text, inner, max_size=3)
    ),
    max_leaves=5,
)


def canonical(moment: dt.datetime) -> str:
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def fitting(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return json_value
    if tp is str:
        return st.text(max_size=8)
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-9, 9))
    if tp is bool:
        return st.booleans()
    if tp is dt.datetime:
        return st.datetimes().map(canonical)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([st.none() if a is type(None) else fitting(a, depth) for a in args])
    if origin is list:
        return st.lists(fitting(args[0], depth + 1), max_size=2 if depth < 2 else 0)
    if origin is dict:
        return st.dictionaries(junk_text, json_value, max_size=2)
    if attrs.has(tp):
        return documents(tp, depth + 1, misfits=False)
    raise AssertionError(f"no strategy for {tp!r}")


@functools.cache
def documents(cls: type, depth: int = 0, misfits: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Wire documents of ``cls``: each field absent, fitting, or (with ``misfits``) any JSON."""
    known = fields(cls)
    wires = {f.wire for f in known}
    parts = {}
    for f in known:
        options = [st.just(UNSET), fitting(f.type, depth)]
        if misfits:
            options.append(json_value)
        elif f.required:
            options = options[1:]
        parts[f.wire] = st.one_of(options)
    body = st.fixed_dictionaries(parts).map(
        lambda d: {key: value for key, value in d.items() if value is not UNSET}
    )
    if not has_extra(cls):
        return body
    extra_keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in wires and k != "id")
    extras = st.dictionaries(extra_keys, json_value, max_size=3)
    return st.tuples(body, extras).map(lambda pair: {**pair[0], **pair[1]})


# -- the properties ------------------------------------------------------------------------------
@contextlib.contextmanager
def lumi_warnings() -> typing.Iterator[list[logging.LogRecord]]:
    """The records the ``lumi`` logger emits inside the block (caplog is per test, not per
    example)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("lumi")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize("app", [app.name for app in APPS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_documents_read_and_write_back_unchanged(
    app: str, modules: dict[str, types.ModuleType], data: st.DataObject
) -> None:
    entities = modules[app].ENTITIES
    cls = entities[data.draw(st.sampled_from(sorted(entities)), label="entity")]
    document = data.draw(documents(cls), label="document")
    with lumi_warnings() as records:
        record = lumi.structure(document, cls)
    warned = "\n".join(r.getMessage() for r in records)

    assert lumi.unstructure(record) == document  # nothing lost, nothing added, nothing moved
    declared = {f.wire for f in fields(cls)}
    for f in fields(cls):
        value = getattr(record, f.name)
        if f.wire not in document:
            assert value is UNSET, f.wire
            if f.required:
                assert f.wire in warned  # "missing required (read as UNSET): ..."
        elif fits(f.type, document[f.wire]):
            assert value is not UNSET, f.wire
            assert f.wire not in record.extra
            if f.type in (str, int, bool) or typing.get_origin(f.type) is typing.Literal:
                assert value == document[f.wire] and type(value) is type(document[f.wire])
            if f.type is float:
                assert type(value) is float and value == document[f.wire]
            if f.type is dt.datetime:
                assert value.tzinfo is dt.timezone.utc and canonical(value) == document[f.wire]
        else:  # a misfit: kept raw, the field UNSET, a warning naming it
            assert value is UNSET, f.wire
            assert record.extra[f.wire] == document[f.wire]
            assert record[f.wire] == document[f.wire]  # still readable by its wire key
            assert f"{f.wire} (" in warned
    undeclared = {k: v for k, v in document.items() if k not in declared}
    assert {k: v for k, v in record.extra.items() if k not in declared} == undeclared
    if not warned:
        assert all(fits(f.type, document[f.wire]) for f in fields(cls) if f.wire in document)


@pytest.mark.parametrize("app", [app.name for app in APPS])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fitting_documents_read_without_a_warning_and_in_bulk(
    app: str, modules: dict[str, types.ModuleType], data: st.DataObject
) -> None:
    entities = modules[app].ENTITIES
    cls = entities[data.draw(st.sampled_from(sorted(entities)), label="entity")]
    batch = data.draw(st.lists(documents(cls, misfits=False), max_size=4), label="documents")
    with lumi_warnings() as warnings:
        records = lumi.structure(batch, list[cls])  # type: ignore[valid-type]
    assert not warnings
    assert [type(r) for r in records] == [cls] * len(batch)
    assert lumi.unstructure(records) == batch
    # Reading an already-typed record gives it back; writing twice gives the same JSON.
    assert [lumi.structure(r, cls) for r in records] == records
    assert lumi.unstructure(lumi.structure(lumi.unstructure(records), list[cls])) == batch  # type: ignore[valid-type]


def test_every_fixture_entity_is_covered(modules: dict[str, types.ModuleType]) -> None:
    classes = [cls for module in modules.values() for cls in module.ENTITIES.values()]
    assert len(classes) == 220
    kinds = {typing.get_origin(f.type) or f.type for cls in classes for f in fields(cls)}
    # every kind of field the specification knows appears in the fixtures
    assert {str, int, float, bool, dt.datetime, list, dict, typing.Literal, typing.Union} <= kinds
    assert any(isinstance(kind, type) and attrs.has(kind) for kind in kinds)  # nested classes
