"""Entity routes: the emulator maps each protocol call onto the entity store."""

from __future__ import annotations

from lumi.emulator.server import Emulator

from .conftest import PID, Api

DOCS = f"/lm/{PID}/posts/documents"


def test_create_get_list_update_delete(api: Api) -> None:
    created = api.ok("POST", DOCS, {"title": "hello", "n": 1})
    doc_id = created["_id"]
    assert len(doc_id) == 24 and created["title"] == "hello" and created["creator"] is None
    assert api.ok("GET", f"{DOCS}/{doc_id}") == created
    assert api.ok("POST", f"{DOCS}/list", {}) == [created]
    updated = api.ok("PUT", DOCS, {"filter": {"_id": doc_id}, "update": {"n": 2, "s.t": 3}})
    assert updated["n"] == 2 and updated["s"] == {"t": 3} and updated["title"] == "hello"
    assert api.ok("DELETE", f"{DOCS}/{doc_id}") is None
    assert api.ok("GET", f"{DOCS}/{doc_id}") is None


def test_list_takes_filter_and_sort_and_ignores_limit(api: Api) -> None:
    api.ok("POST", f"{DOCS}/batch", [{"n": n, "even": n % 2 == 0} for n in range(6)])
    page = api.ok("POST", f"{DOCS}/list", {"filter": {"even": True}, "sort": {"n": -1}})
    assert [doc["n"] for doc in page] == [4, 2, 0]
    assert len(api.ok("POST", f"{DOCS}/list", {"limit": 1})) == 6  # like the cloud: /list is all
    assert len(api.ok("POST", f"{DOCS}/list")) == 6  # no body at all: everything


def test_list_by_page_and_legacy_find(api: Api) -> None:
    api.ok("POST", f"{DOCS}/batch", [{"n": n} for n in range(7)])
    for route in ("listByPage", "find"):
        body = {"filter": {"n": {"$gte": 1}}, "sort": {"n": 1}, "limit": 2, "skip": 2}
        data = api.ok("POST", f"{DOCS}/{route}", body)
        assert data["total"] == 6 and [doc["n"] for doc in data["list"]] == [3, 4]


def test_create_many_returns_records_in_order(api: Api) -> None:
    records = api.ok("POST", f"{DOCS}/batch", [{"k": "a"}, {"k": "b"}])
    assert [r["k"] for r in records] == ["a", "b"] and records[0]["_id"] != records[1]["_id"]


def test_delete_many_with_repeated_ids(api: Api) -> None:
    ids = [r["_id"] for r in api.ok("POST", f"{DOCS}/batch", [{"k": i} for i in range(3)])]
    assert api.ok("DELETE", f"{DOCS}/batch-by-ids", params={"ids": ids[:2]}) is None
    assert [d["_id"] for d in api.ok("POST", f"{DOCS}/list", {})] == [ids[2]]
    reply = api.error("DELETE", f"{DOCS}/batch-by-ids")
    assert reply["code"] == 10400 and "ids is required" in reply["message"]


def test_creator_is_the_signed_in_user(api: Api, emu: Emulator) -> None:
    user = api.sign_up(emu, "c@example.com")
    created = api.ok("POST", DOCS, {"t": 1}, token=user["userToken"])
    assert created["creator"] == user["userId"]
    [many] = api.ok("POST", f"{DOCS}/batch", [{"t": 2}], token=user["userToken"])
    assert many["creator"] == user["userId"]


def test_projects_and_entities_are_separate(api: Api) -> None:
    api.ok("POST", DOCS, {"t": 1})
    assert api.ok("POST", "/lm/p_other/posts/documents/list", {}) == []
    assert api.ok("POST", f"/lm/{PID}/comments/documents/list", {}) == []


def test_update_errors(api: Api) -> None:
    missing = "0123456789abcdef01234567"
    reply = api.error("PUT", DOCS, {"filter": {"_id": missing}, "update": {"a": 1}})
    assert reply["code"] == 10404 and missing in reply["message"]
    assert "filter is required" in api.error("PUT", DOCS, {"update": {}})["message"]
    assert (
        "filter._id is required" in api.error("PUT", DOCS, {"filter": {}, "update": {}})["message"]
    )
    created = api.ok("POST", DOCS, {"a": 1})
    reply = api.error("PUT", DOCS, {"filter": {"_id": created["_id"]}})
    assert "update is required" in reply["message"]


def test_invalid_queries_are_10400_and_named(api: Api) -> None:
    reply = api.error("POST", f"{DOCS}/list", {"filter": {"n": {"$nope": 1}}})
    assert reply["code"] == 10400 and "$nope" in reply["message"]
    reply = api.error("POST", f"{DOCS}/list", {"filter": [1]})
    assert reply["message"] == "filter must be a JSON object, not an array"
    reply = api.error("POST", f"{DOCS}/listByPage", {"limit": -1})
    assert reply["message"] == "limit must be an integer from 0 to 2**63 - 1, not -1"
    reply = api.error("POST", f"{DOCS}/listByPage", {"limit": 1, "skip": "2"})
    assert reply["message"] == "skip must be an integer from 0 to 2**63 - 1, not a string"


def test_bodies_of_the_wrong_shape(api: Api) -> None:
    assert (
        api.error("POST", DOCS, [1, 2])["message"]
        == "the JSON body must be an object, not an array"
    )
    assert api.error("POST", DOCS)["message"] == "a JSON body is required"
    reply = api.error("POST", f"{DOCS}/batch", {"a": 1})
    assert "array of objects" in reply["message"]
    reply = api.error("POST", DOCS, raw=b'{"a": ', headers={"Content-Type": "application/json"})
    assert reply["code"] == 10400 and reply["message"].startswith("invalid JSON body")


def test_get_with_a_malformed_id_is_null_or_a_named_error(api: Api) -> None:
    reply = api.envelope("GET", f"{DOCS}/not-an-id")
    assert (reply["code"], reply["data"]) in {(200, None), (10400, None)}
