"""The emulator's router matches as Werkzeug's ``Map(strict_slashes=False, merge_slashes=False)``
did for every path a request can carry (differential, hypothesis), and refuses bad tables."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from lumi.emulator.app import ROUTES
from lumi.emulator.routing import MethodNotAllowed, NoRoute, Router

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"]
_WERKZEUG = Map(
    [
        Rule(path, methods=methods, endpoint=str(i))
        for i, (path, methods, _, _) in enumerate(ROUTES)
    ],
    strict_slashes=False,
    merge_slashes=False,
).bind("emulator")
_ROUTER = Router((path, methods, str(i)) for i, (path, methods, _, _) in enumerate(ROUTES))
#: Every literal segment of the table, so that generated paths reach real routes.
_LITERALS = sorted(
    {part for path, _, _, _ in ROUTES for part in path.split("/") if part and "<" not in part}
)


def _werkzeug(path: str, method: str) -> Any:
    try:
        endpoint, values = _WERKZEUG.match(path, method)
    except NotFound:
        return "404"
    except WerkzeugMethodNotAllowed as exc:
        return ("405", sorted(exc.valid_methods or []))
    return endpoint, values


def _ours(path: str, method: str) -> Any:
    try:
        return _ROUTER.match(path, method)
    except NoRoute:
        return "404"
    except MethodNotAllowed as exc:
        return ("405", exc.allowed)


_SEGMENT = st.one_of(
    st.sampled_from(_LITERALS),
    st.sampled_from(["", "p1", "x", "0123456789abcdef01234567", "a b", "%2F", "é", "\n", "<id>"]),
    st.text(st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), max_size=6),
)


@st.composite
def _near_a_route(draw: st.DrawFn) -> list[str]:
    """A route's segments, each kept, or replaced by any segment; one may be added or dropped."""
    path = draw(st.sampled_from([path for path, _, _, _ in ROUTES]))
    segments = [
        draw(_SEGMENT) if draw(st.integers(0, 7)) == 0 else part.replace("<", "").replace(">", "")
        for part in path.strip("/").split("/")
    ]
    change = draw(st.integers(0, 5))
    if change == 0:
        segments.insert(draw(st.integers(0, len(segments))), draw(_SEGMENT))
    elif change == 1 and segments:
        segments.pop(draw(st.integers(0, len(segments) - 1)))
    return segments


@settings(max_examples=3000, deadline=None)
@given(
    segments=st.one_of(_near_a_route(), st.lists(_SEGMENT, max_size=7)),
    trailing=st.sampled_from(["", "/", "//"]),
    method=st.sampled_from(METHODS),
)
def test_matches_as_werkzeug_did(segments: list[str], trailing: str, method: str) -> None:
    # Werkzeug's Request.path always starts with exactly one "/" (it strips the others).
    path = "/" + ("/".join(segments) + trailing).lstrip("/")
    expected = _werkzeug(path, method)
    if expected == "404" and not path.endswith("/"):
        # Werkzeug's one quirk here: a route written with a trailing slash, asked without it
        # by a method it does not take, is "not found"; we say which methods it takes (405),
        # as Werkzeug itself does when the slash is there.
        slashed = _werkzeug(path + "/", method)
        expected = slashed if slashed[0] == "405" else expected
    assert _ours(path, method) == expected, path


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, ms, _, _ in ROUTES for m in ms])
def test_every_route_of_the_table_is_reached(path: str, method: str) -> None:
    concrete = path.replace("<", "").replace(">", "")  # "<id>" -> "id": a plain value
    assert _ours(concrete, method) == _werkzeug(concrete, method) != "404"
    slashed = "/" + (concrete + "/").lstrip("/")
    assert _ours(slashed, method) == _werkzeug(slashed, method)


def test_literal_segments_win_over_values() -> None:
    router = Router([("/a/<x>", ["GET"], "value"), ("/a/b", ["GET"], "literal")])
    assert router.match("/a/b", "GET") == ("literal", {})
    assert router.match("/a/c", "GET") == ("value", {"x": "c"})
    assert router.match("/a/c/", "HEAD") == ("value", {"x": "c"})
    with pytest.raises(MethodNotAllowed) as refused:
        router.match("/a/b", "POST")
    assert refused.value.allowed == ["GET", "HEAD"]
    with pytest.raises(NoRoute):
        router.match("/a/b//", "GET")
    with pytest.raises(NoRoute):
        router.match("/a//", "GET")  # a value is never empty


def test_first_answers_a_preflight_for_any_method() -> None:
    router = Router([("/a/<x>", ["DELETE"], "delete"), ("/a/b", ["POST"], "post")])
    assert router.first("/a/b") == ("post", {})
    assert router.first("/a/z") == ("delete", {"x": "z"})
    with pytest.raises(NoRoute):
        router.first("/b")


def test_a_rest_of_path_value_takes_slashes_and_comes_last() -> None:
    router = Router([("/s/<path:rest>", ["GET"], "rest"), ("/s/<x>", ["GET"], "one")])
    assert router.match("/s/a", "GET") == ("one", {"x": "a"})
    assert router.match("/s/a/b", "GET") == ("rest", {"rest": "a/b"})
    assert router.match("/s/a/b/", "GET") == ("rest", {"rest": "a/b/"})
    with pytest.raises(NoRoute):
        router.match("/s//a", "GET")


@pytest.mark.parametrize("path", ["/a/<x>/<x>", "/a/b<x>", "/a/<x-y>", "/a/<path:x>/b"])
def test_a_bad_table_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="route"):
        Router([(path, ["GET"], "t")])
