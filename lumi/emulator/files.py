"""Uploaded files, kept under ``<data>/files/<project>/<file id>/<name>`` and served back."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shutil
from pathlib import Path
from typing import IO
from urllib.parse import quote, unquote, urlsplit

from werkzeug.utils import secure_filename

from lumi.emulator.envelope import bad_request

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
URL_PREFIX = "/_emulator/files/"
_SAFE_DIR = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FILE_ID = re.compile(r"[0-9a-f]{24}")
_CHUNK = 64 * 1024


class FileTooLarge(Exception):
    """The file is larger than the per-file limit."""


def _describe(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


class FileStorage:
    """Files on disk, addressed by project, a random id and a sanitised name."""

    def __init__(self, root: Path, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.root = root
        self.max_file_size = max_file_size
        root.mkdir(parents=True, exist_ok=True)

    def _project_dir(self, project_id: str) -> Path:
        # Any project id is accepted; one that is not a safe directory name is hashed.
        if _SAFE_DIR.fullmatch(project_id):
            return self.root / project_id
        return self.root / ("h-" + hashlib.sha256(project_id.encode()).hexdigest()[:32])

    def save(self, project_id: str, file_name: str, stream: IO[bytes]) -> str:
        """Store the stream and return its URL path; ``FileTooLarge`` past the limit."""
        name = secure_filename(file_name) or "file"
        file_id = secrets.token_hex(12)
        folder = self._project_dir(project_id) / file_id
        folder.mkdir(parents=True)
        size = 0
        try:
            with open(folder / name, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_file_size:
                        raise FileTooLarge(
                            f"{file_name} is larger than the {_describe(self.max_file_size)}"
                            " limit per file"
                        )
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.url_path(project_id, file_id, name)

    def save_bytes(self, project_id: str, file_name: str, data: bytes) -> str:
        return self.save(project_id, file_name, io.BytesIO(data))

    @staticmethod
    def url_path(project_id: str, file_id: str, name: str) -> str:
        return f"{URL_PREFIX}{quote(project_id, safe='')}/{file_id}/{quote(name, safe='')}"

    def locate(self, project_id: str, file_id: str, name: str) -> Path | None:
        """The file's path, or None; nothing outside the storage root can be named."""
        if not _FILE_ID.fullmatch(file_id) or name != secure_filename(name):
            return None
        path = self._project_dir(project_id) / file_id / name
        return path if path.is_file() else None

    def delete_urls(self, project_id: str, urls: list[str]) -> int:
        """Delete the files of these URLs (all checked first); returns how many existed."""
        targets: list[tuple[str, str]] = []
        for url in urls:
            if not isinstance(url, str):
                raise bad_request(f"fileUrls must hold strings, not {url!r}")
            parts = urlsplit(url).path.split("/")
            # ["", "_emulator", "files", pid, id, name]
            if len(parts) != 6 or "/".join(parts[:3]) + "/" != URL_PREFIX:
                raise bad_request(f"not a file URL of this emulator: {url}")
            if unquote(parts[3]) != project_id:
                raise bad_request(f"the file URL belongs to another project: {url}")
            targets.append((parts[4], unquote(parts[5])))
        deleted = 0
        for file_id, name in targets:
            path = self.locate(project_id, file_id, name)
            if path is not None:
                shutil.rmtree(path.parent, ignore_errors=True)
                deleted += 1
        return deleted

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
