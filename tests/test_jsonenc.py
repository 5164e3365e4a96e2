"""Bodies are byte-identical to JavaScript's JSON.stringify (they are signed)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from lumi.jsonenc import dumps, js_number

JS_STRINGIFY = r"""
import fs from 'fs';
const values = JSON.parse(fs.readFileSync(0, 'utf8'));
// Floats travel as strings (repr) so that JSON.parse on the JS side sees the exact double.
const revive = (v) => Array.isArray(v) ? v.map(revive)
  : (v && typeof v === 'object') ? (v.__f !== undefined ? Number(v.__f) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)])))
  : v;
process.stdout.write(JSON.stringify(values.map((v) => JSON.stringify(revive(v)))));
"""

floats = st.floats(allow_nan=False, allow_infinity=False)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    floats,
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _to_transport(value):
    if isinstance(value, float):
        return {"__f": repr(value)}
    if isinstance(value, list):
        return [_to_transport(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_transport(v) for k, v in value.items()}
    return value


@settings(max_examples=20, deadline=None)
@given(batch=st.lists(values, min_size=1, max_size=50))
def test_dumps_matches_json_stringify(node, batch):
    batch = [v for v in batch if not (isinstance(v, dict) and "__f" in v)]
    expected = node.run(JS_STRINGIFY, [_to_transport(v) for v in batch])
    assert [dumps(v) for v in batch] == expected


def test_numbers_in_javascript_form():
    assert (
        dumps({"a": 1.0, "b": 1e-5, "c": 1e21, "d": -0.0}) == '{"a":1,"b":0.00001,"c":1e+21,"d":0}'
    )
    assert js_number(math.nan) == "null"


def test_non_ascii_is_raw_utf8_and_lone_surrogates_are_escaped():
    assert dumps({"t": "é😀"}).encode() == '{"t":"é😀"}'.encode()
    assert dumps("\ud800") == '"\\ud800"'
    assert json.loads(dumps({"x": [1, "\n"]})) == {"x": [1, "\n"]}
