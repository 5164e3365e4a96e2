"""One table of wire metadata per class (lumi._wire), read by the converter, records by wire key
and typed queries alike."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

import lumi
from lumi._record import RecordAccess
from lumi._unset import UNSET, Unset
from lumi._wire import WireField, strip_unset, wire_class
from lumi.data import fields as typed_fields


def test_the_metadata_of_a_generated_class():
    wc = wire_class(lumi.Record)
    assert wc is wire_class(lumi.Record)  # computed once
    assert wc.extra == "extra" and wc.extra_alias == "extra" and wc.id_alias
    ids = wc.by_name["id"]
    assert (ids.wire, ids.type, ids.required) == ("_id", str, True)
    assert wc.by_wire["createdAt"].name == "created_at"
    assert wc.by_wire["createdAt"].type is str  # Record keeps the system dates as written
    assert wc.field_for_key("id") is ids and wc.field_for_key("_id") is ids
    assert wc.field_for_key("title") is None
    user = wire_class(lumi.User)
    assert user.extra == "extra" and not user.id_alias
    assert user.by_wire["userId"].required and not user.by_wire["userName"].required
    assert user.by_wire["userName"].type == (str | None)  # Unset stripped, None kept


def test_typed_queries_and_records_read_the_same_table():
    wc = wire_class(lumi.User)
    assert typed_fields.fields_of(lumi.User) is wc.by_name
    assert typed_fields.wire_names_of(lumi.User) is wc.by_wire
    assert typed_fields.has_extra(lumi.User) and typed_fields.FieldInfo is WireField
    assert typed_fields.resolve(lumi.User, "user_name").wire == "userName"


@attrs.define(kw_only=True)
class _Odd(RecordAccess):
    _private: int = attrs.field(default=0, metadata={"wire": "p"})
    plain: str | Unset = attrs.field(default=UNSET)  # no wire metadata: wire name = its name
    more: dict[str, Any] = attrs.field(factory=dict, metadata={"extra": True})


def test_private_names_plain_fields_and_an_extra_field_of_another_name():
    wc = wire_class(_Odd)
    assert wc.by_wire["p"].name == "_private" and wc.by_wire["p"].alias == "private"
    assert wc.by_wire["plain"].name == "plain"
    assert (wc.extra, wc.extra_alias) == ("more", "more")
    odd = lumi.structure({"p": 2, "plain": "x", "k": [1]}, _Odd)
    assert odd == _Odd(private=2, plain="x", more={"k": [1]})
    assert odd["p"] == 2 and odd["k"] == [1] and odd.k == [1] and list(odd) == ["p", "plain", "k"]
    assert lumi.unstructure(odd) == {"p": 2, "plain": "x", "k": [1]}


def test_unset_stripped_from_every_union_form():
    import typing

    assert strip_unset(int | Unset) is int
    assert strip_unset(typing.Optional[typing.Union[int, Unset]]) == (int | None)  # noqa: UP007, UP045
    assert strip_unset(int | str | Unset) == (int | str)
    assert strip_unset(list[int]) == list[int]


def test_classes_it_cannot_read_are_schema_errors():
    class NotAttrs:
        pass

    @attrs.define
    class Dangling:
        x: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(lumi.SchemaError, match="not an attrs class"):
        wire_class(NotAttrs)
    with pytest.raises(lumi.SchemaError, match=r"Dangling: its annotations do not resolve"):
        wire_class(Dangling)
    with pytest.raises(lumi.SchemaError, match="Dangling"):
        lumi.structure({"x": 1}, Dangling)


def test_many_threads_asking_at_once_get_one_table():
    @attrs.define
    class Fresh:
        x: int = attrs.field(metadata={"wire": "x"})

    seen: list[Any] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        seen.append(wire_class(Fresh))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(table is seen[0] for table in seen)
