"""The one document client under ``client.entities.X`` and typed repositories: sort forms, the
JavaScript options object, ``iterate``/``count``/``first``, iterable pages, and replies a server
got wrong (only ``LumiError`` subclasses leave an iterator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lumi
from lumi import LumiClient
from lumi.data import formats as formats_module
from lumi.data import repository
from lumi.data.cli import entities
from lumi.data.formats import read_rows
from lumi.sorting import SORT_FORMS, sort_pairs

from .conftest import CallSpy

BASE = "https://api.example.test"
PID = "p1"
URL = f"{BASE}/lm/{PID}/Posts/documents"


def ok(data: Any = None) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": data}


@pytest.fixture
def offline() -> LumiClient:
    return lumi.create_client(
        project_id=PID, api_base_url=BASE, rate_limit=None, retry=lumi.RetryPolicy.none()
    )


# -- sort forms ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("form", "pairs"),
    [
        ({"views": -1, "title": 1}, [("views", -1), ("title", 1)]),
        ("-views", [("views", -1)]),
        ("views", [("views", 1)]),
        ("+views", [("views", 1)]),
        ("-views, title", [("views", -1), ("title", 1)]),
        (["-views", "title"], [("views", -1), ("title", 1)]),
        ([("views", -1), ("title", 1)], [("views", -1), ("title", 1)]),
        ([["views", -1]], [("views", -1)]),
        (("views", -1), [("views", -1)]),
        (["-views", ("title", "desc")], [("views", -1), ("title", -1)]),
        ({"views": "DESC", "title": "ascending"}, [("views", -1), ("title", 1)]),
        ({"stats.total": -1}, [("stats.total", -1)]),
        ({}, []),
        ([], []),
        (None, []),
    ],
)
def test_every_sort_form_reads_the_same(form: Any, pairs: list[tuple[str, int]]) -> None:
    assert sort_pairs(form) == pairs


@pytest.mark.parametrize(
    "form",
    [
        {"views": 2},
        {"views": True},
        {"views": 1.0},
        {"views": "down"},
        {5: 1},
        {"$views": 1},
        {"a..b": 1},
        "",
        "-",
        "a,,b",
        ["views", 3],
        [("views", 1, 2)],
        ["a", "-a"],
        5,
        {"views"},
        b"views",
    ],
)
def test_other_sorts_are_refused_naming_the_forms(form: Any, offline: LumiClient) -> None:
    with pytest.raises(lumi.ValidationError) as caught:
        sort_pairs(form)
    assert SORT_FORMS in caught.value.message
    with responses.RequestsMock():  # refused before any request
        with pytest.raises(lumi.ValidationError, match="write it as"):
            offline.entities.Posts.list(sort=form)
        with pytest.raises(lumi.ValidationError, match="write it as"):
            offline.entities.Posts.iterate(sort=form)


@responses.activate
def test_list_iterate_first_send_the_sort_users_write(offline: LumiClient) -> None:
    responses.post(f"{URL}/list", json=ok([]))
    responses.post(f"{URL}/listByPage", json=ok({"list": [], "total": 0}))
    posts = offline.entities.Posts
    for form in ({"views": -1}, "-views", ["-views"], [("views", -1)]):
        posts.list(sort=form)
        assert json.loads(responses.calls[-1].request.body) == {"sort": {"views": -1}}
        list(posts.iterate(sort=form, page_size=7))
        assert json.loads(responses.calls[-1].request.body) == {
            "filter": {},
            "sort": {"views": -1, "_id": 1},
            "limit": 7,
            "skip": 0,
        }
        posts.first(sort=form)
        assert json.loads(responses.calls[-1].request.body)["sort"] == {"views": -1, "_id": 1}


def test_typed_list_and_order_by_take_the_same_forms(
    client: LumiClient, auto_escola: Any, spy: CallSpy
) -> None:
    questions = repository(client, auto_escola.ENTITIES["questions"], validation="off")
    cls = auto_escola.ENTITIES["questions"]
    for form in ("-createdAt", ["-createdAt"], {"createdAt": -1}):
        questions.list(sort=form)
        assert spy.bodies[-1] == {"sort": {"createdAt": -1}}
    for form in ("-created_at,question", ["-created_at", "question"], {"created_at": -1,
                 "question": 1}, [("created_at", -1), ("question", 1)]):  # fmt: skip
        query = questions.order_by(form)
        assert query.compile().sort == {"createdAt": -1, "question": 1, "_id": 1}
    assert questions.order_by("-created_at", "question").compile().sort == {
        "createdAt": -1,
        "question": 1,
        "_id": 1,
    }
    with pytest.raises(lumi.ValidationError, match="order_by names 'question' twice"):
        questions.order_by("question", {"question": -1})
    with pytest.raises(lumi.ValidationError, match="unknown field"):
        questions.order_by({"nope": 1})
    assert cls.__lumi_entity__ == "questions"


def test_the_cli_takes_the_sort_forms(env: dict[str, str], client: LumiClient) -> None:
    client.entities.items.create_many([{"n": n} for n in (2, 3, 1)])
    for form in ("-n", '{"n": -1}', '[["n", -1]]', '["-n"]'):
        done = CliRunner().invoke(entities, ["list", "items", "--sort", form])
        assert done.exit_code == 0, done.output
        assert [r["n"] for r in json.loads(done.stdout)] == [3, 2, 1], form
    bad = CliRunner().invoke(entities, ["list", "items", "--sort", '{"n": 5}'])
    assert bad.exit_code == 2 and "write it as" in bad.output


# -- the JavaScript options object ---------------------------------------------------------------
@responses.activate
def test_the_js_options_object_is_the_keyword_form(offline: LumiClient) -> None:
    responses.post(f"{URL}/listByPage", json=ok({"list": [], "total": 0}))
    responses.post(f"{URL}/list", json=ok([]))
    posts = offline.entities.Posts
    js = {"filter": {"published": True}, "sort": {"createdAt": -1}, "limit": 10, "skip": 0}
    posts.list(js)
    posts.list(filter={"published": True}, sort={"createdAt": -1}, limit=10, skip=0)
    assert responses.calls[0].request.body == responses.calls[1].request.body
    posts.list({"filter": {"a": 1}})
    assert json.loads(responses.calls[-1].request.body) == {"filter": {"a": 1}}
    posts.list({})  # no option at all
    assert responses.calls[-1].request.body == b"{}"
    list(posts.iterate({"filter": {"a": 1}, "limit": 3}))
    assert json.loads(responses.calls[-1].request.body)["filter"] == {"a": 1}
    assert posts.count({"filter": {"a": 1}}) == 0
    assert posts.first({"filter": {"a": 1}, "sort": "-a"}) is None


@pytest.mark.parametrize("method", ["list", "iterate", "count", "first"])
def test_anything_else_positional_is_refused_showing_the_keyword_form(
    offline: LumiClient, method: str
) -> None:
    call = getattr(offline.entities.Posts, method)
    with responses.RequestsMock():
        for positional in ({"status": "published"}, {"filter": {}, "status": 1}, ["a"], "x"):
            with pytest.raises(lumi.ValidationError) as caught:
                call(positional)
            assert f"{method}(filter=..." in caught.value.message
            assert f"{method}(filter={{...}})" in caught.value.message
        with pytest.raises(lumi.ValidationError, match="not both"):
            call({"filter": {}}, filter={"a": 1})


def test_typed_list_takes_the_options_object_too(
    client: LumiClient, auto_escola: Any, spy: CallSpy
) -> None:
    questions = repository(client, auto_escola.ENTITIES["questions"], validation="off")
    page = questions.list({"filter": {"active": True}, "sort": {"createdAt": -1}, "limit": 5})
    assert spy.bodies[-1] == {
        "filter": {"active": True},
        "sort": {"createdAt": -1},
        "limit": 5,
    }
    assert page.total == 0 and list(page) == [] and len(page) == 0
    with pytest.raises(lumi.ValidationError, match=r"list\(filter="):
        questions.list({"active": True})
    with pytest.raises(lumi.ValidationError, match=r"list\(filter="):
        questions.list(lumi.data.Q(active=True))  # type: ignore[arg-type]


# -- iterate, count, first, iterable pages -------------------------------------------------------
def test_untyped_conveniences_against_the_emulator(client: LumiClient) -> None:
    posts = client.entities.Posts
    posts.create_many([{"title": f"t{n}", "views": n % 4} for n in range(11)])
    page = posts.list(sort="-views", limit=4)
    assert isinstance(page, lumi.Page) and len(page) == 4 and page.total == 11
    assert [p["views"] for p in page] == [3, 3, 2, 2]
    assert posts.count() == 11 and posts.count(filter={"views": 0}) == 3
    assert posts.first(sort="-views", filter={"views": {"$lt": 3}})["views"] == 2
    assert posts.first(filter={"views": 9}) is None
    everything = list(posts.iterate(sort=["-views", "title"], page_size=3))
    assert [(p["views"], p.title) for p in everything] == sorted(
        ((n % 4, f"t{n}") for n in range(11)), key=lambda pair: (-pair[0], pair[1])
    )
    assert [p.title for p in posts.iterate(filter={"views": 1}, limit=2, skip=1)] == ["t5", "t9"]
    assert list(posts.iterate(filter={"views": 99})) == []
    with pytest.raises(lumi.ValidationError, match="page_size must be a positive integer"):
        posts.iterate(page_size=0)
    with pytest.raises(lumi.ValidationError, match="limit must be a positive integer"):
        posts.iterate(limit=0)
    with pytest.raises(lumi.ValidationError, match="skip must be a non-negative integer"):
        posts.iterate(skip=-1)
    with pytest.raises(lumi.ValidationError, match="filter must be a mapping"):
        posts.iterate(filter="views=1")


# -- replies a server got wrong ------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
records = st.one_of(
    json_values,
    st.fixed_dictionaries({"_id": json_values, "views": json_values}),
    st.fixed_dictionaries({"_id": st.sampled_from(["a", "b", "c"]), "views": json_values}),
)
page_replies = st.one_of(
    json_values,
    st.fixed_dictionaries({"list": json_values, "total": json_values}),
    st.fixed_dictionaries(
        {"list": st.lists(records, max_size=4), "total": st.integers(-2, 9) | json_values}
    ),
)


@given(
    replies=st.lists(page_replies, min_size=1, max_size=4), sort=st.sampled_from([None, "-views"])
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_iteration_over_garbage_replies_raises_only_lumi_errors(
    offline: LumiClient, replies: list[Any], sort: Any
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        for reply in replies:
            mocked.post(f"{URL}/listByPage", json=ok(reply))
        mocked.post(f"{URL}/listByPage", body="<html>proxy error</html>")
        try:
            for record in offline.entities.Posts.iterate(sort=sort, page_size=3):
                assert isinstance(record, lumi.Record)
        except lumi.LumiError:
            pass


def test_garbage_replies_name_what_was_wrong(offline: LumiClient) -> None:
    cases = [
        (None, "expected {list, total}"),
        ({"list": [], "total": -1}, "total is not a count"),
        ({"list": [], "total": True}, "total is not a count"),
        ({"list": "x", "total": 1}, "expected a list of records"),
        ({"list": [3], "total": 1}, "expected a list of records"),
        ({"list": [{"views": 1}], "total": 1}, "_id is not a string"),
        ({"list": [{"_id": 5}], "total": 1}, "_id is not a string"),
    ]
    for reply, message in cases:
        with responses.RequestsMock() as mocked:
            mocked.post(f"{URL}/listByPage", json=ok(reply))
            with pytest.raises(lumi.InvalidResponseError, match=message):
                list(offline.entities.Posts.iterate())
    deep: Any = 1
    for _ in range(3000):
        deep = [deep]
    with responses.RequestsMock() as mocked:
        mocked.post(f"{URL}/listByPage", body=json.dumps(ok({"list": [{"_id": "a", "v": 1}],
                                                                "total": 1})))  # fmt: skip
        assert len(list(offline.entities.Posts.iterate(sort="v"))) == 1
    plan_error = None
    try:
        from lumi.keyset import SortPlan

        plan = SortPlan([("v", 1)])
        plan.key(plan.values({"_id": "a", "v": [deep, [deep]]}))
    except lumi.LumiError as exc:
        plan_error = exc
    assert isinstance(plan_error, lumi.InvalidResponseError)


# -- the JSON-array reader -----------------------------------------------------------------------
json_objects = st.dictionaries(st.text(max_size=4), json_values, max_size=4)


@given(
    items=st.lists(json_objects, max_size=8),
    indent=st.sampled_from([None, 0, 2]),
    chunk=st.integers(1, 40),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_json_array_reader_reads_what_json_loads_reads(
    items: list[dict[str, Any]],
    indent: int | None,
    chunk: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(formats_module, "_CHUNK", chunk)
    source = tmp_path / "items.json"
    source.write_text(json.dumps(items, indent=indent, ensure_ascii=False), encoding="utf-8")
    rows = list(read_rows(source, "json"))
    assert [row.data for row in rows] == items
    assert [row.where for row in rows] == [f"item {n + 1}" for n in range(len(items))]
    if items:
        source.write_text(json.dumps(items)[:-1], encoding="utf-8")  # cut short
        cut = list(read_rows(source, "json"))
        assert cut[-1].fatal and "not valid JSON" in (cut[-1].error or "")
