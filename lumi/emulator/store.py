"""The emulator's entity store: JSON documents in SQLite (WAL) with MongoDB query semantics.

One table holds every document as JSON text, keyed by (project, entity, _id); ``seq`` (the
rowid) records insertion order, the natural order and the final tiebreak of every sort, so
paging is deterministic (schema and migrations: :mod:`lumi.emulator.store_schema`). ``find``
lets SQLite filter, order, page and count wherever it can follow MongoDB's rules exactly and
leaves the rest to the Python matcher (:mod:`lumi.emulator.finder`); with ``sql_assist`` off,
Python decides everything, the reference the tests compare with.

Per-field indexes: a query on an entity of at least ``auto_index_min_documents`` documents that
filters (equality, ``$in``, a range, a prefix) or sorts on a top-level field without an index
creates one (at most ``max_field_indexes`` per entity); :meth:`EntityStore.ensure_index`
declares one. ``_id`` order always has its index (the UNIQUE key).

Documents get, unless the app supplied them: ``_id`` (24 lower-case hex digits, ObjectId-like:
4-byte time, 5 random bytes per process, 3-byte counter), ``creator`` (the given user id or
null), ``createdAt`` and ``updatedAt`` (``2026-03-01T10:00:00.000Z``). A client-supplied ``_id``
must be 24 hex digits and unique in the entity (else QueryError); it is stored lower-case. The
other system fields, when the app writes them (on create or update), must have the types of the
``Record`` schema: ``createdAt``/``updatedAt`` strings, ``creator`` a string or null (else
QueryError), so that every stored document reads back as a valid ``Record``.

Thread-safe: a pool of two connections by default (WAL lets readers run beside the writer), so
that a query deciding rows in Python (a regular expression backtracking for its whole budget,
say) never holds the only connection: a get by id meanwhile kept its p99 within x1.3 of a quiet
server's, against x500 with one connection behind a lock (benchmarks/emulator_regex.py). More
connections gained nothing more under CPython's GIL (benchmarks/emulator_store.py). Writes take
SQLite's write lock up front (``BEGIN IMMEDIATE``), so read-modify-write updates lose nothing,
also with other processes (the ``lumi emulator`` commands) on the same file.
"""

from __future__ import annotations

import json
import os
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from lumi._js import a_json_type, iso_now
from lumi.emulator.bounds import check_json
from lumi.emulator.finder import FinderMemory, decode_document, find_page
from lumi.emulator.matcher import Document, QueryError, sort_documents
from lumi.emulator.prepared import QueryMemory
from lumi.emulator.sqlplan import is_sql_text, sql_field
from lumi.emulator.store_schema import (
    create_field_index,
    drop_field_indexes,
    field_indexes,
    open_schema,
    plain_json,
)
from lumi.emulator.update import apply_update
from lumi.ids import new_id

__all__ = ["EntityStore", "QueryError", "StoreClosedError", "new_object_id", "now_iso"]

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")
_ID_CHUNK = 500  # ids per "IN (...)" list, well under SQLite's parameter limit
#: System fields an app may write itself: the JSON types the Record schema gives them.
_SYSTEM_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "createdAt": ((str,), "a string (ISO-8601 UTC)"),
    "updatedAt": ((str,), "a string (ISO-8601 UTC)"),
    "creator": ((str, type(None)), "a string (a user id) or null"),
}


class StoreClosedError(RuntimeError):
    """The store was used after :meth:`EntityStore.close`."""


def new_object_id() -> str:
    """A fresh 24-hex ObjectId-style id."""
    return new_id()  # the client's own ids: one format, one source


def now_iso() -> str:
    """The current UTC time as JavaScript's ``toISOString()`` writes it."""
    return iso_now()


