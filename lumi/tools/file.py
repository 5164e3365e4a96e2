"""``client.tools.file``: multipart upload (requests' encoder) and delete."""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, Union

from .._generated.models import UploadItem
from .._js import a_json_type
from .._options import as_list
from ..envelope import read_reply
from ..errors import InvalidResponseError, ValidationError
from ..transport import FilePart

if TYPE_CHECKING:
    from ..client import LumiClient

#: A path, a ``(name, bytes or binary file[, content type])`` tuple, or a binary file object.
UploadSource = Union[str, "os.PathLike[str]", tuple[Any, ...], IO[bytes]]


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class _Upload:
    """One file to send; can be replayed (re-opened or rewound) if the request is retried."""

    def __init__(self, source: UploadSource) -> None:
        self._path: str | None = None
        self._data: bytes | None = None
        self._file: IO[bytes] | None = None
        self._start = 0
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise ValidationError(f"cannot upload {path!r}: no such file")
            self._path, self.name = path, os.path.basename(path)
            self.content_type, self.size = _content_type(self.name), os.path.getsize(path)
        elif isinstance(source, tuple):
            if len(source) not in (2, 3) or not isinstance(source[0], str):
                raise ValidationError(
                    "an upload tuple is (name, bytes or binary file[, content type]), "
                    f"got {len(source)} items"
                )
            self.name = source[0]
            self.content_type = source[2] if len(source) == 3 else _content_type(self.name)
            self._take_content(source[1])
        else:
            self.name = os.path.basename(str(getattr(source, "name", "") or "file"))
            self.content_type = _content_type(self.name)
            self._take_content(source)

    def _take_content(self, content: Any) -> None:
        if isinstance(content, (bytes, bytearray, memoryview)):
            self._data = bytes(content)
            self.size = len(self._data)
        elif isinstance(content, io.TextIOBase):
            raise ValidationError(f"upload {self.name!r}: open the file in binary mode ('rb')")
        elif hasattr(content, "read"):
            if content.seekable():
                self._file, self._start = content, content.tell()
                self.size = content.seek(0, io.SEEK_END) - self._start
                content.seek(self._start)
            else:
                self._data = content.read()
                if not isinstance(self._data, bytes):
                    raise ValidationError(f"upload {self.name!r}: the file must give bytes")
                self.size = len(self._data)
        else:
            raise ValidationError(
                f"cannot upload {type(content).__name__}: give a path, bytes or a binary file"
            )

    def part(self, opened: list[IO[bytes]]) -> FilePart:
        if self._path is not None:
            handle = open(self._path, "rb")  # noqa: SIM115 - closed by upload() after the request
            opened.append(handle)
            return ("files", (self.name, handle, self.content_type))
        if self._file is not None:
            self._file.seek(self._start)
            return ("files", (self.name, self._file, self.content_type))
        return ("files", (self.name, self._data, self.content_type))


def _one_upload_tuple(value: Any) -> bool:
    """Whether ``value`` has the shape of one ``(name, content[, type])`` upload tuple."""
    return (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and isinstance(value[0], str)
        and (isinstance(value[1], (bytes, bytearray, memoryview)) or hasattr(value[1], "read"))
    )


def _upload_results(data: Any) -> list[UploadItem]:
    if not isinstance(data, list):
        raise InvalidResponseError(
            200, f"upload: expected a list of results, got {a_json_type(data)}"
        )
    return [read_reply(item, UploadItem, "upload") for item in data]


class FileTool:
    """Upload files to the project's storage and delete them."""

    def __init__(self, client: LumiClient) -> None:
        self._client = client

    def upload(self, files: Iterable[UploadSource]) -> list[UploadItem]:
        """Upload files; one result per file, in order, each with ``file_url`` or ``upload_error``.

        A file the service refuses (too large, ...) has ``upload_error`` set; the others succeed.
        """
        example = "upload(['report.pdf', ('a.txt', b'hi')])"
        if _one_upload_tuple(files):  # a tuple is a list of files too: refuse, do not guess
            raise ValidationError(f"upload() takes a list of files: wrap one in a list, {example}")
        sources = as_list("upload()", files, "files", example)
        uploads = [_Upload(source) for source in sources]
        if not uploads:
            raise ValidationError("upload needs at least one file")
        opened: list[IO[bytes]] = []
        try:
            results: list[UploadItem] = self._client._call(
                "uploadFiles",
                files=lambda: [upload.part(opened) for upload in uploads],
                files_identity=tuple((u.name, u.size) for u in uploads),
                read=_upload_results,
            )
        finally:
            for handle in opened:
                handle.close()
        return results

    def delete(self, file_urls: Sequence[str] | str) -> None:
        """Delete stored files by the ``file_url`` their upload returned."""
        urls = (
            [file_urls]
            if isinstance(file_urls, str)
            else as_list("delete()", file_urls, "file URLs", "delete(['https://...'])")
        )
        if not urls:
            raise ValidationError("delete needs file URLs (strings), got none")
        for index, url in enumerate(urls):
            if not isinstance(url, str) or not url:
                # What is wrong, not the value: a file URL may carry a signature.
                what = "an empty string" if url == "" else type(url).__name__
                raise ValidationError(
                    f"delete needs file URLs (non-empty strings); item {index} is {what}"
                )
        self._client._call("deleteFiles", json={"fileUrls": urls})
