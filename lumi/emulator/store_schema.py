"""The entity store's SQLite schema: tables, triggers, migrations and per-field indexes.

``documents`` holds every document as JSON text, keyed by (project, entity, id); ``seq`` (the
rowid) is insertion order. Version 1 (``PRAGMA user_version``) added, with a migration for data
folders written before it:

- ``plain``: 0 when SQLite would read the document differently from Python (a string holding
  NUL, which JSON1 cuts there; an integer beyond 64 bits, which it reads as a real). Such
  documents are rare and always decided in Python (:mod:`lumi.emulator.sqlplan`).
- ``scopes``: the number of documents of each (project, entity) and a ``generation`` that every
  insert, update and delete raises, kept by triggers, so that any writer (another process, an
  older lumi, the sqlite3 shell) keeps them true. Unfiltered totals need no count, and counts
  remembered between keyset pages are valid exactly while the generation is unchanged.
- ``field_indexes``: the per-field indexes (see :func:`create_field_index`).
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Final

from lumi.emulator.sqlplan import bracket_sql, value_sql

SCHEMA_VERSION: Final = 1

_BASE = (
    """CREATE TABLE IF NOT EXISTS documents (
        seq INTEGER PRIMARY KEY,
        project TEXT NOT NULL,
        entity TEXT NOT NULL,
        id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (project, entity, id)
    )""",
    "CREATE INDEX IF NOT EXISTS documents_by_scope ON documents (project, entity, seq)",
)

#: The condition under which a document's JSON text is not plain (see plain_json): the same
#: test, in SQL, for the migration of documents written before the column existed.
_DIGITS_SQL = "[0-9]" * 19
_NOT_PLAIN_SQL = "instr(body, '\\u0000') > 0 OR " + " OR ".join(
    f"body GLOB '*{before}{_DIGITS_SQL}*'" for before in (":", ",", "[[]", "-", " ")
)
_NOT_PLAIN = re.compile(r"\\u0000|[:,\[\- ][0-9]{19}")

_VERSION_1 = (
    "ALTER TABLE documents ADD COLUMN plain INTEGER NOT NULL DEFAULT 1",
    f"UPDATE documents SET plain = 0 WHERE {_NOT_PLAIN_SQL}",
    "CREATE INDEX documents_not_plain ON documents (project, entity) WHERE plain = 0",
    """CREATE TABLE scopes (
        project TEXT NOT NULL,
        entity TEXT NOT NULL,
        documents INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (project, entity)
    ) WITHOUT ROWID""",
    """INSERT INTO scopes (project, entity, documents, generation)
        SELECT project, entity, count(*), 1 FROM documents GROUP BY project, entity""",
    # INSERT OR IGNORE + UPDATE rather than an upsert: works with SQLite before 3.24.
    """CREATE TRIGGER documents_inserted AFTER INSERT ON documents BEGIN
        INSERT OR IGNORE INTO scopes (project, entity) VALUES (NEW.project, NEW.entity);
        UPDATE scopes SET documents = documents + 1, generation = generation + 1
            WHERE project = NEW.project AND entity = NEW.entity;
    END""",
    """CREATE TRIGGER documents_deleted AFTER DELETE ON documents BEGIN
        UPDATE scopes SET documents = documents - 1, generation = generation + 1
            WHERE project = OLD.project AND entity = OLD.entity;
    END""",
    """CREATE TRIGGER documents_updated AFTER UPDATE ON documents BEGIN
        UPDATE scopes SET generation = generation + 1
            WHERE project = OLD.project AND entity = OLD.entity;
    END""",
    """CREATE TABLE field_indexes (
        name TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        entity TEXT NOT NULL,
        field TEXT NOT NULL,
        key_sql TEXT NOT NULL,
        PRIMARY KEY (project, entity, field)
    )""",
)


def plain_json(body: str) -> bool:
    """Whether SQLite's JSON functions read this document's JSON text exactly as Python does.

    Conservative: ``\\u0000`` escapes NUL, and 19 digits where a JSON number may start (after
    ``:``, ``,``, ``[``, ``-`` or a space) may be an integer beyond 64 bits (Python never
    writes a float so); a string that merely looks so is decided in Python, exact anyway.
    """
    return _NOT_PLAIN.search(body) is None


def open_schema(conn: sqlite3.Connection) -> None:
    """Create the schema, or bring an older one up to :data:`SCHEMA_VERSION` (in autocommit)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # two processes opening one folder migrate it once
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            for statement in _BASE:
                conn.execute(statement)
            for statement in _VERSION_1:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def scope_literal(text: str) -> str:
    """A project or entity name as an SQL string literal (the name holds no NUL)."""
    return "'" + text.replace("'", "''") + "'"


@lru_cache(maxsize=1024)
def scope_sql(project_id: str, entity: str) -> str:
    """The WHERE terms of one entity, literal, as the partial field indexes are written."""
    return f"project = {scope_literal(project_id)} AND entity = {scope_literal(entity)}"


def index_key_sql(field: str) -> str:
    """The indexed expressions of a field, after (project, entity): bracket, value, id."""
    return f"{bracket_sql(field)}, {value_sql(field)}, id"


def field_indexes(conn: sqlite3.Connection, project_id: str, entity: str) -> dict[str, str]:
    """The usable field indexes of an entity: field -> index name.

    An index written for other key expressions (by another version) is not usable: the query
    planner would not match it to today's queries. :func:`create_field_index` replaces it.
    """
    rows = conn.execute(
        "SELECT field, name, key_sql FROM field_indexes WHERE project = ? AND entity = ?",
        (project_id, entity),
    )
    return {field: name for field, name, key in rows if key == index_key_sql(field)}


def create_field_index(conn: sqlite3.Connection, project_id: str, entity: str, field: str) -> str:
    """Create (in the caller's write transaction) the index of one field of one entity.

    A partial index over the entity's rows only, on (project, entity, bracket, value, id):
    equality, ranges and ``$in`` on the field are index lookups, a sort on the field (then on
    ``_id``) is an index scan, and counting a keyset range reads the index alone.
    """
    scope = (project_id, entity, field)
    where = "project = ? AND entity = ? AND field = ?"
    for (stale,) in conn.execute(f"SELECT name FROM field_indexes WHERE {where}", scope).fetchall():
        conn.execute(f'DROP INDEX IF EXISTS "{stale}"')  # written for other key expressions
    conn.execute(f"DELETE FROM field_indexes WHERE {where}", scope)
    number = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM field_indexes").fetchone()[0]
    name = f"documents_field_{number}"
    conn.execute(f'DROP INDEX IF EXISTS "{name}"')  # an orphan of a lost registry row
    conn.execute(
        f'CREATE INDEX "{name}" ON documents (project, entity, {index_key_sql(field)}) '
        f"WHERE {scope_sql(project_id, entity)}"
    )
    conn.execute(
        "INSERT INTO field_indexes (name, project, entity, field, key_sql) VALUES (?, ?, ?, ?, ?)",
        (name, project_id, entity, field, index_key_sql(field)),
    )
    return name


def drop_field_indexes(conn: sqlite3.Connection) -> None:
    """Drop every field index (in the caller's write transaction)."""
    for (name,) in conn.execute("SELECT name FROM field_indexes").fetchall():
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    conn.execute("DELETE FROM field_indexes")
