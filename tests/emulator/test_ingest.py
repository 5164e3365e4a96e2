"""Events ingest: NDJSON, X-Api-Key, de-duplication by event_id, bad lines reported."""

from __future__ import annotations

import gzip
import json

import requests

from lumi.emulator.server import Emulator

from .conftest import API_KEY

NDJSON = {"Content-Type": "application/x-ndjson", "X-Api-Key": API_KEY}


def post(emu: Emulator, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        emu.url + "/collect/sdk/events", data=body, headers=headers or NDJSON, timeout=10
    )


def lines(*events: object) -> bytes:
    return "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events).encode() + b"\n"


def test_events_are_stored_once(emu: Emulator) -> None:
    batch = lines({"event_id": "e1", "name": "turn"}, {"event_id": "e2", "name": "identify"})
    first = post(emu, batch)
    assert first.status_code == 200
    assert first.json() == {"accepted": 2, "duplicates": 0, "assigned_ids": 0, "errors": []}
    again = post(emu, batch)  # a retried batch
    assert again.json() == {"accepted": 0, "duplicates": 2, "assigned_ids": 0, "errors": []}
    assert [e["event_id"] for e in emu.events()] == ["e1", "e2"]


def test_bad_lines_are_reported_and_good_ones_kept(emu: Emulator) -> None:
    batch = lines(
        {"event_id": "ok1"},
        "{not json",
        "[1, 2]",
        {"event_id": 7},
        "",
        {"event_id": "ok2"},
        {"event_id": ""},
        "[" * 100_000,
    )
    reply = post(emu, batch).json()
    assert reply["accepted"] == 2 and reply["duplicates"] == 0 and reply["assigned_ids"] == 0
    assert [(e["line"], e["message"].split(" (")[0].split(",")[0]) for e in reply["errors"]] == [
        (2, "not JSON: Expecting property name enclosed in double quotes at column 2"),
        (3, "an event must be a JSON object"),
        (4, "event_id must be a non-empty string"),
        (7, "event_id must be a non-empty string"),
        (8, "not JSON: nested too deeply"),
    ]
    assert [e["event_id"] for e in emu.events()] == ["ok1", "ok2"]


def test_the_seed_ping_without_an_event_id_gets_one(emu: Emulator) -> None:
    """The lumina-sdk's troubleshooting ping has no event_id: the emulator assigns and counts
    one (and still de-duplicates the events that carry theirs)."""
    ping = b'{"source":"test","name":"ping"}\n'
    first = post(emu, ping)
    assert first.status_code == 200
    assert first.json() == {"accepted": 1, "duplicates": 0, "assigned_ids": 1, "errors": []}
    again = post(emu, ping + lines({"event_id": "e1"}, {"event_id": None, "name": "null id"}))
    assert again.json() == {"accepted": 3, "duplicates": 0, "assigned_ids": 2, "errors": []}
    assert post(emu, lines({"event_id": "e1"})).json()["duplicates"] == 1
    stored = emu.events()
    assert [e["name"] for e in stored if e.get("source") == "test"] == ["ping", "ping"]
    ids = [e["event_id"] for e in stored]
    assert len(set(ids)) == 4 and all(i.startswith("emu-") for i in ids if i != "e1")


def test_the_api_key(emu: Emulator) -> None:
    body = lines({"event_id": "k1"})
    missing = post(emu, body, {"Content-Type": "application/x-ndjson"})
    assert missing.status_code == 401 and "X-Api-Key" in missing.json()["error"]
    wrong = post(emu, body, {**NDJSON, "X-Api-Key": "gi_other"})
    assert wrong.status_code == 401 and API_KEY not in wrong.text
    assert emu.events() == []


def test_any_key_when_none_is_configured() -> None:
    with Emulator() as emu:
        reply = post(emu, lines({"event_id": "a"}), {**NDJSON, "X-Api-Key": "anything"})
        assert reply.json()["accepted"] == 1
        assert post(emu, lines({"event_id": "b"}), {**NDJSON, "X-Api-Key": ""}).status_code == 401


def test_content_type_gzip_and_size(emu: Emulator) -> None:
    wrong = post(emu, lines({"event_id": "c"}), {**NDJSON, "Content-Type": "application/json"})
    assert wrong.status_code == 415 and "application/x-ndjson" in wrong.json()["error"]
    zipped = post(
        emu, gzip.compress(lines({"event_id": "z"})), {**NDJSON, "Content-Encoding": "gzip"}
    )
    assert zipped.json()["accepted"] == 1
    bomb = gzip.compress(b" " * (6 * 1024 * 1024))
    inflated = post(emu, bomb, {**NDJSON, "Content-Encoding": "gzip"})
    assert inflated.status_code == 413
    broken = post(emu, b"not gzip", {**NDJSON, "Content-Encoding": "gzip"})
    assert broken.status_code == 415 and "gzip" in broken.json()["error"]
    big = post(emu, b"x" * (5 * 1024 * 1024 + 1))
    assert big.status_code == 413 and "larger than" in big.json()["error"]
    assert post(emu, b"\xff\xfe").status_code == 415


def test_events_endpoint_for_tailing(emu: Emulator) -> None:
    post(emu, lines({"event_id": "t1", "project_id": "p1"}, {"event_id": "t2"}, {"event_id": "t3"}))
    everything = requests.get(
        emu.url + "/_emulator/events", headers=emu.private_headers, timeout=10
    ).json()
    assert everything["code"] == 200
    seqs = [item["seq"] for item in everything["data"]]
    assert [item["event"]["event_id"] for item in everything["data"]] == ["t1", "t2", "t3"]
    after = requests.get(
        emu.url + "/_emulator/events",
        params={"after": seqs[0], "limit": 1},
        headers=emu.private_headers,
        timeout=10,
    )
    assert [item["event"]["event_id"] for item in after.json()["data"]] == ["t2"]
    project = requests.get(
        emu.url + "/_emulator/events",
        params={"projectId": "p1"},
        headers=emu.private_headers,
        timeout=10,
    )
    assert [item["event"]["event_id"] for item in project.json()["data"]] == ["t1"]
    bad = requests.get(
        emu.url + "/_emulator/events",
        params={"after": "-1"},
        headers=emu.private_headers,
        timeout=10,
    ).json()
    assert bad["code"] == 10400 and "after" in bad["message"]
