"""Records in and out of files: JSON (an array), JSONL (one object a line) and CSV.

CSV has no types: nested values are written as JSON text, and on import each cell is typed by
the entity schema when one is given (``integer``, ``number``, ``boolean``, ``array``/``object``
from JSON text, ``null``); without a schema cells stay strings, except JSON arrays/objects.
An empty cell means the field is absent.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import attrs

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
def write_records(records: Iterable[Mapping[str, Any]], stream: IO[str], fmt: Format) -> int:
    """Write records in ``fmt``; returns how many. JSON and JSONL stream; CSV holds them all
    (its header is the union of the keys, ``_id`` first)."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            stream.write(_json(record) + "\n")
            count += 1
        return count
    if fmt == "json":
        stream.write("[")
        for record in records:
            stream.write(("," if count else "") + "\n  " + _json(record))
            count += 1
        stream.write("\n]\n" if count else "]\n")
        return count
    rows = list(records)
    columns: dict[str, None] = {"_id": None} if any("_id" in row for row in rows) else {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return len(rows)


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


def read_rows(path: Path, fmt: Format, schema: Mapping[str, Any] | None = None) -> Iterator[Row]:
    """The records of a file, one :class:`Row` each (unreadable ones carry ``error``)."""
    if fmt == "json":
        yield from _read_json(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path, schema)


def count_rows(path: Path, fmt: Format) -> int:
    """How many records the file holds (for a progress bar)."""
    return sum(1 for _ in read_rows(path, fmt))


def _object(value: Any, index: int, where: str) -> Row:
    if isinstance(value, dict):
        return Row(index, where, value)
    return Row(index, where, None, f"expected a JSON object, got {type(value).__name__}")


def _read_json(path: Path) -> Iterator[Row]:
    try:
        items = json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        yield Row(0, "file", None, f"not valid JSON: {exc}")
        return
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        yield Row(0, "file", None, "a JSON import file must hold an array of objects")
        return
    for index, item in enumerate(items):
        yield _object(item, index, f"item {index + 1}")


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
