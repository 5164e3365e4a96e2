"""The converter: round trips of every generated class, unknown fields, ids, strictness."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import inspect
import json
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
from lumi._js import iso_string
from lumi._record import RecordAccess
from lumi._unset import UNSET, Unset
from lumi.serde import parse_datetime, read_datetime

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
    times: list[dt.datetime] | Unset = attrs.field(default=UNSET, metadata={"wire": "times"})
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


# -- datetimes: every ISO form reads as the same aware UTC instant --------------------------------
def _iso_forms(moment: dt.datetime, offset_minutes: int, digits: int, separator: str, zulu: str) -> str:
    """``moment`` (UTC) written as another program might: any offset, fraction, separator."""
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}{local.microsecond % 10}"[:digits]
    if offset_minutes == 0 and zulu:
        return text + zulu
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return text + f"{sign}{hours:02d}:{minutes:02d}"


utc_moments = st.datetimes(
    min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9998, 12, 30), timezones=st.just(dt.timezone.utc)
)


@settings(max_examples=150, deadline=None)
@given(
    moment=utc_moments,
    offset=st.sampled_from([0, 0, 60, -300, 330, 840, -720]),
    digits=st.sampled_from([0, 1, 3, 6, 7]),
    separator=st.sampled_from(["T", " "]),
    zulu=st.sampled_from(["Z", "z", ""]),
)
def test_every_iso_form_reads_as_the_same_utc_instant(moment, offset, digits, separator, zulu):
    text = _iso_forms(moment, offset, digits, separator, zulu)
    if digits in (1, 3):  # the instant the text names
        moment = moment.replace(microsecond=int(f"{moment.microsecond:06d}"[:digits].ljust(6, "0")))
    elif digits == 0:
        moment = moment.replace(microsecond=0)
    no_offset = offset == 0 and zulu == ""  # no offset on the wire: UTC
    if no_offset:
        text = text[: -len("+00:00")]
    lesson = lumi.structure({"status": "open", "starts": text, "times": [text]}, _Lesson)
    for read in (lesson.starts, lesson.times[0], parse_datetime(text), read_datetime(text)):
        assert read == moment and read.tzinfo is dt.timezone.utc, text
    assert lumi.unstructure(lesson)["starts"] == iso_string(moment)  # written as toISOString()


@pytest.mark.parametrize(
    "text",
    ["2024-05-01", "20240501", "2024-05-01 ", "2024-13-01T00:00:00Z", "2024-05-01T25:00:00Z",
     "not a date", "", "2024-05-01T10:00:00+25:00", "0001-01-01T00:00:00+01:00", "  2024-05-01  "],
)
def test_what_is_not_a_date_time_is_a_misfit(text, caplog):
    with pytest.raises(lumi.SchemaError, match="starts"):
        lumi.structure({"status": "open", "starts": text}, _StrictLesson)
    with caplog.at_level("WARNING", logger="lumi"):
        lesson = lumi.structure({"status": "open", "starts": text}, _Lesson)
    assert lesson.starts is UNSET and lesson.extra == {"starts": text} and "starts" in caplog.text
    assert lumi.unstructure(lesson) == {"status": "open", "starts": text}


def test_datetime_values_other_than_strings():
    aware = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert lumi.structure({"status": "open", "starts": aware}, _StrictLesson).starts == aware
    for value in (dt.datetime(2026, 3, 1), 1767225600000, None, ["2026-03-01T10:00:00Z"]):
        with pytest.raises(lumi.SchemaError, match="starts"):
            lumi.structure({"status": "open", "starts": value}, _StrictLesson)


# -- naive datetimes are refused when written ----------------------------------------------------
NAIVE = dt.datetime(2026, 3, 1, 10, 0)


def test_naive_datetimes_are_refused_naming_the_field():
    with pytest.raises(lumi.ValidationError, match=r"_Lesson\.starts: naive datetime 2026-03-01T10:00:00"):
        lumi.unstructure(_Lesson(status="open", starts=NAIVE))
    with pytest.raises(lumi.ValidationError, match=r"_Lesson\.times: "):
        lumi.unstructure(_Lesson(status="open", times=[NAIVE]))
    with pytest.raises(lumi.ValidationError, match=r"_Lesson\.extra\['at'\]: naive"):
        lumi.unstructure(_Lesson(status="open", extra={"at": NAIVE}))
    with pytest.raises(lumi.ValidationError, match=r"filter: at: naive"):
        lumi.unstructure({"filter": {"at": NAIVE}})
    with pytest.raises(lumi.ValidationError, match="naive"):
        lumi.unstructure([NAIVE])
    with pytest.raises(lumi.ValidationError, match="scheduled_at: naive"):
        iso_string(NAIVE, "scheduled_at")
    # tzinfo whose utcoffset() is None is naive too
    class Floating(dt.tzinfo):
        def utcoffset(self, _):
            return None

    with pytest.raises(lumi.ValidationError, match="naive"):
        iso_string(NAIVE.replace(tzinfo=Floating()))


def test_aware_datetimes_are_written_in_utc():
    paris = dt.timezone(dt.timedelta(hours=1))
    assert iso_string(dt.datetime(2026, 3, 1, 11, 0, 0, 999999, tzinfo=paris)) == "2026-03-01T10:00:00.999Z"
    assert iso_string(dt.datetime(5, 1, 1, tzinfo=dt.timezone.utc)) == "0005-01-01T00:00:00.000Z"
    with pytest.raises(lumi.ValidationError, match="out of range"):
        iso_string(dt.datetime(1, 1, 1, 0, 30, tzinfo=paris))


def test_naive_datetimes_in_queries_and_emails_name_the_field():
    from lumi.data.query import compile_lookup

    with pytest.raises(lumi.ValidationError, match=r"lookup starts__gte: naive datetime"):
        compile_lookup(_Lesson, "starts__gte", NAIVE)
    assert compile_lookup(_Lesson, "starts__gte", NAIVE.replace(tzinfo=dt.timezone.utc)) == {
        "starts": {"$gte": "2026-03-01T10:00:00.000Z"}
    }
    client = lumi.create_client(project_id="p1", api_base_url="http://127.0.0.1:9")
    with pytest.raises(lumi.ValidationError, match="scheduled_at: naive"):  # before any request
        client.tools.email.send(to="a@b.c", subject="s", text="t", scheduled_at=NAIVE)


# -- records by id, extra keys, strict classes ------------------------------------------------------
def test_id_and_underscore_id():
    record = lumi.structure({"_id": "a", "id": "b", "t": 1}, lumi.Record)
    assert record.id == "a" and record.extra == {"id": "b", "t": 1}  # nothing dropped
    assert lumi.unstructure(record) == {"_id": "a", "id": "b", "t": 1}
    record = lumi.structure({"t": 1, "id": 7}, lumi.Record)  # an `id` that does not fit
    assert record.id is UNSET and list(record.extra) == ["t", "id"]
    assert lumi.unstructure(record) == {"t": 1, "id": 7}  # written back under the same key


def test_unset_values_in_extra_are_left_out():
    record = lumi.Record(id="a", extra={"gone": UNSET, "kept": None})
    assert lumi.unstructure(record) == {"_id": "a", "kept": None}


def test_strict_classes_name_every_missing_field_and_unexpected_keys():
    with pytest.raises(lumi.SchemaError, match=r"User: missing required field\(s\) userId, email"):
        lumi.structure({}, lumi.User)
    with pytest.raises(lumi.SchemaError, match=r"_Strict: unexpected field\(s\) other"):
        lumi.structure({"status": "open", "other": 1}, _Strict)
    with pytest.raises(lumi.SchemaError, match=r"_Strict\.status: expected one of 'open', 'done'"):
        lumi.structure({"status": ["open"]}, _Strict)  # unhashable: still a clear error


@pytest.mark.parametrize("value", [2**1100, -(2**1100)])
def test_an_int_too_large_for_a_float_is_a_schema_error(value):
    with pytest.raises(lumi.SchemaError, match="amount"):
        lumi.structure({"amount": value}, _Money)


def test_a_mapping_that_is_not_a_dict_and_an_instance_read_as_themselves():
    import types as _types

    lesson = lumi.structure(_types.MappingProxyType({"status": "done", "x": 1}), _Lesson)
    assert lesson.status == "done" and lesson.extra == {"x": 1}
    assert lumi.structure(lesson, _Lesson) is lesson


# -- hand-written attrs classes: defaults, validators, recursion, other types ----------------------
@attrs.define(kw_only=True)
class _Money:
    amount: float = attrs.field(metadata={"wire": "amount"})


@attrs.define(kw_only=True)
class _StrictLesson:
    status: typing.Literal["open", "done"] = attrs.field(metadata={"wire": "status"})
    starts: dt.datetime | Unset = attrs.field(default=UNSET, metadata={"wire": "starts"})


@attrs.define(kw_only=True)
class _Defaults:
    count: int = attrs.field(default=3, metadata={"wire": "count"})
    tags: list[str] = attrs.field(factory=list, metadata={"wire": "tags"})
    label: str = attrs.field(
        default=attrs.Factory(lambda self: f"n={self.count}", takes_self=True),
        metadata={"wire": "label"},
    )
    _secret: str | Unset = attrs.field(default=UNSET, metadata={"wire": "s"})
    positive: int = attrs.field(default=1, metadata={"wire": "positive"})

    @positive.validator
    def _check(self, _attribute: Any, value: int) -> None:
        if value <= 0:
            raise ValueError("must be positive")


def test_defaults_factories_private_names_and_validators_as_attrs_does():
    made = lumi.structure({"count": 5, "s": "x"}, _Defaults)
    assert made == _Defaults(count=5, secret="x") and made.label == "n=5" and made.tags == []
    assert lumi.structure({}, _Defaults).tags is not lumi.structure({}, _Defaults).tags
    with pytest.raises(lumi.SchemaError, match="must be positive"):
        lumi.structure({"positive": 0}, _Defaults)
    assert lumi.unstructure(made) == {"count": 5, "tags": [], "label": "n=5", "s": "x", "positive": 1}


@attrs.define(kw_only=True)
class _Node:
    name: str = attrs.field(metadata={"wire": "name"})
    children: list[_Node] | Unset = attrs.field(default=UNSET, metadata={"wire": "children"})
    parent: _Node | Unset | None = attrs.field(default=UNSET, metadata={"wire": "parent"})


def test_classes_that_contain_themselves():
    wire = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}], "parent": None}
    tree = lumi.structure(wire, _Node)
    assert tree.children[0].children[0].name == "c"
    assert lumi.unstructure(tree) == wire
    with pytest.raises(lumi.SchemaError, match=r"\[1\]: _Node: missing required field\(s\) name"):
        lumi.structure({"name": "a", "children": [{"name": "b"}, {}]}, _Node)


class _Colour(enum.Enum):
    RED = "red"


@attrs.define
class _Plain:  # no wire metadata: cattrs reads it
    colour: _Colour
    pair: tuple[int, str]
    when: dt.datetime


def test_other_types_go_through_cattrs_and_fail_as_schema_errors():
    plain = lumi.structure({"colour": "red", "pair": [1, "a"], "when": "2026-03-01T10:00:00Z"}, _Plain)
    assert plain == _Plain(_Colour.RED, (1, "a"), dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc))
    written = json.loads(json.dumps(lumi.unstructure(plain)))
    assert written == {"colour": "red", "pair": [1, "a"], "when": "2026-03-01T10:00:00.000Z"}
    assert lumi.structure(["a", "b", "a"], set[str]) == {"a", "b"}
    for bad in ({"colour": "blue", "pair": [1, "a"], "when": "2026-03-01T10:00:00Z"}, "x", None, {"colour": "red"}):
        with pytest.raises(lumi.SchemaError):
            lumi.structure(bad, _Plain)
    with pytest.raises(lumi.SchemaError, match="expected a list"):
        lumi.structure("abc", list[str])  # a string is not a list of its characters


@settings(max_examples=200, deadline=None)
@given(cls=st.sampled_from(GENERATED), value=json_value)
def test_any_json_reads_or_raises_a_schema_error(cls, value):
    with contextlib.suppress(lumi.SchemaError):
        lumi.structure(value, cls)
    with contextlib.suppress(lumi.SchemaError):
        lumi.structure(value, list[cls])


def test_first_use_from_many_threads_builds_one_function():
    import threading

    @attrs.define(kw_only=True)
    class Fresh:
        n: int = attrs.field(metadata={"wire": "n"})

    results: list[Any] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        results.append(lumi.structure({"n": 1}, Fresh))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [Fresh(n=1)] * 8


def test_an_int_a_float_cannot_hold_is_not_rounded_into_a_float_field() -> None:
    import attrs

    import lumi

    @attrs.define(kw_only=True)
    class Reading:
        value: float = attrs.field(metadata={"wire": "value"})
        extra: dict = attrs.field(factory=dict, metadata={"extra": True})

    assert lumi.structure({"value": 2**53}, Reading).value == float(2**53)
    assert lumi.structure({"value": 2**60}, Reading).value == float(2**60)  # exact: fine
    with pytest.raises(lumi.SchemaError, match="a float cannot hold"):
        lumi.structure({"value": 2**53 + 1}, Reading)
