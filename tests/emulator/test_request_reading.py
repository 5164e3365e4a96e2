"""The emulator reads a request's path and body as Werkzeug's ``Request`` does, with shortcuts
(no body to read, the path without a request object) that change no result."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from lumi.emulator.app import _path
from lumi.emulator.context import Call, _no_body


class _Stream(io.RawIOBase):
    """An input stream that is not a BytesIO (as some WSGI servers give)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def _environ(data: bytes, stream: str, length: str | None, terminated: bool) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "wsgi.input": io.BytesIO(data) if stream == "bytesio" else _Stream(data),
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def _outcome(read: Any) -> Any:
    try:
        return read()
    except HTTPException as exc:
        return type(exc)


@given(
    data=st.sampled_from([b"", b"{}", b'{"x":1}']) | st.binary(max_size=20),
    stream=st.sampled_from(["bytesio", "raw"]),
    length=st.sampled_from([None, "", "0", "2", "7", "-1", "x"]),
    terminated=st.booleans(),
    limit=st.sampled_from([1, 5, 1000]),
)
def test_the_body_reads_as_werkzeug_reads_it(
    data: bytes, stream: str, length: str | None, terminated: bool, limit: int
) -> None:
    ours = Call(_environ(data, stream, length, terminated), None, {}, limit)  # type: ignore[arg-type]
    theirs = Request(_environ(data, stream, length, terminated))
    theirs.max_content_length = limit
    assert _outcome(ours.body) == _outcome(lambda: theirs.get_data(cache=True))
    assert _outcome(ours.body) == _outcome(lambda: theirs.get_data(cache=True))  # cached


def test_the_shortcut_is_taken_only_for_an_empty_in_memory_input() -> None:
    assert _no_body(_environ(b"", "bytesio", None, True))
    assert _no_body(_environ(b"", "bytesio", "0", True))
    assert not _no_body(_environ(b"{}", "bytesio", None, True))  # e.g. a dechunked body
    assert not _no_body(_environ(b"", "raw", None, True))
    assert not _no_body(_environ(b"", "bytesio", "2", True))


@given(st.text(st.characters(max_codepoint=255), max_size=30))
def test_the_path_is_werkzeugs(path_info: str) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "wsgi.input": io.BytesIO()}
    assert _path(environ) == Request(environ).path


@pytest.mark.parametrize("path_info", ["", "/", "//lm/p", "/lm/p/é".encode().decode("latin-1")])
def test_paths_of_note(path_info: str) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "wsgi.input": io.BytesIO()}
    assert _path(environ) == Request(environ).path
