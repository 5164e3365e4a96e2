"""Uploaded files, kept under ``<data>/files/<project>/<file id>/<name>`` and served back at
``/files/<project>/<file id>/<name>`` (public: a file URL is what an app shows in ``<img>``;
the random 96-bit id is what keeps it from being guessed)."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, unquote, urlsplit

from werkzeug.utils import secure_filename

from lumi.emulator.envelope import bad_request
from lumi.emulator.limits import MAX_FILE_NAME_CHARS, MAX_STORED_NAME_BYTES

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
URL_PREFIX = "/files/"
_SAFE_DIR = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FILE_ID = re.compile(r"[0-9a-f]{24}")
_HASHED_DIR = re.compile(r"h-[0-9a-f]{32}")
_CHUNK = 64 * 1024


class UploadRefused(Exception):
    """This one file cannot be stored (its name, its size, the disk); the message says why."""


def _describe(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


@dataclass(frozen=True)
class StoredFile:
    """One stored file, as the console lists it."""

    folder: str
    """The project's folder: the project id, or ``h-<hash>`` for an id unsafe as a name."""
    file_id: str
    name: str
    size: int
    modified: float
    """When it was stored (Unix seconds)."""


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

    @staticmethod
    def stored_name(file_name: str) -> str:
        """The name kept on disk and in the URL: ASCII, no path, at most MAX_STORED_NAME_BYTES
        (the extension kept); ``UploadRefused`` for a name longer than MAX_FILE_NAME_CHARS."""
        if len(file_name) > MAX_FILE_NAME_CHARS:
            raise UploadRefused(
                f"the file name is {len(file_name)} characters long; the limit is"
                f" {MAX_FILE_NAME_CHARS} characters"
            )
        name = secure_filename(file_name) or "file"
        if len(name) > MAX_STORED_NAME_BYTES:  # NFKD can lengthen a name (e.g. "㎒" -> "MHz")
            stem, dot, extension = name.rpartition(".")
            keep = extension[:16] if dot and stem else ""
            name = name[: MAX_STORED_NAME_BYTES - len(keep) - 1].rstrip(".") + (
                "." + keep if keep else ""
            )
        return name

    def save(self, project_id: str, file_name: str, stream: IO[bytes]) -> str:
        """Store the stream and return its URL path; ``UploadRefused`` for a name over the
        limit, a file over the size limit, or a disk error (nothing is left behind)."""
        name = self.stored_name(file_name)
        file_id = secrets.token_hex(12)
        folder = self._project_dir(project_id) / file_id
        size = 0
        try:
            folder.mkdir(parents=True)
            with open(folder / name, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_file_size:
                        raise UploadRefused(
                            f"{file_name} is larger than the {_describe(self.max_file_size)}"
                            " limit per file"
                        )
                    out.write(chunk)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise UploadRefused(f"{file_name} could not be stored: {exc.strerror or exc}") from exc
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.url_path(project_id, file_id, name)

    def discard(self, url_paths: list[str]) -> None:
        """Delete files just stored (a batch that failed after them: no orphan is kept)."""
        for url_path in url_paths:
            parts = url_path[len(URL_PREFIX) :].split("/")
            if len(parts) == 3:
                self._remove(unquote(parts[0]), parts[1], unquote(parts[2]))

    def _remove(self, project_id: str, file_id: str, name: str) -> bool:
        found = self.locate(project_id, file_id, name)
        if found is not None:
            shutil.rmtree(found.parent, ignore_errors=True)
        return found is not None

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
            path = urlsplit(url).path
            parts = path[len(URL_PREFIX) :].split("/")  # [pid, id, name]
            if not path.startswith(URL_PREFIX) or len(parts) != 3:
                raise bad_request(f"not a file URL of this emulator: {url:.300}")
            if unquote(parts[0]) != project_id:
                raise bad_request(f"the file URL belongs to another project: {url:.300}")
            targets.append((parts[1], unquote(parts[2])))
        return sum(self._remove(project_id, file_id, name) for file_id, name in targets)

    def folder(self, project_id: str) -> str:
        """The name of the project's folder (what :class:`StoredFile` calls ``folder``)."""
        return self._project_dir(project_id).name

    @staticmethod
    def folder_project(folder: str) -> str | None:
        """The project id a folder's name is, or None for a hashed one (see :meth:`folder`)."""
        return None if _HASHED_DIR.fullmatch(folder) else folder

    def stored_files(self) -> list[StoredFile]:
        """Every stored file, newest first (a folder or file removed meanwhile is skipped)."""
        found: list[StoredFile] = []
        for project in _subfolders(self.root):
            if not (_SAFE_DIR.fullmatch(project.name) or _HASHED_DIR.fullmatch(project.name)):
                continue
            for holder in _subfolders(project):
                if not _FILE_ID.fullmatch(holder.name):
                    continue
                for entry in _entries(holder):
                    if not entry.is_file():
                        continue
                    try:
                        stat = entry.stat()
                    except OSError:
                        continue
                    found.append(
                        StoredFile(
                            project.name, holder.name, entry.name, stat.st_size, stat.st_mtime
                        )
                    )
        found.sort(key=lambda item: (-item.modified, item.folder, item.file_id))
        return found

    def remove_stored(self, folder: str, file_id: str, name: str) -> bool:
        """Delete a file named as :meth:`stored_files` names it; False when there is none."""
        if not (_SAFE_DIR.fullmatch(folder) or _HASHED_DIR.fullmatch(folder)):
            return False
        if not _FILE_ID.fullmatch(file_id) or name != secure_filename(name):
            return False
        path = self.root / folder / file_id / name
        if not path.is_file():
            return False
        shutil.rmtree(path.parent, ignore_errors=True)
        return True

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)


def _subfolders(path: Path) -> list[Path]:
    return [entry for entry in _entries(path) if entry.is_dir()]


def _entries(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except OSError:  # removed meanwhile, or not a folder
        return []
