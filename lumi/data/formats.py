"""Records in and out of files: JSON (an array), JSONL (one object a line) and CSV.

CSV has no types: nested values are written as JSON text, and on import each cell is typed by
the entity schema when one is given (``integer``, ``number``, ``boolean``, ``array``/``object``
from JSON text, ``null``); without a schema cells stay strings, except JSON arrays/objects.
An empty cell means the field is absent.

Every format streams, in and out, in memory bounded by one record: a JSON array is read item by
item (:class:`_ArrayReader`), and a CSV's header (the union of every record's keys) is found
while the rows go to a JSONL spool on disk, which is then written out as CSV.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from ..errors import ValidationError

Format = Literal["json", "jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("json", "jsonl", "csv")


def format_of(path: str | Path | None, given: str | None, default: Format = "jsonl") -> Format:
    """The explicit format, else the one the file extension names, else ``default``."""
    suffix = (given or (Path(path).suffix if path else "")).lower().lstrip(".")
    if suffix == "ndjson":
        return "jsonl"
    for fmt in FORMATS:
        if fmt == suffix:
            return fmt
    return default


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- writing ---------------------------------------------------------------------------------
class Columns:
    """The CSV header being collected: ``_id`` first, then every key in order of appearance."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: dict[str, None] = dict.fromkeys(names)

    def add(self, record: Mapping[str, Any]) -> None:
        """Take the keys of one more record."""
        if "_id" in record and "_id" not in self._names:
            self._names = {"_id": None, **self._names}
        self._names.update(dict.fromkeys(record))

    @property
    def names(self) -> list[str]:
        return list(self._names)


def write_records(records: Iterable[Mapping[str, Any]], stream: IO[str], fmt: Format) -> int:
    """Write records in ``fmt``; returns how many. Memory is one record (CSV spools to a
    temporary file until its header is known)."""
    if fmt == "csv":
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            columns = Columns()
            count = 0
            for record in records:
                spool.write(_json(record) + "\n")
                columns.add(record)
                count += 1
            spool.seek(0)
            write_spool(spool, stream, fmt, columns.names)
        return count
    return write_spool(_as_lines(records), stream, fmt, [])


