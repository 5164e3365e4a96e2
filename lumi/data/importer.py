"""A resumable, chunked import of records into an entity.

Re-running an import after a crash neither duplicates nor loses records:

* a **journal** file records, after every chunk the server accepted, how many input records are
  done (written atomically: a temporary file, fsync, rename). A re-run with the same input skips
  them and carries on;
* with a **key** field (``--key email``), every chunk first asks the server which of its keys
  already exist and skips (or updates) those rows. That closes the one window the journal
  cannot: a chunk the server stored just before the crash, before the journal was written.
  Without a key that chunk is sent again on resume (at most ``chunk_size`` duplicates).

Rows that cannot be read, fail the schema, lack the key or repeat a key of the same file are
rejected (reported with their line or item number) and never sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..errors import ValidationError
from . import checkpoint
from .formats import Row
from .validation import SchemaValidator

if TYPE_CHECKING:
    from ..entities import EntityClient

OnConflict = Literal["skip", "update"]
JOURNAL_VERSION = 1


@attrs.frozen
class Rejection:
    """A row that was not imported, and why (the reason never quotes the row's values)."""

    where: str
    reason: str


@attrs.define
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    """Rows whose key already existed (``on_conflict="skip"``)."""
    rejected: list[Rejection] = attrs.field(factory=list)
    resumed_at: int = 0
    """Rows a previous run had already done (read from the journal)."""
    already_done: bool = False


def fingerprint(path: Path, *parts: str) -> str:
    """SHA-256 of the input file's bytes and of what else identifies the import."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


class Journal:
    """The checkpoint file of one import (see the module docstring)."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint

    def load(self) -> dict[str, Any] | None:
        """The saved state of this import, None for a fresh one; refuses another import's."""
        state = checkpoint.load(self.path, "journal")
        if state is None:
            return None
        if state.get("version") != JOURNAL_VERSION:
            raise ValidationError(f"journal {self.path} is not a lumi import journal")
        if state.get("fingerprint") != self.fingerprint:
            raise ValidationError(
                f"journal {self.path} belongs to another import (other file contents, entity, "
                "project or key); pass --restart to start over or --journal for a new one"
            )
        return state

    def save(self, *, committed: int, done: bool, report: ImportReport) -> None:
        """Record that the first ``committed`` input records are done (atomically)."""
        state = {
            "version": JOURNAL_VERSION,
            "fingerprint": self.fingerprint,
            "committed": committed,
            "done": done,
            "created": report.created,
            "updated": report.updated,
            "skipped": report.skipped,
            "rejected": len(report.rejected),
        }
        checkpoint.save_atomically(self.path, state)

    def clear(self) -> None:
        """Forget the checkpoint (``--restart``)."""
        self.path.unlink(missing_ok=True)


def _key_of(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@attrs.define
class Importer:
    """Sends rows to an entity in chunks, checkpointing each one in the journal."""

    entities: EntityClient
    journal: Journal
    chunk_size: int = 100
    key: str | None = None
    on_conflict: OnConflict = "skip"
    validator: SchemaValidator | None = None
    on_progress: Callable[[int], None] = lambda _: None
    on_reject: Callable[[Rejection], None] = lambda _: None

    report: ImportReport = attrs.field(factory=ImportReport, init=False)
    _seen: dict[str, str] = attrs.field(factory=dict, init=False)

    def run(self, rows: Iterable[Row]) -> ImportReport:
        """Import ``rows`` (resuming after the journal's checkpoint)."""
        state = self.journal.load()
        committed = int(state["committed"]) if state else 0
        if state and state.get("done"):
            self.report.already_done = True
            self.report.resumed_at = committed
            return self.report
        self.report.resumed_at = committed
        pending: list[tuple[Row, dict[str, Any]]] = []
        position = committed
        for row in rows:
            if row.index < committed:
                self.on_progress(1)
                continue
            position = row.index + 1
            document = self._accept(row)
            if document is None:
                self.on_progress(1)
                continue
            pending.append((row, document))
            if len(pending) >= self.chunk_size:
                self._flush(pending, position)
                pending = []
        self._flush(pending, position)
        self.journal.save(committed=position, done=True, report=self.report)
        return self.report

    def _reject(self, row: Row, reason: str) -> None:
        rejection = Rejection(row.where, reason)
        self.report.rejected.append(rejection)
        self.on_reject(rejection)

    def _accept(self, row: Row) -> dict[str, Any] | None:
        if row.data is None:
            self._reject(row, row.error or "unreadable")
            return None
        if self.validator is not None:
            problems = self.validator.errors(row.data)
            if problems:
                self._reject(row, "; ".join(problems))
                return None
        if self.key is not None:
            value = row.data.get(self.key)
            if value is None:
                self._reject(row, f"no value for the key field {self.key!r}")
                return None
            first = self._seen.setdefault(_key_of(value), row.where)
            if first != row.where:
                self._reject(row, f"duplicate {self.key!r}: the same value as {first}")
                return None
        return row.data

    def _flush(self, pending: list[tuple[Row, dict[str, Any]]], position: int) -> None:
        if not pending:
            return
        documents = [document for _, document in pending]
        if self.key is not None:
            documents = self._without_existing(documents)
        if documents:
            self.entities.create_many(documents)
            self.report.created += len(documents)
        # The server has the chunk: from here a crash only re-sends what --key filters out.
        self.journal.save(committed=position, done=False, report=self.report)
        self.on_progress(len(pending))

    def _without_existing(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.key is not None
        keys = [document[self.key] for document in documents]
        page = self.entities.list(filter={self.key: {"$in": keys}})
        existing = {_key_of(record.get(self.key)): record.id for record in page.list}
        fresh = []
        for document in documents:
            doc_id = existing.get(_key_of(document[self.key]))
            if doc_id is None:
                fresh.append(document)
            elif self.on_conflict == "update":
                self.entities.update(doc_id, document)
                self.report.updated += 1
            else:
                self.report.skipped += 1
        return fresh
