"""What the emulator holds, in the few read-only queries the console needs beyond the services'
public methods: projects and entities with their sizes, pending one-time codes, and a stamp
per view that changes whenever what the view shows may have changed (the live refresh polls it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumi.emulator.console.readonly import read_only
from lumi.emulator.context import Services
from lumi.emulator.users import OTP_MAX_FAILURES

EMULATOR_DB = "emulator.sqlite3"
ENTITIES_DB = "entities.sqlite3"


@dataclass(frozen=True)
class EntitySummary:
    project: str
    entity: str
    documents: int


@dataclass(frozen=True)
class PendingCode:
    """A one-time code that can still be used."""

    project: str
    email: str
    purpose: str
    code: str | None
    """As mailed (from the outbox); None when that mail is gone."""
    expires_at: float
    failures: int


def data_dir(services: Services) -> Path:
    if services.data_dir is None:
        raise RuntimeError("the console needs the emulator's data folder (Services.data_dir)")
    return services.data_dir


def entities(services: Services) -> list[EntitySummary]:
    """Every (project, entity) that holds documents, by project then entity."""
    with read_only(data_dir(services) / ENTITIES_DB) as conn:
        rows = conn.execute(
            "SELECT project, entity, documents FROM scopes WHERE documents > 0"
            " ORDER BY project, entity"
        ).fetchall()
    return [EntitySummary(str(p), str(e), int(n)) for p, e, n in rows]


def projects(services: Services) -> list[str]:
    """Every project the emulator has seen: documents, users, mail, files or events."""
    found: set[str] = {summary.project for summary in entities(services)}
    with read_only(data_dir(services) / EMULATOR_DB) as conn:
        for table in ("users", "outbox", "events"):  # fixed names, no user input
            found.update(
                str(row[0])
                for row in conn.execute(
                    f"SELECT DISTINCT project_id FROM {table} WHERE project_id IS NOT NULL"
                )
            )
    folders = {stored.folder for stored in services.files.stored_files()}
    found.update(p for p in _owners(services, folders, found).values() if p is not None)
    return sorted(found)


def project_of_folder(services: Services, folders: Iterable[str]) -> dict[str, str | None]:
    """The project id of each file folder; None for a hashed folder no known project has."""
    return _owners(services, folders, set(projects(services)))


def _owners(
    services: Services, folders: Iterable[str], known: Iterable[str]
) -> dict[str, str | None]:
    by_folder = {services.files.folder(project): project for project in known}
    return {
        folder: by_folder.get(folder, services.files.folder_project(folder)) for folder in folders
    }


def pending_codes(services: Services, project: str | None, now: float) -> list[PendingCode]:
    """Unexpired codes not yet used up, newest expiry first, with the code from their mail."""
    sql = "SELECT project_id, email, purpose, expires_at, failures FROM otps WHERE expires_at > ?"
    params: list[Any] = [now]
    if project is not None:
        sql += " AND project_id = ?"
        params.append(project)
    with read_only(data_dir(services) / EMULATOR_DB) as conn:
        rows = conn.execute(sql + " ORDER BY expires_at DESC", params).fetchall()
        mails = conn.execute(
            "SELECT project_id, otp, message FROM outbox WHERE kind = 'otp' ORDER BY id"
        ).fetchall()
    mailed: dict[tuple[str, str, str], str] = {}
    for mail_project, code, text in mails:  # oldest first: the last code mailed wins
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if not isinstance(message, dict) or not isinstance(code, str):
            continue
        for to in message.get("to") or []:
            mailed[(str(mail_project), str(to).lower(), str(message.get("emailType")))] = code
    return [
        PendingCode(
            str(p), str(e), str(k), mailed.get((str(p), str(e).lower(), str(k))), float(t), int(f)
        )
        for p, e, k, t, f in rows
        if int(f) < OTP_MAX_FAILURES
    ]


def stamps(services: Services) -> dict[str, str]:
    """A value per view that changes when what the view shows may have changed."""
    folder = data_dir(services)
    with read_only(folder / EMULATOR_DB) as conn:
        users = conn.execute(
            "SELECT count(*), group_concat(role, '') FROM (SELECT role FROM users ORDER BY rowid)"
        ).fetchone()
        otps = conn.execute(
            "SELECT count(*), total(expires_at), total(failures) FROM otps"
        ).fetchone()
        outbox = conn.execute("SELECT count(*), max(id) FROM outbox").fetchone()
        events = conn.execute("SELECT count(*), max(seq) FROM events").fetchone()
    with read_only(folder / ENTITIES_DB) as conn:
        scopes = conn.execute("SELECT count(*), total(generation) FROM scopes").fetchone()
    files = _tree_stamp(services.files.root)
    return {
        "entities": repr(tuple(scopes)),
        "users": repr((tuple(users), tuple(otps), int(time.time() // 60))),
        "outbox": repr(tuple(outbox)),
        "files": files,
        "events": repr(tuple(events)),
    }


def _tree_stamp(root: Path) -> str:
    """The modification times of the files root and of each project folder: storing or deleting
    a file changes its project folder's, a new project folder the root's."""
    parts: list[str] = []
    try:
        parts.append(str(root.stat().st_mtime_ns))
        for child in sorted(root.iterdir()):
            parts.append(f"{child.name}:{child.stat().st_mtime_ns}")
    except OSError:
        parts.append("?")
    return ";".join(parts)
