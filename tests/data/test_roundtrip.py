"""Documents generated from real entity schemas round-trip exactly through the generated classes:
``unstructure(structure(doc, cls)) == doc``, undeclared keys (``extra``) included, at every level.
(tests/test_entity_codegen.py has one hand-written example; this covers the fixture app's
entities with generated documents.)"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumi import structure, unstructure

from .conftest import AUTO_ESCOLA

ENTITY_NAMES = sorted(path.stem for path in AUTO_ESCOLA.glob("*.json"))

json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
iso_datetimes = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")
object_ids = st.text("0123456789abcdef", min_size=24, max_size=24)


def for_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a (normalised) JSON Schema node, as they appear on the wire."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([for_schema({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "string":
        return iso_datetimes if schema.get("format") == "date-time" else st.text(max_size=10)
    if kind == "integer":
        return st.integers(-(2**31), 2**31)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = schema.get("items")
        return st.lists(for_schema(items) if items else json_values, max_size=3)
    if kind == "object":
        if "properties" in schema:
            return documents(schema)
        return st.dictionaries(st.text(max_size=5), json_values, max_size=3)
    return json_values


def extra_keys(declared: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    names = st.text(string.ascii_letters, min_size=1, max_size=6).filter(
        lambda n: n not in declared and n not in ("id", "_id")
    )
    return st.dictionaries(names, json_values, max_size=3)


@st.composite
def documents(draw: st.DrawFn, schema: dict[str, Any], system: bool = False) -> dict[str, Any]:
    properties = dict(schema.get("properties", {}))
    if system:
        properties.setdefault("_id", {"type": "string"})
        properties.setdefault("creator", {"type": ["string", "null"]})
        properties.setdefault("createdAt", {"type": "string", "format": "date-time"})
        properties.setdefault("updatedAt", {"type": "string", "format": "date-time"})
    required = set(schema.get("required", []))
    document: dict[str, Any] = {}
    for name, spec in properties.items():
        if name in required or draw(st.booleans()):
            value = draw(object_ids if name == "_id" else for_schema(spec))
            document[name] = value
    if schema.get("additionalProperties", True) is not False:
        document.update(draw(extra_keys(set(properties))))
    return document


@pytest.mark.parametrize("entity", ENTITY_NAMES)
def test_generated_documents_round_trip_exactly(auto_escola: Any, entity: str) -> None:
    cls = auto_escola.ENTITIES[entity]

    @given(documents(cls.__lumi_schema__, system=True))
    @settings(max_examples=40, deadline=None)
    def round_trip(document: dict[str, Any]) -> None:
        record = structure(document, cls)
        assert unstructure(record) == document
        assert structure(unstructure(record), cls) == record

    round_trip()
