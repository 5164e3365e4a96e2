"""File upload (multipart `files`), serving at the returned URL, the size limit and deletion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
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


def _stored(emu: Emulator) -> list[str]:
    root = emu.data_dir / "files"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_bad_name_is_that_files_own_error_and_leaves_no_orphan(api: Api, emu: Emulator) -> None:
    long_name = "a" * 296 + ".txt"  # 300 characters: the whole batch used to fail
    files = [
        ("files", (long_name, b"bad", "text/plain")),
        ("files", ("good.txt", b"good", "text/plain")),
        ("files", ("b" * 255, b"edge", "text/plain")),
    ]
    bad, good, edge = api.ok("POST", BATCH, files=files)
    assert bad == {
        "fileName": long_name,
        "uploadError": "the file name is 300 characters long; the limit is 255 characters",
    }
    assert requests.get(good["fileUrl"], timeout=10).content == b"good"
    assert requests.get(edge["fileUrl"], timeout=10).content == b"edge"
    # Exactly the two good files are stored; the 255-character name is cut to 199 on disk.
    assert sorted(Path(name).name for name in _stored(emu)) == ["b" * 199, "good.txt"]
    assert edge["fileUrl"].endswith("/" + "b" * 199)


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("..", "file"),
        ("", "file"),
        ("résumé 2026.pdf", "resume_2026.pdf"),
        ("a\x00b.txt", "ab.txt"),
        ("㎒" * 100 + ".png", "MHz" * 65 + "M.png"),  # NFKD lengthens it: cut, extension kept
    ],
)
def test_names_are_sanitised_to_a_bounded_length(api: Api, name: str, stored: str) -> None:
    [item] = api.ok("POST", BATCH, files=[("files", (name, b"x", "text/plain"))])
    assert item["fileName"] == (name or "file")
    assert item["fileUrl"].rsplit("/", 1)[1] == stored
    assert len(stored.encode()) <= 200
    assert requests.get(item["fileUrl"], timeout=10).content == b"x"


def test_a_crash_in_the_middle_of_a_batch_keeps_no_file(
    api: Api, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: the third file's save fails unexpectedly; the two stored before it are
    removed (the caller never learns their URLs) and the reply is a 500."""
    real_save = emu.services.files.save
    calls = []

    def flaky(project_id: str, name: str, stream: Any) -> str:
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("injected")
        return real_save(project_id, name, stream)

    monkeypatch.setattr(emu.services.files, "save", flaky)
    files = [("files", (f"f{i}.txt", b"x", "text/plain")) for i in range(4)]
    response = api.request("POST", BATCH, files=files)
    assert response.status_code == 500 and response.json()["code"] == 10500
    assert calls == ["f0.txt", "f1.txt", "f2.txt"] and _stored(emu) == []


def test_a_disk_error_is_that_files_own_error(
    api: Api, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_open = builtins.open

    def no_space(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("full.txt") and "w" in mode:
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_space)
    files = [
        ("files", ("full.txt", b"x", "text/plain")),
        ("files", ("fine.txt", b"y", "text/plain")),
    ]
    full_item, fine = api.ok("POST", BATCH, files=files)
    monkeypatch.undo()
    assert full_item == {
        "fileName": "full.txt",
        "uploadError": "full.txt could not be stored: No space left on device",
    }
    assert requests.get(fine["fileUrl"], timeout=10).content == b"y"
    assert [Path(p).name for p in _stored(emu)] == ["fine.txt"]
