"""File upload (multipart `files`), serving at the returned URL, the size limit and deletion."""

from __future__ import annotations

import requests

from lumi.emulator.server import Emulator

from .conftest import MAX_FILE_SIZE, PID, Api

BATCH = f"/lm/{PID}/file/batch"


def test_upload_serve_delete(api: Api, emu: Emulator) -> None:
    files = [
        ("files", ("notes.txt", b"hello", "text/plain")),
        ("files", ("../../evil name.png", b"\x89PNG fake", "image/png")),
    ]
    items = api.ok("POST", BATCH, files=files)
    assert [item["fileName"] for item in items] == ["notes.txt", "../../evil name.png"]
    assert all("uploadError" not in item for item in items)
    first, second = (item["fileUrl"] for item in items)
    assert first.startswith(f"{emu.url}/files/{PID}/") and first.endswith("/notes.txt")
    served = requests.get(first, timeout=10)
    assert served.status_code == 200 and served.content == b"hello"
    assert served.headers["Content-Type"].startswith("text/plain")
    assert requests.get(second, timeout=10).content == b"\x89PNG fake"
    assert "/evil_name.png" in second  # the name is sanitised; nothing escapes the folder
    assert api.ok("DELETE", BATCH, {"fileUrls": [first]}) is None
    gone = requests.get(first, timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == 10404
    assert requests.get(second, timeout=10).status_code == 200


def test_size_limit_is_per_file(api: Api) -> None:
    files = [
        ("files", ("big.bin", b"x" * (MAX_FILE_SIZE + 1), "application/octet-stream")),
        ("files", ("ok.bin", b"x" * MAX_FILE_SIZE, "application/octet-stream")),
    ]
    big, ok = api.ok("POST", BATCH, files=files)
    assert big == {
        "fileName": "big.bin",
        "uploadError": "big.bin is larger than the 65536 bytes limit per file",
    }
    assert "fileUrl" in ok and len(requests.get(ok["fileUrl"], timeout=10).content) == MAX_FILE_SIZE


def test_upload_errors(api: Api) -> None:
    reply = api.error("POST", BATCH, {"files": []})
    assert reply["code"] == 10400 and "multipart/form-data" in reply["message"]
    reply = api.error("POST", BATCH, files=[("other", ("a.txt", b"a", "text/plain"))])
    assert reply["message"] == "multipart field 'files' is required (file fields received: other)"


def test_delete_refuses_foreign_urls(api: Api, emu: Emulator) -> None:
    [item] = api.ok("POST", BATCH, files=[("files", ("a.txt", b"a", "text/plain"))])
    reply = api.error("DELETE", "/lm/p_other/file/batch", {"fileUrls": [item["fileUrl"]]})
    assert "belongs to another project" in reply["message"]
    reply = api.error("DELETE", BATCH, {"fileUrls": ["https://example.com/x.png"]})
    assert reply["message"] == "not a file URL of this emulator: https://example.com/x.png"
    assert "fileUrls is required" in api.error("DELETE", BATCH, {})["message"]
    assert requests.get(item["fileUrl"], timeout=10).content == b"a"  # nothing was deleted


def test_serving_cannot_escape_the_storage(emu: Emulator) -> None:
    for path in (
        f"/files/{PID}/..%2F..%2F/emulator.sqlite3",
        f"/files/{PID}/0123456789abcdef01234567/..",
        "/files/../emulator.sqlite3/x/y",
    ):
        response = requests.get(emu.url + path, timeout=10)
        assert response.status_code == 404, path
        assert response.json()["code"] == 10404
