"""The console over HTTP: who may see it, the headers every page carries, what it shows (escaped),
and what its forms change (and refuse). The browser tests check the same pages in Chromium."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests

from lumi.emulator import Emulator
from lumi.emulator.console import views
from lumi.emulator.console.readonly import ConsoleQueryError, read_only
from lumi.emulator.console.render import MAIL_POLICY, PAGE_POLICY

from .support import UI, Console, Page, assert_inert, textarea

PROJECT = "p_test"
MARKUP = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
LINKABLE = "<img src=x onerror=alert(3)> & co"
VIEWS = ["entities", "users", "outbox", "files", "events"]


@pytest.fixture
def console(lumi_emulator: Emulator) -> Console:
    return Console(lumi_emulator)


def ingest(emu: Emulator, *events: dict[str, Any]) -> None:
    body = "\n".join(json.dumps(event) for event in events) + "\n"
    reply = requests.post(
        emu.url + "/collect/sdk/events",
        data=body.encode(),
        headers={"X-Api-Key": "k", "Content-Type": "application/x-ndjson"},
        timeout=10,
    )
    assert reply.status_code == 200 and reply.json()["errors"] == [], reply.text


# --- access -----------------------------------------------------------------------------------
@pytest.mark.parametrize("view", [*VIEWS, "stamp", "static/console.js", ""])
def test_every_console_route_needs_this_runs_token(lumi_emulator: Emulator, view: str) -> None:
    url = f"{lumi_emulator.url}{UI}/{view}"
    bare = requests.get(url, timeout=10, allow_redirects=False)
    assert bare.status_code == 403 and bare.json()["code"] == 10403
    assert "Access-Control-Allow-Origin" not in bare.headers
    wrong = requests.get(url, headers={"X-Lumi-Emulator-Token": "x" * 43}, timeout=10)
    assert wrong.status_code == 403
    foreign = requests.get(
        url, headers={**lumi_emulator.private_headers, "Origin": "http://evil.test"}, timeout=10
    )
    assert foreign.status_code == 403
    ok = requests.get(url, headers=lumi_emulator.private_headers, timeout=10, allow_redirects=False)
    assert ok.status_code in (200, 303)


SAMPLE_VALUES = {
    "<message>": "1",
    "<projectId>": PROJECT,
    "<entity>": "Books",
    "<id>": "0" * 24,
    "<name>": "console.js",
    "<path:session>": "ab" * 16,
}


def _concrete(path: str) -> str:
    for pattern, value in SAMPLE_VALUES.items():
        path = path.replace(pattern, value)
    assert "<" not in path, path
    return path


@pytest.mark.parametrize(("path", "methods"), [(p, m) for p, m, _ in views.ROUTES])
def test_every_route_of_the_table_is_refused_without_the_token(
    lumi_emulator: Emulator, console: Console, path: str, methods: list[str]
) -> None:
    url = lumi_emulator.url + _concrete(path)
    for method in methods:
        bare = requests.request(
            method, url, data={"document": "{}"}, timeout=10, allow_redirects=False
        )
        assert bare.status_code == 403 and bare.json()["code"] == 10403, (method, path)
        wrong = requests.request(
            method,
            url,
            headers={"X-Lumi-Emulator-Token": "nope"},
            timeout=10,
            allow_redirects=False,
        )
        assert wrong.status_code == 403, (method, path)
        if method == "POST":  # the cookie alone, without the emulator's Origin: refused
            assert console.post(_concrete(path), {"document": "{}"}, origin=None).status_code == 403
    assert lumi_emulator.services.store.find(PROJECT, "Books")[1] == 0  # nothing was created


def test_a_change_needs_the_cookie_and_the_emulators_own_origin(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    lumi_client.auth.send_otp(email="ann@example.com", type="register")
    otp = lumi_emulator.latest_otp("ann@example.com")
    lumi_client.auth.sign_up_with_password(email="ann@example.com", password="pw", otp=otp)
    form = {"projectId": PROJECT, "email": "ann@example.com", "userRole": "USER"}
    assert console.post("users/role", form, origin=None).status_code == 403  # a forged form
    assert console.post("users/role", form, origin="http://localhost:3000").status_code == 403
    assert [u["userRole"] for u in lumi_emulator.users(PROJECT)] == ["ADMIN"]
    assert console.post("users/role", form).status_code == 303
    assert [u["userRole"] for u in lumi_emulator.users(PROJECT)] == ["USER"]
    # A GET never changes anything: the change routes answer POST only.
    assert (
        console.get("users/role?projectId=p_test&email=ann@example.com&userRole=ADMIN").status_code
        == 405
    )
    assert [u["userRole"] for u in lumi_emulator.users(PROJECT)] == ["USER"]


@pytest.mark.parametrize("view", VIEWS)
def test_every_page_carries_a_strict_policy(console: Console, view: str) -> None:
    reply = console.get(view)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    policy = reply.headers["Content-Security-Policy"]
    assert policy == PAGE_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and "unsafe" not in policy
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Referrer-Policy"] == "same-origin"  # so that form posts carry Origin
    assert_inert(reply.text)


def test_unknown_static_files_and_paths_are_not_served(console: Console) -> None:
    assert console.get("static/console.js").headers["Content-Type"].startswith("text/javascript")
    assert console.get("static/..%2Fviews.py").status_code == 404
    assert console.get("static/views.py").status_code == 404
    assert console.get("nothing-here").status_code == 404


# --- escaping ---------------------------------------------------------------------------------
def test_stored_markup_is_text_in_every_view(
    console: Console, lumi_emulator: Emulator, lumi_client: Any, tmp_path: Path
) -> None:
    emu = lumi_emulator
    lumi_client.auth.send_otp(email="x@example.com", type="register")
    lumi_client.auth.sign_up_with_password(
        email="x@example.com", password="pw", otp=emu.latest_otp("x@example.com"), user_name=MARKUP
    )
    doc = emu.services.store.create(PROJECT, "Things", {"title": MARKUP, MARKUP: MARKUP}, None)
    emu.services.store.create(PROJECT, MARKUP, {"a": 1}, None)  # an entity name with markup
    emu.services.store.create(PROJECT, LINKABLE, {"a": 1}, None)
    lumi_client.tools.email.send(to="x@example.com", subject=MARKUP, html=MARKUP, text=MARKUP)
    lumi_client.tools.file.upload(
        [(MARKUP + ".svg", b"<svg onload=alert(1)></svg>", "image/svg+xml")]
    )
    session = "ab" * 16
    ingest(
        emu,
        {
            "event_id": "e1",
            "type": "turn",
            "session_id": session,
            "distinct_id": MARKUP,
            "turn_seq": 1,
            "start_ts": int(time.time() * 1000),
            "latency_ms": 12.5,
            "status": "error",
            "error": {"type": MARKUP, "message": MARKUP},
            "model": MARKUP,
            "messages": [{"role": MARKUP, "content": MARKUP}],
            "tool_calls": [{"name": MARKUP, "start_ts": int(time.time() * 1000), "latency_ms": 3}],
            "retrievals": [{"source": MARKUP, "query": MARKUP, "results": [{"content": MARKUP}]}],
            "annotations": {MARKUP: MARKUP},
        },
        {"event_id": "e2", "type": MARKUP, "name": MARKUP, "session_id": MARKUP, "timestamp": 1},
    )
    message_id = emu.outbox(PROJECT)[-1]["id"]
    pages = [
        *VIEWS,
        f"entities/{PROJECT}/Things",
        f"entities/{PROJECT}/Things/doc/{doc['_id']}",
        f"outbox/{message_id}",
        f"events/session/{session}",
        "events/session/" + quote(MARKUP, safe=""),
    ]
    for path in pages:
        reply = console.get(path)
        assert reply.status_code == 200, (path, reply.text[:300])
        page = assert_inert(reply.text)
        if path != "files":  # a stored file name is sanitised: no markup is left in it
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply.text, path
        assert not [attrs for tag, attrs in page.tags if tag == "img" and attrs.get("src") == "x"]
    # An entity whose name is markup is reachable through its own (quoted) link; one whose
    # name holds "/" (no URL path can carry it) is listed without one.
    listing = Page(console.get("entities").text)
    link = listing.link(LINKABLE)
    assert link is not None and console.get(link).status_code == 200
    assert listing.link(MARKUP) is None
    # The email's HTML is only ever served to the sandboxed frame, under its own policy.
    mail = console.get(f"outbox/{message_id}/html")
    assert mail.text == MARKUP
    assert mail.headers["Content-Security-Policy"] == MAIL_POLICY
    assert MAIL_POLICY.startswith("sandbox;") and "script-src" not in MAIL_POLICY
    assert "default-src 'none'" in MAIL_POLICY
    assert mail.headers["X-Frame-Options"] == "SAMEORIGIN"
    frame = [
        attrs
        for tag, attrs in Page(console.get(f"outbox/{message_id}").text).tags
        if tag == "iframe"
    ]
    assert frame and frame[0]["sandbox"] == ""
    # An uploaded SVG or page opens sandboxed: it cannot script the console's origin.
    url = next(f for f in emu.services.files.stored_files())
    served = requests.get(
        emu.url + emu.services.files.url_path(PROJECT, url.file_id, url.name), timeout=10
    )
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


# --- entities ---------------------------------------------------------------------------------
def _doc_page(console: Console, entity: str, doc_id: str) -> tuple[str, str]:
    reply = console.get(f"entities/{PROJECT}/{entity}/doc/{doc_id}")
    assert reply.status_code == 200
    base = Page(reply.text).field("base")
    assert base
    return reply.text, base


def test_an_edit_sets_and_removes_fields_and_keeps_system_fields(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    store = lumi_emulator.services.store
    doc = store.create(PROJECT, "Books", {"title": "Dune", "n": 1, "tags": ["a"]}, "u1")
    text, base = _doc_page(console, "Books", doc["_id"])
    edited = json.loads(textarea(text, "document-editor"))
    assert edited == doc
    edited.update(title="Dune Messiah", n=1.0, extra={"deep": [1, None]})
    del edited["tags"]
    reply = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}", {"document": json.dumps(edited), "base": base}
    )
    assert reply.status_code == 303 and "saved=1" in reply.headers["Location"]
    now = lumi_client.entities.Books.get(doc["_id"])
    stored = store.get(PROJECT, "Books", doc["_id"])
    assert stored is not None
    assert {k: v for k, v in stored.items() if k != "updatedAt"} == {
        k: v for k, v in edited.items() if k != "updatedAt"
    }
    assert isinstance(stored["n"], float)  # 1 -> 1.0 is a change the page made
    assert stored["updatedAt"] >= doc["updatedAt"] and stored["creator"] == "u1"
    assert now.title == "Dune Messiah" and "tags" not in now
    # Saving it unchanged changes nothing.
    text, base = _doc_page(console, "Books", doc["_id"])
    same = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}",
        {"document": textarea(text, "document-editor"), "base": base},
    )
    assert "unchanged=1" in same.headers["Location"]
    assert store.get(PROJECT, "Books", doc["_id"]) == stored


def test_a_stale_edit_is_a_conflict_and_keeps_both_versions(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    store = lumi_emulator.services.store
    doc = store.create(PROJECT, "Books", {"title": "Dune"}, None)
    _, base = _doc_page(console, "Books", doc["_id"])
    lumi_client.entities.Books.update(doc["_id"], {"title": "changed by the app"})
    mine = {**doc, "title": "changed in the console"}
    reply = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}", {"document": json.dumps(mine), "base": base}
    )
    assert reply.status_code == 409 and "nothing was saved" in reply.text
    assert json.loads(textarea(reply.text, "document-editor"))["title"] == "changed in the console"
    assert "changed by the app" in reply.text  # the stored version, shown
    current = store.get(PROJECT, "Books", doc["_id"])
    assert current is not None and current["title"] == "changed by the app"
    # Saved again from the conflict page (its base is the current version), it goes through.
    again = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}",
        {"document": json.dumps(mine), "base": Page(reply.text).field("base") or ""},
    )
    assert again.status_code == 303
    final = store.get(PROJECT, "Books", doc["_id"])
    assert final is not None and final["title"] == "changed in the console"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: {**d, "_id": "0" * 24}, "_id cannot be changed"),
        (lambda d: {**d, "creator": "someone"}, "creator cannot be changed"),
        (lambda d: {**d, "a.b": 1}, "field 'a.b' cannot be edited here"),
        (lambda d: {**d, "$set": 1}, "field '$set' cannot be edited here"),
        (lambda d: [d], "the document must be a JSON object"),
        (lambda d: {**d, "createdAt": 5}, "createdAt"),
    ],
)
def test_an_edit_no_update_can_make_is_refused_by_name(
    console: Console, lumi_emulator: Emulator, change: Any, message: str
) -> None:
    store = lumi_emulator.services.store
    doc = store.create(PROJECT, "Books", {"title": "Dune"}, None)
    _, base = _doc_page(console, "Books", doc["_id"])
    draft = json.dumps(change(doc))
    reply = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}", {"document": draft, "base": base}
    )
    assert reply.status_code == 400 and message in html.unescape(reply.text)
    assert textarea(reply.text, "document-editor") == draft  # what was typed is kept
    assert store.get(PROJECT, "Books", doc["_id"]) == doc


def test_typing_mistakes_are_named_and_kept(console: Console, lumi_emulator: Emulator) -> None:
    store = lumi_emulator.services.store
    doc = store.create(PROJECT, "Books", {"title": "Dune"}, None)
    _, base = _doc_page(console, "Books", doc["_id"])
    draft = '{\n  "title": "Dune",\n  oops\n}'
    reply = console.post(
        f"entities/{PROJECT}/Books/doc/{doc['_id']}", {"document": draft, "base": base}
    )
    assert reply.status_code == 400 and "not valid JSON" in reply.text and "line 3" in reply.text
    assert textarea(reply.text, "document-editor") == draft
    created = console.post(f"entities/{PROJECT}/Books/new", {"document": "[1, 2]"})
    assert created.status_code == 400 and "must be a JSON object" in created.text
    created = console.post(f"entities/{PROJECT}/Books/new", {"document": '{"_id": "nope"}'})
    assert created.status_code == 400 and "_id" in created.text
    nan = console.post(f"entities/{PROJECT}/Books/new", {"document": '{"x": NaN}'})
    assert nan.status_code == 400 and "not valid JSON" in nan.text
    assert store.find(PROJECT, "Books")[1] == 1


def test_create_and_delete_through_the_forms(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    reply = console.post(f"entities/{PROJECT}/Notes/new", {"document": '{"text": "hello", "n": 7}'})
    assert reply.status_code == 303
    doc_id = reply.headers["Location"].split("/doc/")[1].split("?")[0]
    assert lumi_client.entities.Notes.get(doc_id).text == "hello"
    deleted = console.post(f"entities/{PROJECT}/Notes/doc/{doc_id}/delete", {})
    assert deleted.status_code == 303 and f"deleted={doc_id}" in deleted.headers["Location"]
    assert lumi_emulator.services.store.get(PROJECT, "Notes", doc_id) is None
    again = console.post(f"entities/{PROJECT}/Notes/doc/{doc_id}/delete", {})
    assert again.status_code == 404 and "nothing was deleted" in again.text
    gone = console.post(f"entities/{PROJECT}/Notes/doc/{doc_id}", {"document": "{}", "base": ""})
    assert gone.status_code == 404 and "nothing was saved" in gone.text


def _walk(console: Console, first: str) -> list[str]:
    """Follow the "Next page" links from ``first``; the ids of every page, in order."""
    ids: list[str] = []
    path: str | None = first
    pages = 0
    while path:
        reply = console.get(path)
        assert reply.status_code == 200, reply.text[:500]
        page = Page(reply.text)
        ids += [label for href, label in page.links if "/doc/" in href]
        path = page.link("Next page")
        pages += 1
        assert pages < 100
    return ids


def test_keyset_pages_visit_every_match_once_in_order(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    store = lumi_emulator.services.store
    store.create_many(PROJECT, "Items", [{"n": i % 7, "odd": i % 2 == 1} for i in range(57)], None)
    expected = [
        d["_id"] for d in store.find(PROJECT, "Items", {"odd": True}, {"n": -1, "_id": 1})[0]
    ]
    query = urlencode({"filter": '{"odd": true}', "sort": "-n", "size": "10"})
    assert _walk(console, f"entities/{PROJECT}/Items?{query}") == expected
    everything = _walk(console, f"entities/{PROJECT}/Items?size=25")
    assert everything == [d["_id"] for d in store.find(PROJECT, "Items")[0]]
    reply = console.get(f"entities/{PROJECT}/Items?size=25")
    assert "Documents 1 to 25 of 57" in reply.text


def test_a_page_link_stays_exact_while_documents_are_added(
    console: Console, lumi_emulator: Emulator
) -> None:
    store = lumi_emulator.services.store
    first = store.create_many(PROJECT, "Items", [{"n": i} for i in range(30)], None)
    reply = console.get(f"entities/{PROJECT}/Items?size=10&sort=n")
    following = Page(reply.text).link("Next page")
    assert following is not None
    store.create_many(PROJECT, "Items", [{"n": -1}, {"n": 100}], None)  # before and after
    ids = _walk(console, following)
    assert ids == [d["_id"] for d in first[10:]] + [
        store.find(PROJECT, "Items", {"n": 100})[0][0]["_id"]
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"filter": '{"n": {"$where": 1}}'}, "$where"),
        ({"filter": "[1]"}, "the filter must be a JSON object"),
        ({"filter": "{"}, "the filter is not valid JSON"),
        ({"sort": "n,n"}, "twice"),
        ({"sort": '{"n": 2}'}, "sort"),
        ({"size": "7"}, "page size must be one of"),
        ({"cursor": "not-a-cursor"}, "the page link is damaged"),
        ({"cursor": "eyJtb2RlIjogImtleXNldCJ9"}, "the page link is damaged"),
    ],
)
def test_bad_queries_are_named_on_the_page(
    console: Console, lumi_emulator: Emulator, query: dict[str, str], message: str
) -> None:
    lumi_emulator.services.store.create(PROJECT, "Items", {"n": 1}, None)
    reply = console.get(f"entities/{PROJECT}/Items?" + urlencode(query))
    assert reply.status_code == 400 and message in html.unescape(reply.text)
    page = Page(reply.text)
    for name in ("filter", "sort"):
        if name in query:
            assert page.field(name) == query[name]  # what was typed is kept


def test_exports_hold_every_match_in_every_format(
    console: Console, lumi_emulator: Emulator
) -> None:
    store = lumi_emulator.services.store
    store.create_many(
        PROJECT, "Rows", [{"i": i, "tag": "x" if i % 3 else "y"} for i in range(1203)], None
    )
    expected = store.find(PROJECT, "Rows", {"tag": "x"}, {"i": -1})[0]
    base = f"entities/{PROJECT}/Rows/export?" + urlencode({"filter": '{"tag": "x"}', "sort": "-i"})
    jsonl = console.get(base + "&format=jsonl")
    assert jsonl.status_code == 200 and "attachment" in jsonl.headers["Content-Disposition"]
    assert [json.loads(line) for line in jsonl.text.splitlines()] == expected
    assert json.loads(console.get(base + "&format=json").text) == expected
    rows = list(csv.DictReader(io.StringIO(console.get(base + "&format=csv").text)))
    assert [int(r["i"]) for r in rows] == [d["i"] for d in expected]
    bad = console.get(base + "&format=xml")
    assert bad.status_code == 400 and "json, jsonl, csv" in bad.text


# --- users, outbox, files ---------------------------------------------------------------------
def test_users_and_pending_codes(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    lumi_client.auth.send_otp(email="ann@example.com", type="register")
    code = lumi_emulator.latest_otp("ann@example.com")
    assert code is not None
    page = console.get("users").text
    assert "ann@example.com" in page and code in page
    lumi_client.auth.sign_up_with_password(email="ann@example.com", password="pw", otp=code)
    page = console.get("users").text
    assert code not in page.split("Pending one-time codes")[1]  # used: no longer pending
    assert "ADMIN" in page
    other = console.get("users?project=p_other").text
    assert "ann@example.com" not in other
    bad = console.post(
        "users/role", {"projectId": PROJECT, "email": "ann@example.com", "userRole": "ROOT"}
    )
    assert bad.status_code == 400 and "userRole" in bad.text


def test_outbox_pages(console: Console, lumi_emulator: Emulator, lumi_client: Any) -> None:
    lumi_client.tools.email.send(
        to=["a@example.com", "b@example.com"], subject="Both", text="only text"
    )
    message = lumi_emulator.outbox(PROJECT)[-1]
    listing = console.get("outbox").text
    assert "a@example.com, b@example.com" in listing and "Both" in listing
    page = console.get(f"outbox/{message['id']}").text
    assert "only text" in page and "<iframe" not in page  # no HTML part: no frame
    assert console.get(f"outbox/{message['id']}/html").status_code == 404
    for absent in ["999999", "x1", "-1", "1" * 40, "%C2%B2"]:  # "²" is a digit, not decimal
        assert console.get(f"outbox/{absent}").status_code == 404, absent


def test_files_are_listed_and_deleted(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    uploaded = lumi_client.tools.file.upload(
        [("a.png", b"\x89PNG\r\n", "image/png"), ("b.txt", b"12345", "text/plain")]
    )
    page = console.get("files")
    assert "a.png" in page.text and "image/png" in page.text and "5 bytes" in page.text
    stored = {f.name: f for f in lumi_emulator.services.files.stored_files()}
    b = stored["b.txt"]
    form = {"folder": b.folder, "fileId": b.file_id, "name": b.name}
    assert console.post("files/delete", form, origin=None).status_code == 403
    reply = console.post("files/delete", form)
    assert reply.status_code == 303 and "removed=b.txt" in reply.headers["Location"]
    assert requests.get(str(uploaded[1].file_url), timeout=10).status_code == 404
    assert requests.get(str(uploaded[0].file_url), timeout=10).status_code == 200
    for folder, file_id, name in [
        ("..", b.file_id, "b.txt"),
        (b.folder, "../" + b.file_id, "b.txt"),
        (b.folder, stored["a.png"].file_id, "../a.png"),
        ("/etc", "0" * 24, "passwd"),
    ]:
        refused = console.post("files/delete", {"folder": folder, "fileId": file_id, "name": name})
        assert refused.status_code == 404
    assert "a.png" in [f.name for f in lumi_emulator.services.files.stored_files()]


def test_a_project_id_unsafe_as_a_folder_is_still_shown_by_its_id(
    console: Console, lumi_emulator: Emulator
) -> None:
    files = lumi_emulator.services.files
    files.save_bytes("team/\N{GREEK SMALL LETTER ALPHA}", "x.txt", b"x")
    unknown = console.get("files").text
    assert "unknown project" in unknown  # nothing else names the project yet
    lumi_emulator.services.store.create(
        "team/\N{GREEK SMALL LETTER ALPHA}", "Things", {"a": 1}, None
    )
    known = console.get("files").text
    assert (
        "<code>team/\N{GREEK SMALL LETTER ALPHA}</code>" in known and "unknown project" not in known
    )


# --- events -----------------------------------------------------------------------------------
HOSTILE_EVENTS: list[dict[str, Any]] = [
    {
        "event_id": "h1",
        "type": "turn",
        "session_id": "s" * 32,
        "latency_ms": "fast",
        "start_ts": "now",
    },
    {
        "event_id": "h2",
        "type": "turn",
        "session_id": "s" * 32,
        "latency_ms": -5,
        "turn_seq": "x",
        "messages": "not a list",
        "tool_calls": {"a": 1},
        "llm_calls": [1, None, {"latency_ms": True}],
        "retrievals": [{"results": "none"}, 3],
        "error": "just text",
        "annotations": [1, 2],
    },
    {
        "event_id": "h3",
        "type": "turn",
        "session_id": "s" * 32,
        "latency_ms": 1e300,
        "start_ts": 10**30,
        "status": ["error"],
    },
    {"event_id": "h4", "type": None, "session_id": 42, "timestamp": -1},
    {
        "event_id": "h5",
        "type": "turn",
        "session_id": "t" * 32,
        "messages": [{"role": None}],
        "start_ts": 1.5e12,
        "latency_ms": 0,
        "llm_calls": [{"start_ts": 1.5e12 - 10, "latency_ms": 1e9}],
    },
    {"event_id": "h6", "nested": json.loads("[" * 200 + "]" * 200)},
]


def test_hostile_events_never_break_the_events_views(
    console: Console, lumi_emulator: Emulator
) -> None:
    ingest(lumi_emulator, *HOSTILE_EVENTS)
    reply = requests.post(
        lumi_emulator.url + "/collect/sdk/events",
        data=b'{"event_id": "nan", "type": "turn", "session_id": "'
        + b"u" * 32
        + b'", "latency_ms": NaN, "start_ts": Infinity}\n',
        headers={"X-Api-Key": "k", "Content-Type": "application/x-ndjson"},
        timeout=10,
    )
    assert reply.json()["accepted"] == 1
    page = console.get("events")
    assert page.status_code == 200 and "7 events received" in page.text
    assert_inert(page.text)
    for session in ("s" * 32, "t" * 32, "u" * 32):
        detail = console.get(f"events/session/{session}")
        assert detail.status_code == 200, detail.text[:400]
        assert_inert(detail.text)
    detail = console.get(f"events/session/{'s' * 32}").text
    assert "not a list" in detail and "just text" in detail  # shown raw, not dropped
    assert console.get("events/session/" + "0" * 32).status_code == 404


def test_the_overview_reads_a_bounded_window(
    console: Console, lumi_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lumi.emulator.console import conversations

    monkeypatch.setattr(conversations, "WINDOW", 5)
    now = int(time.time() * 1000)
    ingest(
        lumi_emulator,
        *[
            {
                "event_id": f"w{i}",
                "type": "turn",
                "session_id": f"{i:032x}",
                "turn_seq": 1,
                "start_ts": now + i,
                "latency_ms": i,
            }
            for i in range(12)
        ],
    )
    page = console.get("events").text
    assert "12 events received; the views below read the newest 5" in page
    assert f"{11:032x}" in page and f"{0:032x}" not in page.split("Sessions")[1]
    assert console.get(f"events/session/{0:032x}").status_code == 200  # a session page reads all


# --- live refresh -----------------------------------------------------------------------------
def test_each_views_stamp_changes_with_what_it_shows(
    console: Console, lumi_emulator: Emulator, lumi_client: Any
) -> None:
    def stamps() -> dict[str, str]:
        reply = console.get("stamp")
        assert reply.headers["Content-Type"] == "application/json"
        return dict(reply.json())

    before = stamps()
    lumi_client.tools.email.send(to="a@example.com", subject="s", text="t")
    after = stamps()
    assert after["outbox"] != before["outbox"]
    assert after["entities"] == before["entities"] and after["files"] == before["files"]
    lumi_emulator.services.store.create(PROJECT, "X", {"a": 1}, None)
    assert stamps()["entities"] != after["entities"]
    lumi_client.tools.file.upload([("f.txt", b"1", "text/plain")])
    assert stamps()["files"] != after["files"]
    ingest(lumi_emulator, {"event_id": "st1", "type": "ui_event"})
    assert stamps()["events"] != after["events"]
    # The page carries its view's stamp as of rendering, the script's starting point.
    page = console.get("outbox").text
    assert f'data-stamp="{stamps()["outbox"]}"' in page.replace("&#39;", "'")


# --- bounded queries --------------------------------------------------------------------------
def test_a_console_query_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "slow.sqlite3"
    sqlite3.connect(path).close()
    started = time.monotonic()
    with (
        pytest.raises(ConsoleQueryError, match=r"took longer than 0\.2 s"),
        read_only(path, 0.2) as conn,
    ):
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        ).fetchone()
    assert time.monotonic() - started < 30  # interrupted, not run to the end (it never ends)
    with pytest.raises(ConsoleQueryError, match="missing"), read_only(tmp_path / "none.sqlite3"):
        pass
    with pytest.raises(ConsoleQueryError, match="readonly"), read_only(path) as conn:
        conn.execute("CREATE TABLE t (x)")


def test_the_cli_banner_and_the_emulator_name_the_console(lumi_emulator: Emulator) -> None:
    from lumi.emulator.cli import _banner

    url = lumi_emulator.console_url
    assert re.fullmatch(
        re.escape(lumi_emulator.url) + r"/_emulator/login\?token=[\w-]+&next=/_emulator/ui/", url
    )
    lines = _banner(lumi_emulator, temporary=True, fixed_otp=None)
    assert f"Console: {url}" in lines
    assert "token" not in repr(lumi_emulator)


def test_the_console_line_of_lumi_emulator_opens_the_console() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lumi.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Press Ctrl+C"):
            lines.append(process.stdout.readline())
            assert lines[-1], lines  # the process ended early
        (console_line,) = [line for line in lines if line.startswith("Console: ")]
        url = console_line.split(" ", 1)[1].strip()
        browser = requests.Session()
        page = browser.get(url, timeout=10)  # the login, then the console
        assert page.status_code == 200 and page.url.endswith("/_emulator/ui/entities")
        assert "<h1>Entities</h1>" in page.text
        assert requests.get(page.url, timeout=10).status_code == 403  # not without the cookie
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_the_request_log_leaves_out_the_consoles_poll(caplog: pytest.LogCaptureFixture) -> None:
    with Emulator(quiet=False) as emu, caplog.at_level("INFO", logger="lumi.emulator"):
        console = Console(emu)
        assert console.get("stamp").status_code == 200
        assert console.get("outbox").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "lumi.emulator"]
    assert any("/_emulator/ui/outbox" in line for line in logged)
    assert not any("/stamp" in line for line in logged)
    assert not any(emu.private_token in line for line in logged)
