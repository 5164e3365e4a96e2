"""With a data directory, everything survives a restart; without one, nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from lumi.emulator.server import Emulator

from .conftest import PID, Api


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path, fixed_otp="424242") as emu:
        api = Api(emu.url)
        user = api.sign_up(emu, "keep@example.com", "pw")
        doc = api.ok("POST", f"/lm/{PID}/notes/documents", {"t": "x"}, token=user["userToken"])
        api.ok(
            "POST", f"/lm/{PID}/email/send", {"to": ["k@example.com"], "subject": "S", "text": "t"}
        )
        [item] = api.ok(
            "POST", f"/lm/{PID}/file/batch", files=[("files", ("f.txt", b"data", "text/plain"))]
        )
        requests.post(
            emu.url + "/collect/sdk/events",
            data=json.dumps({"event_id": "e1"}).encode(),
            headers={"Content-Type": "application/x-ndjson", "X-Api-Key": "k"},
            timeout=10,
        )
        old_url = emu.url
    with Emulator(data_dir=tmp_path) as emu:
        api = Api(emu.url)
        assert api.sign_in("keep@example.com", "pw")["code"] == 200
        assert (
            api.ok("POST", "/lm/user/info", token=user["userToken"])["email"] == "keep@example.com"
        )
        assert api.ok("GET", f"/lm/{PID}/notes/documents/{doc['_id']}") == doc
        assert [m["subject"] for m in emu.outbox(PID) if m["kind"] == "email"] == ["S"]
        assert emu.latest_otp("keep@example.com") == "424242"
        assert [e["event_id"] for e in emu.events()] == ["e1"]
        moved = item["fileUrl"].replace(old_url, emu.url)
        assert requests.get(moved, timeout=10).content == b"data"


def test_a_temporary_emulator_cleans_up() -> None:
    with Emulator() as emu:
        data_dir = emu.data_dir
        assert (data_dir / "emulator.sqlite3").is_file()
    assert not data_dir.exists()


def test_reset_empties_everything(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path, fixed_otp="000000") as emu:
        api = Api(emu.url)
        api.sign_up(emu, "r@example.com")
        api.ok("POST", f"/lm/{PID}/notes/documents", {"t": 1})
        api.ok("POST", f"/lm/{PID}/file/batch", files=[("files", ("f.txt", b"d", "text/plain"))])
        reply = requests.post(
            emu.url + "/_emulator/reset", headers=emu.private_headers, timeout=10
        ).json()
        assert reply == {"code": 200, "message": "success", "data": None}
        assert emu.users() == [] and emu.outbox() == []
        assert api.ok("POST", f"/lm/{PID}/notes/documents/list", {}) == []
        assert list((tmp_path / "files").iterdir()) == []
