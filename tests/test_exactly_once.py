"""Exactly-once creates (a client-made ``_id``): a retry that meets its own earlier success
returns the stored document; anything else stays an error."""

from __future__ import annotations

import json

import pytest
import requests
import responses

import lumi
from lumi import RetryPolicy

BASE = "https://api.example.test"
PID = "p1"
DOCS = f"{BASE}/lm/{PID}/Notes/documents"
NOTE_ID = "6939311e8458665713e0b522"
DUPLICATE = {"code": 10400, "message": f"a document with _id {NOTE_ID} already exists", "data": None}


def ok(data):
    return {"code": 200, "message": "success", "data": data}


@pytest.fixture
def client():
    fast = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)
    with lumi.create_client(project_id=PID, api_base_url=BASE, retry=fast, rate_limit=None) as c:
        yield c


def lost_reply_then(*later):
    """The first create attempt's reply is lost (the server stored it), then ``later``."""
    responses.add(responses.POST, DOCS, body=requests.exceptions.ConnectionError("reset"))
    for body in later:
        responses.add(responses.POST, DOCS, json=body)


def stored_page(*docs):
    responses.add(responses.POST, f"{DOCS}/listByPage", json=ok({"list": list(docs), "total": len(docs)}))


@responses.activate
def test_a_retry_refused_as_a_duplicate_returns_the_stored_document(client):
    stored = {"_id": NOTE_ID, "text": "hi", "creator": None, "createdAt": "2026-03-01T10:00:00.000Z"}
    lost_reply_then(DUPLICATE)
    stored_page(stored)
    note = client.entities.Notes.create({"text": "hi"}, id=NOTE_ID)
    assert note.id == NOTE_ID and note.text == "hi"
    sent = [json.loads(call.request.body) for call in responses.calls]
    assert sent[0] == sent[1] == {"_id": NOTE_ID, "text": "hi"}  # the same document, twice
    assert sent[2] == {"filter": {"_id": {"$in": [NOTE_ID]}}, "sort": {"_id": 1}, "limit": 1}


@responses.activate
def test_an_id_in_the_data_works_the_same(client):
    lost_reply_then(DUPLICATE)
    stored_page({"_id": NOTE_ID, "text": "hi"})
    assert client.entities.Notes.create({"_id": NOTE_ID, "text": "hi"}).id == NOTE_ID


@responses.activate
def test_someone_elses_document_under_the_same_id_is_the_original_error(client):
    lost_reply_then(DUPLICATE)
    stored_page({"_id": NOTE_ID, "text": "not what we sent"})
    with pytest.raises(lumi.APIError, match="already exists") as caught:
        client.entities.Notes.create({"text": "hi"}, id=NOTE_ID)
    assert caught.value.attempts == 2


@responses.activate
def test_a_first_attempt_refused_as_a_duplicate_is_a_conflict_not_a_success(client):
    responses.add(responses.POST, DOCS, json=DUPLICATE)
    with pytest.raises(lumi.APIError, match="already exists") as caught:
        client.entities.Notes.create({"text": "hi"}, id=NOTE_ID)
    assert caught.value.attempts == 1 and len(responses.calls) == 1  # nothing read back


@responses.activate
def test_a_create_without_id_is_never_resolved(client):
    responses.add(responses.POST, DOCS, json=DUPLICATE)
    with pytest.raises(lumi.APIError):
        client.entities.Notes.create({"text": "hi"})
    assert len(responses.calls) == 1


@responses.activate
def test_create_many_resolves_a_whole_batch(client):
    ids = [lumi.new_id() for _ in range(3)]
    batch = [{"_id": i, "n": n} for n, i in enumerate(ids)]
    responses.add(responses.POST, f"{DOCS}/batch", body=requests.exceptions.ConnectionError("x"))
    responses.add(responses.POST, f"{DOCS}/batch", json=DUPLICATE)
    stored_page(*[{**doc, "creator": None} for doc in reversed(batch)])  # any order
    created = client.entities.Notes.create_many(batch)
    assert [r.id for r in created] == ids and [r.n for r in created] == [0, 1, 2]


@responses.activate
def test_create_many_with_a_missing_document_is_the_original_error(client):
    ids = [lumi.new_id() for _ in range(2)]
    responses.add(responses.POST, f"{DOCS}/batch", body=requests.exceptions.ConnectionError("x"))
    responses.add(responses.POST, f"{DOCS}/batch", json=DUPLICATE)
    stored_page({"_id": ids[0], "n": 0})
    with pytest.raises(lumi.APIError, match="already exists"):
        client.entities.Notes.create_many([{"_id": ids[0], "n": 0}, {"_id": ids[1], "n": 1}])


@pytest.mark.parametrize("bad", ["", "xyz", "6939311e8458665713e0b52", 42, ["x"]])
def test_id_must_be_an_object_id(client, bad):
    with pytest.raises(lumi.ValidationError, match="24 hexadecimal digits"):
        client.entities.Notes.create({"text": "hi"}, id=bad)


def test_id_and_a_different_id_in_the_data_are_refused(client):
    with pytest.raises(lumi.ValidationError, match="differs"):
        client.entities.Notes.create({"_id": lumi.new_id(), "text": "hi"}, id=lumi.new_id())


def test_exactly_once_on_the_emulator(lumi_client):
    note_id = lumi.new_id()
    note = lumi_client.entities.Notes.create({"text": "once"}, id=note_id)
    assert note.id == note_id and lumi_client.entities.Notes.count() == 1
    with pytest.raises(lumi.APIError):  # a second call of one's own is a conflict, not a retry
        lumi_client.entities.Notes.create({"text": "once"}, id=note_id)
    assert lumi_client.entities.Notes.count() == 1
