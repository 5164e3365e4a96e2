"""The converter: round trips of every generated class, unknown fields, ids, strictness."""

from __future__ import annotations

import datetime as dt
import inspect
import types
import typing
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lumi
from lumi._generated import events as event_models
from lumi._generated import models
from lumi._record import RecordAccess
from lumi._unset import UNSET, Unset

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=8))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


def strategy_for(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    if tp is Any:
        return json_value
    if tp is str:
        return st.text(max_size=10)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is type(None):
        return st.none()
    if tp is Unset:
        return st.just(UNSET)
    if tp is dt.datetime:
        return st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return st.one_of([strategy_for(a, depth) for a in typing.get_args(tp)])
    if origin is list:
        (item,) = typing.get_args(tp)
        return st.lists(strategy_for(item, depth + 1), max_size=2 if depth < 2 else 0)
    if origin is dict:
        _, value = typing.get_args(tp)
        return st.dictionaries(st.text(max_size=6), strategy_for(value, depth + 1), max_size=2)
    if attrs.has(tp):
        return instances(tp, depth + 1)
    raise AssertionError(f"no strategy for {tp!r}")


def instances(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls, localns={})
    fields = attrs.fields(cls)
    wire_names = {f.metadata.get("wire") for f in fields} | {"id"}
    kwargs = {}
    for field in fields:
        if field.metadata.get("extra"):
            keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in wire_names)
            kwargs[field.alias] = st.dictionaries(keys, json_value, max_size=3)
        else:
            kwargs[field.alias] = strategy_for(hints[field.name], depth)
    return st.builds(cls, **kwargs)


GENERATED = [
    cls
    for module in (models, event_models)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if attrs.has(cls) and cls.__module__ == module.__name__
]


def test_there_are_generated_classes_to_check():
    assert {"User", "Record", "Page", "Message", "StreamChunk", "UploadItem"} <= {c.__name__ for c in GENERATED}


@pytest.mark.parametrize("cls", GENERATED, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_structure_unstructure_is_the_identity(cls, data):
    obj = data.draw(instances(cls))
    wire = lumi.unstructure(obj)
    assert lumi.structure(wire, cls) == obj
    assert lumi.unstructure(lumi.structure(wire, cls)) == wire


def test_unknown_fields_are_kept_and_written_back():
    wire = {"userId": "u1", "email": "a@b.c", "userRole": "USER", "plan": {"tier": "pro"}}
    user = lumi.structure(wire, lumi.User)
    assert user.extra == {"plan": {"tier": "pro"}}
    assert lumi.unstructure(user) == wire


def test_record_id_accepts_both_spellings_and_writes_underscore():
    for key in ("_id", "id"):
        record = lumi.structure({key: "6939311e8458665713e0b522", "title": "t"}, lumi.Record)
        assert record.id == "6939311e8458665713e0b522"
        assert lumi.unstructure(record) == {"_id": "6939311e8458665713e0b522", "title": "t"}
    record = lumi.structure({"_id": "a", "createdAt": "2026-03-01T10:00:00.000Z", "n": 1}, lumi.Record)
    assert record["_id"] == "a" and record["createdAt"] == "2026-03-01T10:00:00.000Z"
    assert record.n == 1 and record.get("missing") is None and "n" in record
    with pytest.raises(AttributeError, match="missing"):
        record.missing  # noqa: B018


def test_unset_is_left_out_and_none_is_null():
    message = lumi.Message(role="user", content="hi")
    assert lumi.unstructure(message) == {"role": "user", "content": "hi"}
    assert lumi.structure({"userId": "u", "email": "e", "userName": None}, lumi.User).user_name is None
    assert lumi.unstructure(lumi.User(user_id="u", email="e", user_name=None))["userName"] is None


@pytest.mark.parametrize(
    ("wire", "field"),
    [
        ({"userId": 5, "email": "e"}, "userId"),
        ({"userId": None, "email": "e"}, "userId"),
        ({"userId": "u", "email": "e", "userRole": "ROOT"}, "userRole"),
        ({"email": "e"}, "userId"),
        ("not an object", "User"),
    ],
)
def test_bad_data_names_the_field(wire, field):
    with pytest.raises(lumi.SchemaError) as info:
        lumi.structure(wire, lumi.User)
    assert field in info.value.message


def test_datetimes_are_written_like_javascript():
    from lumi.serde import format_datetime, parse_datetime

    moment = dt.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert format_datetime(moment) == "2026-03-01T10:00:00.123Z"
    assert lumi.unstructure({"at": moment}) == {"at": "2026-03-01T10:00:00.123Z"}
    assert parse_datetime("2026-03-01T12:00:00+02:00") == dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)


@attrs.define(kw_only=True)
class _Lesson(RecordAccess):  # like the classes `lumi codegen` writes
    __lumi_entity__: typing.ClassVar[str] = "lessons"
    status: typing.Literal["open", "done"] = attrs.field(metadata={"wire": "status"})
    starts: dt.datetime | Unset = attrs.field(default=UNSET, metadata={"wire": "starts"})
    extra: dict[str, Any] = attrs.field(factory=dict, metadata={"extra": True})


def test_entity_documents_that_do_not_fit_are_read_leniently(caplog):
    stored = {"status": "cancelled", "starts": "2024-05-01", "room": 3}
    with caplog.at_level("WARNING", logger="lumi"):
        lesson = lumi.structure(stored, _Lesson)
    assert lesson.status is UNSET and lesson.starts is UNSET
    assert lesson.extra == stored  # kept raw, so writing it back changes nothing
    assert lumi.unstructure(lesson) == stored
    assert "status" in caplog.text and "starts" in caplog.text
    assert lumi.structure({"room": 1}, _Lesson).status is UNSET  # missing required: UNSET
    with pytest.raises(lumi.SchemaError, match="status"):  # API models stay strict
        lumi.structure({"status": "cancelled"}, _Strict)


@attrs.define(kw_only=True)
class _Strict:
    status: typing.Literal["open", "done"] = attrs.field(metadata={"wire": "status"})


def test_untyped_records_never_fail_on_stored_data(caplog):
    # An app may have written createdAt as a number (Date.now()): the record still reads.
    wire = {"_id": "6939311e8458665713e0b522", "createdAt": 1767225600000, "title": "t"}
    with caplog.at_level("WARNING", logger="lumi"):
        record = lumi.structure(wire, lumi.Record)
    assert record.created_at is UNSET and record["createdAt"] == 1767225600000
    assert lumi.unstructure(record) == wire
    assert "createdAt" in caplog.text
