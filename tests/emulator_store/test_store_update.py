"""Update semantics: merge, dotted keys, system fields, updatedAt, $set/$unset/$inc, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lumi.emulator.query import QueryError, apply_update
from lumi.emulator.store import EntityStore

P = "p1"
NOW = "2026-03-01T10:00:00.000Z"
OLD = "2020-01-01T00:00:00.000Z"
BASE: dict[str, Any] = {
    "_id": "6939311e8458665713e0b522",
    "title": "t",
    "stats": {"views": 1},
    "items": [{"q": 1}, {"q": 2}],
    "creator": "u1",
    "createdAt": OLD,
    "updatedAt": OLD,
}


def updated(update: dict[str, Any]) -> dict[str, Any]:
    return apply_update(BASE, update, NOW)


def test_merge_keeps_other_fields_and_refreshes_updated_at() -> None:
    assert updated({"title": "new", "extra": None}) == {
        **BASE,
        "title": "new",
        "extra": None,
        "updatedAt": NOW,
    }


def test_dotted_keys_set_nested_fields_and_create_objects() -> None:
    result = updated({"stats.likes": 2, "a.b.c": True, "items.1.q": 5, "items.3": "x"})
    assert result["stats"] == {"views": 1, "likes": 2}
    assert result["a"] == {"b": {"c": True}}
    assert result["items"] == [{"q": 1}, {"q": 5}, None, "x"]  # MongoDB pads arrays with null


def test_dotted_key_through_a_scalar_fails() -> None:
    with pytest.raises(QueryError, match=r"cannot create field 'title\.x'"):
        updated({"title.x": 1})
    with pytest.raises(QueryError, match=r"cannot set field 'items\.x'"):
        updated({"items.x": 1})


def test_base_document_is_not_mutated() -> None:
    before = repr(BASE)
    result = updated({"stats.views": 9, "items.0.q": 9})
    assert repr(BASE) == before
    result["stats"]["views"] = 100
    assert BASE["stats"]["views"] == 1


def test_id_sent_back_is_ignored_but_cannot_change() -> None:
    assert updated({"_id": BASE["_id"].upper(), "title": "x"})["_id"] == BASE["_id"]
    with pytest.raises(QueryError, match="_id cannot be changed"):
        updated({"_id": "0" * 24})
    with pytest.raises(QueryError, match="_id cannot be changed"):
        updated({"$unset": {"_id": ""}})


def test_creator_is_ignored() -> None:
    assert updated({"creator": "intruder"})["creator"] == "u1"
    assert updated({"$unset": {"creator": ""}})["creator"] == "u1"


def test_created_at_unchanged_is_fine_and_a_new_value_is_written() -> None:
    assert updated({"createdAt": OLD})["createdAt"] == OLD
    assert (
        updated({"createdAt": "2019-05-05T00:00:00.000Z"})["createdAt"]
        == "2019-05-05T00:00:00.000Z"
    )


def test_updated_at_rules() -> None:
    assert (
        updated({"updatedAt": "2030-01-01T00:00:00.000Z"})["updatedAt"]
        == "2030-01-01T00:00:00.000Z"
    )
    assert updated({"updatedAt": OLD, "title": "x"})["updatedAt"] == NOW  # an echo is refreshed
    assert updated({})["updatedAt"] == NOW
    assert "updatedAt" not in updated({"$unset": {"updatedAt": ""}})


def test_mongo_update_operators() -> None:
    result = updated(
        {
            "$set": {"title": "s", "stats.x": 1},
            "$unset": {"items": ""},
            "$inc": {"stats.views": 2, "n": 1.5},
        }
    )
    assert result["title"] == "s"
    assert result["stats"] == {"views": 3, "x": 1}
    assert "items" not in result
    assert result["n"] == 1.5
    assert updated({"$unset": {"nope.deeper": ""}}) == {**BASE, "updatedAt": NOW}
    assert updated({"$unset": {"items.0": ""}})["items"] == [None, {"q": 2}]


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"$foo": {"a": 1}}, "unknown update operator \\$foo"),
        ({"$where": {"a": 1}}, "unknown update operator \\$where"),
        ({"$set": {"a": 1}, "b": 2}, "cannot mix operators"),
        ({"$set": [1]}, "\\$set needs an object"),
        ({"$inc": {"title": 1}}, "\\$inc on field 'title': the current value is a string"),
        ({"$inc": {"n": "1"}}, "\\$inc on field 'n' needs a number"),
        ({"$set": {"$x": 1}}, "invalid field name '\\$x'"),
        ({"stats": {}, "stats.views": 2}, "update paths 'stats' and 'stats.views' conflict"),
        ({"$set": {"a": 1}, "$inc": {"a": 1}}, "names field 'a' twice"),
        ({"a..b": 1}, "invalid field path"),
    ],
)
def test_bad_updates_name_the_problem(update: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        updated(update)


def test_update_must_be_an_object() -> None:
    with pytest.raises(QueryError, match="the update must be an object"):
        apply_update(BASE, [1], NOW)  # type: ignore[arg-type]


# ---- through the store ------------------------------------------------------------------------


def test_store_update_returns_whole_document_and_persists(store: EntityStore) -> None:
    doc = store.create(P, "tasks", {"title": "a", "meta": {"x": 1}, "updatedAt": OLD}, "u1")
    result = store.update(P, "tasks", doc["_id"], {"meta.y": 2, "done": True})
    assert result is not None
    assert result == {
        **doc,
        "meta": {"x": 1, "y": 2},
        "done": True,
        "updatedAt": result["updatedAt"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result["updatedAt"])
    assert result["updatedAt"] != OLD
    assert store.get(P, "tasks", doc["_id"]) == result


def test_store_update_of_missing_or_malformed_id_is_none(store: EntityStore) -> None:
    assert store.update(P, "tasks", "0" * 24, {"a": 1}) is None
    assert store.update(P, "tasks", "not-an-id", {"a": 1}) is None


def test_failed_update_changes_nothing(store: EntityStore) -> None:
    doc = store.create(P, "tasks", {"title": "a"}, None)
    with pytest.raises(QueryError, match="the update holds nan, not a finite number"):
        store.update(P, "tasks", doc["_id"], {"score": float("nan")})
    with pytest.raises(QueryError, match="the update holds the integer of 400 digits"):
        store.update(P, "tasks", doc["_id"], {"$inc": {"score": 10**399}})
    store.update(P, "tasks", doc["_id"], {"score": 2**63 - 1})
    with pytest.raises(QueryError, match="\\$inc on field 'score' overflows the 64-bit"):
        store.update(P, "tasks", doc["_id"], {"$inc": {"score": 1}})
    doc = store.get(P, "tasks", doc["_id"])
    with pytest.raises(QueryError, match="\\$foo"):
        store.update(P, "tasks", doc["_id"], {"$foo": {"a": 1}})
    assert store.get(P, "tasks", doc["_id"]) == doc
    with pytest.raises(QueryError, match="the update must be an object"):
        store.update(P, "tasks", doc["_id"], "title=b")  # type: ignore[arg-type]
