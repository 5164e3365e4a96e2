"""The signature scheme, checked against an independent JavaScript implementation of docs/protocol.md §2."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lumi import signing

# The canonical query as docs/protocol.md §2 states it, written in JavaScript (the reference language).
JS_CANONICAL = r"""
import fs from 'fs';
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const cases = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = cases.map((q) => Object.keys(q).sort().map((k) => `${enc(k)}=${enc(String(q[k]))}`).join('&'));
process.stdout.write(JSON.stringify(out));
"""

# No lone surrogates: encodeURIComponent throws on them, as quote() does.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalar = st.one_of(text, st.integers(-(10**15), 10**15), st.booleans())
value = st.one_of(scalar, st.lists(st.one_of(text, st.integers(-1000, 1000)), max_size=4))
queries = st.dictionaries(text, value, max_size=6)


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(queries, min_size=1, max_size=40))
def test_canonical_query_matches_javascript(node, batch):
    assert [signing.canonical_query(q) for q in batch] == node.run(JS_CANONICAL, batch)


def _independent_sign(query_string: str, timestamp: str, nonce: str, body: bytes) -> str:
    canonical = "\n".join(
        [
            query_string,
            f"x-nonce:{nonce}\nx-timestamp:{timestamp}",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    digest = hmac.new(signing.CLIENT_KEY.encode(), canonical.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_signature_of_a_known_request():
    body = b'{"filter":{"status":"active"}}'
    expected = _independent_sign("", "1700000000", "abc123def45", body)
    assert signing.signature(None, "1700000000", "abc123def45", body) == expected
    assert signing.verify({}, "1700000000", "abc123def45", body, expected)
    assert not signing.verify({}, "1700000001", "abc123def45", body, expected)


def test_array_query_is_signed_joined_by_commas():
    assert signing.canonical_query({"ids": ["a", "b"]}) == "ids=a%2Cb"
    assert signing.canonical_query({"b": True, "a": None, "c": 1.0}) == "a=null&b=true&c=1"


def test_rfc3986_encoding_of_reserved_characters():
    assert signing.encode_component("a b!'()*~") == "a%20b%21%27%28%29%2A~"
    assert signing.encode_component("é") == "%C3%A9"


def test_no_body_hashes_the_empty_string():
    assert signing.payload_hash(None) == hashlib.sha256(b"").hexdigest()


@given(st.integers(min_value=0, max_value=200))
def test_nonce_shape(_):
    nonce = signing.new_nonce()
    assert re.fullmatch(r"[0-9a-z]{11,13}", nonce)


def test_sign_headers_are_consistent():
    headers = signing.sign_headers({"ids": ["x"]}, b"{}", now=1_700_000_000.9)
    assert headers["X-Timestamp"] == "1700000000"
    assert headers["X-Sign"] == _independent_sign("ids=x", "1700000000", headers["X-Nonce"], b"{}")