def _as_lines(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for record in records:
        yield _json(record)


def write_spool(lines: Iterable[str], stream: IO[str], fmt: Format, columns: list[str]) -> int:
    """Write records given as JSON lines (a JSONL spool) in ``fmt``; returns how many.
    ``columns`` is the CSV header (:class:`Columns`)."""
    count = 0
    if fmt == "jsonl":
        for line in lines:
            stream.write(line.rstrip("\n") + "\n")
            count += 1
    elif fmt == "json":
        stream.write("[")
        for line in lines:
            stream.write(("," if count else "") + "\n  " + line.rstrip("\n"))
            count += 1
        stream.write("\n]\n" if count else "]\n")
    else:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for line in lines:
            record = json.loads(line)
            writer.writerow({key: _cell(value) for key, value in record.items()})
            count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json(value)  # numbers, booleans (true/false), arrays and objects as JSON text


# -- reading ---------------------------------------------------------------------------------
@attrs.frozen
class Row:
    """One input record: its position, the document or why it could not be read."""

    index: int
    """0-based position among the records of the file (what a resume skips by)."""
    where: str
    """``line 12`` (JSONL, CSV) or ``item 3`` (JSON array), for reports."""
    data: dict[str, Any] | None
    error: str | None = None
    fatal: bool = False
    """The file cannot be read past this row (a JSON syntax error)."""


def read_rows(path: Path, fmt: Format, schema: Mapping[str, Any] | None = None) -> Iterator[Row]:
    """The records of a file, one :class:`Row` each (unreadable ones carry ``error``)."""
    if fmt == "json":
        yield from _read_json(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path, schema)


def count_rows(path: Path, fmt: Format) -> int:
    """How many records the file holds (for a progress bar); a JSON file that is not valid
    JSON is a ValidationError here, before anything is imported."""
    count = 0
    for row in read_rows(path, fmt):
        if row.fatal:
            raise ValidationError(f"{path}: {row.where}: {row.error}")
        count += 1
    return count


def _object(value: Any, index: int, where: str) -> Row:
    if isinstance(value, dict):
        return Row(index, where, value)
    return Row(index, where, None, f"expected a JSON object, got {type(value).__name__}")


_CHUNK = 1 << 16
MAX_ITEM_CHARS = 64 << 20
"""The largest array item the JSON reader holds (a MongoDB document is at most 16 MB)."""


def _read_json(path: Path) -> Iterator[Row]:
    """The items of a JSON array one by one (or one object), without reading the whole file."""
    with path.open(encoding="utf-8-sig") as stream:
        reader = _ArrayReader(stream)
        try:
            yield from reader.rows()
        except _Broken as exc:
            yield Row(reader.index, exc.where, None, exc.reason, fatal=True)


class _Broken(Exception):
    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason


class _ArrayReader:
    """Items of a JSON array read with ``json.JSONDecoder.raw_decode`` over a sliding buffer.

    Hand-written rather than ``ijson``: its C parser refuses integers beyond 64 bits that
    ``json.loads`` (and so the JSONL and CSV paths) accept, and its pure-Python one is slower;
    this keeps the standard parser, and only finds where each item starts. A decode that fails
    before the end of the file is retried with more text (the item may be cut by the buffer), up
    to :data:`MAX_ITEM_CHARS`; a value that ends exactly at the buffer's end is read again with
    more text too (a number may go on).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._text = ""
        self._pos = 0
        self._eof = False
        self._decoder = json.JSONDecoder()
        self.index = 0

    def _fill(self) -> bool:
        """Read more text after what is left; False at the end of the file."""
        if self._eof:
            return False
        chunk = self._stream.read(max(_CHUNK, len(self._text) - self._pos))
        self._text = self._text[self._pos :] + chunk
        self._pos = 0
        self._eof = not chunk
        return bool(chunk)

    def _next_char(self) -> str:
        """The next character that is not white space ("" at the end); not consumed."""
        while True:
            text, pos = self._text, self._pos
            while pos < len(text) and text[pos] in " \t\n\r":
                pos += 1
            self._pos = pos
            if pos < len(text):
                return text[pos]
            if not self._fill():
                return ""

    def _value(self, where: str) -> Any:
        self._next_char()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._text) - self._pos < MAX_ITEM_CHARS and self._fill():
                    continue
                raise _Broken(where, f"not valid JSON: {exc.msg}") from None
            except RecursionError:
                raise _Broken(where, "not valid JSON: nested too deeply") from None
            if end == len(self._text) and self._fill():
                continue  # the value may go on in the next chunk
            self._pos = end
            return value

    def rows(self) -> Iterator[Row]:
        first = self._next_char()
        if first == "{":
            yield _object(self._value("file"), 0, "item 1")
            self._end("file")
            return
        if first != "[":
            raise _Broken("file", "a JSON import file must hold an array of objects")
        self._pos += 1
        if self._next_char() == "]":
            self._pos += 1
            self._end("file")
            return
        while True:
            where = f"item {self.index + 1}"
            yield _object(self._value(where), self.index, where)
            self.index += 1
            after = self._next_char()
            self._pos += 1
            if after == "]":
                self._end(f"item {self.index}")
                return
            if after != ",":
                raise _Broken(f"item {self.index}", "not valid JSON: expected , or ] after it")

    def _end(self, where: str) -> None:
        if self._next_char():
            raise _Broken(where, "not valid JSON: extra data after the array")


def _read_jsonl(path: Path) -> Iterator[Row]:
    index = 0
    with path.open(encoding="utf-8-sig") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                yield _object(json.loads(line), index, where)
            except ValueError as exc:
                yield Row(index, where, None, f"not valid JSON: {exc}")
            index += 1


def _read_csv(path: Path, schema: Mapping[str, Any] | None) -> Iterator[Row]:
    properties = (schema or {}).get("properties") or {}
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        line = reader.line_num + 1
        for index, record in enumerate(reader):
            where = f"line {line}"
            line = reader.line_num + 1
            if None in record:
                yield Row(index, where, None, "more cells than header columns")
                continue
            data: dict[str, Any] = {}
            problems: list[str] = []
            for key, cell in record.items():
                if cell in ("", None):
                    continue
                try:
                    data[key] = _typed(cell, properties.get(key))
                except ValueError as exc:
                    problems.append(f"column {key!r}: {exc}")
            if problems:
                yield Row(index, where, None, "; ".join(problems))
            else:
                yield Row(index, where, data)


def _types(spec: Any) -> list[str]:
    if not isinstance(spec, Mapping):
        return []
    declared = spec.get("type")
    return declared if isinstance(declared, list) else [declared] if declared else []


def _typed(cell: str, spec: Any) -> Any:
    """A CSV cell as the schema's type (a ValueError names the problem)."""
    types = _types(spec)
    text = cell.strip()
    if "null" in types and text == "null":
        return None
    for kind in types:
        if kind == "integer":
            try:
                return int(text)
            except ValueError:
                continue
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                continue
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind in ("array", "object") and text[:1] in ("[", "{"):
            try:
                return json.loads(text)
            except ValueError:
                continue
        if kind == "string":
            return cell
    if types:
        raise ValueError(f"the cell is not {' or '.join(types)}")
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return cell
    return cell