def _encode(document: Document, what: str) -> str:
    check_json(document, what)  # nesting and numbers within MongoDB's bounds
    try:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # NaN or Infinity: not JSON, and SQLite's JSON1 would reject it
        raise QueryError(f"the document is not valid JSON: {exc}") from None
    except TypeError as exc:
        raise QueryError(f"the document holds a value that is not JSON: {exc}") from None
    if not is_sql_text(body):
        raise QueryError("the document holds text that is not valid Unicode (a lone surrogate)")
    return body


class _Pool:
    """Up to ``size`` SQLite connections shared by any number of threads.

    A queue of slots (a connection, or None until one is needed) rather than a semaphore and a
    list: ``queue.SimpleQueue`` is C code, and a find is short enough that the lease shows.
    """

    def __init__(self, connect: Any, size: int) -> None:
        self._connect = connect
        self.size = size
        self._free: queue.SimpleQueue[sqlite3.Connection | None] = queue.SimpleQueue()
        for _ in range(size):
            self._free.put(None)
        self._lock = threading.Lock()
        self._closed = False

    def connection(self) -> _Lease:
        """``with pool.connection() as conn``: a connection of its own for the block."""
        return _Lease(self, None)

    def acquire(self) -> sqlite3.Connection:
        conn = self._free.get()  # waits for a free slot
        if self._closed:
            if conn is not None:
                conn.close()
            self._free.put(None)  # the next waiter wakes and fails too
            raise StoreClosedError("the entity store is closed")
        if conn is None:
            try:
                conn = self._connect()
            except BaseException:
                self._free.put(None)
                raise
        return conn

    def release(self, conn: sqlite3.Connection) -> None:
        kept: sqlite3.Connection | None = conn
        if conn.in_transaction:  # a COMMIT that failed: never lend a connection mid-transaction
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                conn.close()
                kept = None  # the slot makes a new one when needed
        with self._lock:
            if not self._closed:
                self._free.put(kept)
                return
        if kept is not None:
            kept.close()
        self._free.put(None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        slots = 0
        while True:
            try:
                conn = self._free.get_nowait()
            except queue.Empty:
                break
            if conn is not None:
                conn.close()
            slots += 1
        # One more slot than were free: a waiter wakes now, fails and passes the slot on to
        # the next; leased connections close when they come back.
        for _ in range(slots + 1):
            self._free.put(None)


class _Lease:
    """A connection of the pool for a ``with`` block, in a transaction when ``begin`` is given
    (committed at the end, rolled back on an exception)."""

    __slots__ = ("_begin", "_conn", "_pool")

    def __init__(self, pool: _Pool, begin: str | None) -> None:
        self._pool = pool
        self._begin = begin

    def __enter__(self) -> sqlite3.Connection:
        conn = self._conn = self._pool.acquire()
        if self._begin is not None:
            try:
                conn.execute(self._begin)
            except BaseException:
                self._pool.release(conn)
                raise
        return conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._begin is not None:
                self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self._pool.release(self._conn)


class EntityStore:
    """Entity documents of every project, in one SQLite file, queried with MongoDB semantics."""

    #: Let SQLite filter, order, page and count where it can be exact; off, every row of the
    #: entity is decoded and decided in Python (tests and benchmarks compare the two).
    sql_assist: bool = True
    #: A query on an entity this large creates the indexes its fields lack (see the module).
    auto_index_min_documents: int = 2_000
    #: Field indexes per entity, at most (each one costs every insert into the entity).
    max_field_indexes: int = 8

    def __init__(self, path: str | os.PathLike[str], *, max_connections: int = 2) -> None:
        self._path = os.fspath(path)
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        in_memory = self._path == ":memory:" or self._path.startswith("file:")
        if not in_memory:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        # Every connection to ":memory:" would be a separate database: keep exactly one.
        self._pool = _Pool(self._connect, 1 if in_memory else max_connections)
        self._write_lock = threading.Lock()
        self._memory = FinderMemory()
        self._queries = QueryMemory()
        with self._pool.connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            open_schema(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=60.0,
            isolation_level=None,  # autocommit; transactions are explicit below
            check_same_thread=False,
            uri=self._path.startswith("file:"),
            cached_statements=256,  # find's SQL names the entity: a few statements per entity
        )
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across crashes of the process
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # With a pool, writers queue on a Python lock: SQLite's own busy handler sleeps in
        # steps of milliseconds when two connections of this process want to write.
        with self._write_lock, _Lease(self._pool, "BEGIN IMMEDIATE") as conn:
            yield conn

    def _read(self) -> _Lease:
        """A read transaction: several statements see one snapshot."""
        return _Lease(self._pool, "BEGIN")

    # -- create ------------------------------------------------------------------------------

    def create(
        self, project_id: str, entity: str, doc: Mapping[str, Any], creator: str | None
    ) -> Document:
        """Insert one document; returns it with ``_id`` and the system fields filled in."""
        return self.create_many(project_id, entity, [doc], creator)[0]

    def create_many(
        self,
        project_id: str,
        entity: str,
        docs: Sequence[Mapping[str, Any]],
        creator: str | None,
    ) -> list[Document]:
        """Insert documents all-or-nothing (one bad document inserts none)."""
        _check_scope(project_id, entity)
        if not isinstance(docs, Sequence) or isinstance(docs, (str, bytes)):
            raise QueryError("documents to create must be an array of objects")
        now = now_iso()
        encoded = [_prepare(doc, creator, now, index) for index, doc in enumerate(docs)]
        ids = [doc_id for doc_id, _ in encoded]
        if len(set(ids)) != len(ids):
            raise QueryError("the batch holds the same _id twice")
        rows = [(project_id, entity, doc_id, body, plain_json(body)) for doc_id, body in encoded]
        with self._write() as conn:
            taken = _existing_ids(conn, project_id, entity, ids)
            if taken:
                raise QueryError(f"a document with _id {sorted(taken)[0]} already exists")
            conn.executemany(
                "INSERT INTO documents (project, entity, id, body, plain) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        return [decode_document(body) for _, body in encoded]  # private copies for the caller

    # -- read --------------------------------------------------------------------------------

    def get(self, project_id: str, entity: str, doc_id: str) -> Document | None:
        """The document with this ``_id``, or None."""
        _check_scope(project_id, entity)
        key = _id_key(doc_id)
        if key is None:
            return None
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT body FROM documents WHERE project = ? AND entity = ? AND id = ?",
                (project_id, entity, key),
            ).fetchone()
        return None if row is None else decode_document(row[0])

    def find(
        self,
        project_id: str,
        entity: str,
        filter: Mapping[str, Any] | None = None,
        sort: Mapping[str, Any] | None = None,
        limit: int | None = None,
        skip: int | None = None,
    ) -> tuple[list[Document], int]:
        """One page of matching documents and the number of all matches.

        Without a sort, documents come in insertion order; ties in a sort keep it. ``limit``
        None or 0 means no limit (as in MongoDB).
        """
        _check_scope(project_id, entity)
        query = self._queries.prepare(filter, sort)
        start = _non_negative("skip", skip)
        count = _non_negative("limit", limit) or None
        if not self.sql_assist:
            return self._find_in_python(project_id, entity, query.matches, query.spec, start, count)
        self._index_for(project_id, entity, query.index_fields)
        with self._read() as conn:
            return find_page(conn, project_id, entity, query, start, count, self._memory)

    def _find_in_python(
        self,
        project_id: str,
        entity: str,
        matches: Any,
        spec: Any,
        start: int,
        count: int | None,
    ) -> tuple[list[Document], int]:
        """The reference: every document of the entity decoded and decided by the matcher."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT body FROM documents WHERE project = ? AND entity = ? ORDER BY seq",
                (project_id, entity),
            ).fetchall()
        found = [doc for doc in (decode_document(body) for (body,) in rows) if matches(doc)]
        found = sort_documents(found, spec)
        return found[start : None if count is None else start + count], len(found)

    # -- field indexes -----------------------------------------------------------------------

    def ensure_index(self, project_id: str, entity: str, field: str) -> None:
        """Index a top-level field of an entity (a declared index; queries also create them)."""
        _check_scope(project_id, entity)
        if not isinstance(field, str) or not sql_field(field):
            raise QueryError(
                f"cannot index field {field!r}: only top-level fields named with letters, "
                "digits, '_' and '-' (and not _id, which is always indexed)"
            )
        with self._write() as conn:
            if field not in field_indexes(conn, project_id, entity):
                create_field_index(conn, project_id, entity, field)

    def indexed_fields(self, project_id: str, entity: str) -> list[str]:
        """The top-level fields of an entity that have an index, sorted."""
        _check_scope(project_id, entity)
        with self._pool.connection() as conn:
            return sorted(field_indexes(conn, project_id, entity))

    def _index_for(self, project_id: str, entity: str, wanted: Sequence[str]) -> None:
        """Create the indexes a query on a large entity would use (``wanted``, fields) and
        its fields lack."""
        if not wanted:
            return
        known = self._memory.scopes.get((project_id, entity))  # what the last find saw, if any
        if known is not None and (
            len(known.indexes) >= self.max_field_indexes
            or all(name in known.indexes for name in wanted)
        ):
            return
        with self._pool.connection() as conn:
            have = field_indexes(conn, project_id, entity)
            missing = [name for name in wanted if name not in have]
            if not missing or len(have) >= self.max_field_indexes:
                return
            row = conn.execute(
                "SELECT documents FROM scopes WHERE project = ? AND entity = ?",
                (project_id, entity),
            ).fetchone()
        if row is None or row[0] < self.auto_index_min_documents:
            return
        with self._write() as conn:
            have = field_indexes(conn, project_id, entity)  # another writer may have been first
            for name in missing:
                if name not in have and len(have) < self.max_field_indexes:
                    have[name] = create_field_index(conn, project_id, entity, name)

    # -- update / delete ---------------------------------------------------------------------

    def update(
        self, project_id: str, entity: str, doc_id: str, update: Mapping[str, Any]
    ) -> Document | None:
        """Merge ``update`` into the document (see :func:`~lumi.emulator.query.apply_update`).

        Returns the whole updated document, or None when there is no such document.
        """
        _check_scope(project_id, entity)
        if not isinstance(update, Mapping):
            raise QueryError(f"the update must be an object, not {type(update).__name__}")
        key = _id_key(doc_id)
        if key is None:
            return None
        now = now_iso()
        with self._write() as conn:
            row = conn.execute(
                "SELECT seq, body FROM documents WHERE project = ? AND entity = ? AND id = ?",
                (project_id, entity, key),
            ).fetchone()
            if row is None:
                return None
            current = decode_document(row[1])
            updated = apply_update(current, update, now)
            _check_system_fields(updated, "after the update", unchanged_from=current)
            body = _encode(updated, "the updated document")
            conn.execute(
                "UPDATE documents SET body = ?, plain = ? WHERE seq = ?",
                (body, plain_json(body), row[0]),
            )
        return updated

    def delete(self, project_id: str, entity: str, doc_id: str) -> bool:
        """Delete one document; False when there was none."""
        return self.delete_many(project_id, entity, [doc_id]) == 1

    def delete_many(self, project_id: str, entity: str, ids: Sequence[str]) -> int:
        """Delete the documents with these ids; returns how many existed."""
        _check_scope(project_id, entity)
        if not isinstance(ids, Sequence) or isinstance(ids, (str, bytes)):
            raise QueryError("ids must be an array of strings")
        keys = sorted({key for key in map(_id_key, ids) if key is not None})
        deleted = 0
        with self._write() as conn:
            for begin in range(0, len(keys), _ID_CHUNK):
                chunk = keys[begin : begin + _ID_CHUNK]
                marks = ",".join("?" * len(chunk))
                cursor = conn.execute(
                    f"DELETE FROM documents WHERE project = ? AND entity = ? AND id IN ({marks})",
                    [project_id, entity, *chunk],
                )
                deleted += cursor.rowcount
        return deleted

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete every document of every project, and the field indexes."""
        with self._write() as conn:
            drop_field_indexes(conn)
            conn.execute("DELETE FROM documents")  # the triggers keep every scope's generation

    def close(self) -> None:
        """Close the connections; later calls raise StoreClosedError."""
        self._pool.close()

    def __enter__(self) -> EntityStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EntityStore({self._path!r})"


def _check_scope(project_id: Any, entity: Any) -> None:
    if not isinstance(project_id, str) or not project_id:
        raise QueryError(f"project id must be a non-empty string, not {project_id!r}")
    if not isinstance(entity, str) or not entity:
        raise QueryError(f"entity name must be a non-empty string, not {entity!r}")
    for what, name in (("project id", project_id), ("entity name", entity)):
        if "\x00" in name or not is_sql_text(name):  # SQL names the entity in its text
            raise QueryError(f"{what} {name!r} must be valid Unicode text without NUL")


def _id_key(doc_id: Any) -> str | None:
    """The stored form of an ``_id`` (lower-case hex), or None if it cannot be one."""
    if isinstance(doc_id, str) and _HEX24.fullmatch(doc_id):
        return doc_id.lower()
    if isinstance(doc_id, str):
        return None
    raise QueryError(f"a document id must be a string, not {type(doc_id).__name__}")


def _non_negative(name: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _prepare(doc: Any, creator: str | None, now: str, index: int) -> tuple[str, str]:
    """The ``_id`` and JSON text of a document to insert, system fields filled in."""
    if not isinstance(doc, Mapping):
        raise QueryError(f"document #{index} must be an object, not {type(doc).__name__}")
    for key in doc:
        if not isinstance(key, str) or key.startswith("$"):
            raise QueryError(f"invalid field name {key!r} in document #{index}")
    supplied = doc.get("_id")
    if supplied is None:
        doc_id = new_object_id()
    elif isinstance(supplied, str) and _HEX24.fullmatch(supplied):
        doc_id = supplied.lower()
    else:
        raise QueryError(f"_id of document #{index} must be 24 hex digits, not {supplied!r}")
    prepared: Document = {"_id": doc_id}
    prepared.update((key, value) for key, value in doc.items() if key != "_id")
    prepared.setdefault("creator", creator)
    prepared.setdefault("createdAt", now)
    prepared.setdefault("updatedAt", now)
    _check_system_fields(prepared, f"of document #{index}")
    return doc_id, _encode(prepared, f"document #{index}")


def _check_system_fields(doc: Document, where: str, unchanged_from: Document | None = None) -> None:
    """QueryError when a system field the app wrote has a type the Record schema refuses.

    With ``unchanged_from``, only fields whose value differs from that document are checked, so
    a document stored before this rule existed can still be updated.
    """
    for name, (types, expected) in _SYSTEM_FIELD_TYPES.items():
        if name not in doc:
            continue
        value = doc[name]
        if unchanged_from is not None and name in unchanged_from:
            previous = unchanged_from[name]
            if type(previous) is type(value) and previous == value:
                continue
        if not isinstance(value, types):
            raise QueryError(f"{name} {where} must be {expected}, not {a_json_type(value)}")


def _existing_ids(
    conn: sqlite3.Connection, project_id: str, entity: str, ids: list[str]
) -> set[str]:
    taken: set[str] = set()
    for begin in range(0, len(ids), _ID_CHUNK):
        chunk = ids[begin : begin + _ID_CHUNK]
        marks = ",".join("?" * len(chunk))
        taken.update(
            row[0]
            for row in conn.execute(
                f"SELECT id FROM documents WHERE project = ? AND entity = ? AND id IN ({marks})",
                [project_id, entity, *chunk],
            )
        )
    return taken
