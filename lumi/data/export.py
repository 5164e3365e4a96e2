"""A resumable, streaming export of an entity's records to a file (``lumi entities export``).

Records come page by page from the keyset iteration (:mod:`lumi.keyset`) and go to a JSONL spool
beside the output (``OUT.lumi-export.part``). After each page is written and fsynced, a
checkpoint (``OUT.lumi-export.json``, written atomically) records the spool's length, the count,
the CSV columns seen so far and the iteration's :class:`~lumi.keyset.Position`. ``resume``
truncates the spool to the checkpoint's length (dropping a page written after it) and continues
from that position, so a run killed at any instant and resumed writes every record once.

When the pass is complete, the spool is written out in the output's format (JSONL: renamed; a
JSON array or CSV: one streaming pass) to a temporary file that is renamed over the output: the
output path only ever holds a complete export. Memory is one page (and the CSV's column names).
A checkpoint made for another entity, project, filter, sort or format is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import InvalidResponseError, ValidationError
from ..keyset import Position, SortPlan
from ..sorting import sort_pairs
from . import checkpoint
from .formats import Columns, Format, write_spool

if TYPE_CHECKING:
    from ..documents import DocumentClient

CHECKPOINT_VERSION = 1


def checkpoint_path(output: Path) -> Path:
    """Where the export to ``output`` keeps its checkpoint."""
    return output.with_name(output.name + ".lumi-export.json")


def spool_path(output: Path) -> Path:
    """Where the export to ``output`` spools its records until it is complete."""
    return output.with_name(output.name + ".lumi-export.part")


@attrs.frozen
class ExportReport:
    """What an export did: records written in all, and how many an earlier run had done."""

    count: int
    resumed_at: int


@attrs.define
class Export:
    """One export job; :meth:`run` does it (see the module docstring)."""

    documents: DocumentClient[Any]
    output: Path
    fmt: Format
    identity: dict[str, Any]
    """What makes two exports the same one: entity, project, filter, sort, format."""
    filter: dict[str, Any]
    sort: Any
    page_size: int
    on_progress: Callable[[int], None] = lambda _: None

    def run(self, *, resume: bool) -> ExportReport:
        """Export every record; with ``resume``, continue an interrupted run of the same export."""
        marker, spool = checkpoint_path(self.output), spool_path(self.output)
        state = checkpoint.load(marker, "export checkpoint") if resume else None
        if state is None:
            marker.unlink(missing_ok=True)
            spool.unlink(missing_ok=True)
            return self._export(marker, spool, 0, 0, Columns(), None)
        self._check(state, marker)
        count, columns = state["count"], Columns(state["columns"])
        if state["complete"] and not spool.exists() and self.output.exists():
            marker.unlink()  # killed after the output was in place: nothing left to do
            return ExportReport(count, count)
        size = spool.stat().st_size if spool.exists() else 0
        if size < state["spooled"]:
            raise ValidationError(f"{spool} is shorter than {marker} says: export again")
        position = Position.from_json(state["position"], SortPlan(sort_pairs(self.sort)))
        if state["complete"]:
            position.done = True
        return self._export(marker, spool, state["spooled"], count, columns, position)

    def _export(
        self,
        marker: Path,
        spool: Path,
        spooled: int,
        count: int,
        columns: Columns,
        position: Position | None,
    ) -> ExportReport:
        resumed_at = count
        if count:
            self.on_progress(count)
        pager = self.documents.pager(
            filter=self.filter, sort=self.sort, page_size=self.page_size, position=position
        )
        with spool.open("r+b" if spooled else "wb") as stream:
            stream.truncate(spooled)  # a page written after the checkpoint goes
            stream.seek(spooled)
            for page in pager.pages():
                for record in page:
                    stream.write(_line(record))
                    columns.add(record)
                stream.flush()
                os.fsync(stream.fileno())
                count += len(page)
                self._save(marker, stream.tell(), count, columns, pager.position, False)
                self.on_progress(len(page))
            self._save(marker, stream.tell(), count, columns, pager.position, True)
        self._finish(spool, columns)
        marker.unlink(missing_ok=True)
        return ExportReport(count, resumed_at)

    def _check(self, state: dict[str, Any], marker: Path) -> None:
        if state.get("version") != CHECKPOINT_VERSION or not isinstance(state.get("export"), dict):
            raise ValidationError(f"{marker} is not a lumi export checkpoint")
        differs = [k for k, v in self.identity.items() if state["export"].get(k) != v]
        if differs:
            raise ValidationError(
                f"{marker} was made for another export (its {', '.join(differs)} differ); "
                "run without --resume to start over"
            )
        for key in ("spooled", "count"):
            value = state.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"{marker} is not a lumi export checkpoint")
        if not isinstance(state.get("complete"), bool) or not isinstance(
            state.get("columns"), list
        ):
            raise ValidationError(f"{marker} is not a lumi export checkpoint")

    def _save(
        self,
        marker: Path,
        spooled: int,
        count: int,
        columns: Columns,
        position: Position,
        complete: bool,
    ) -> None:
        checkpoint.save_atomically(
            marker,
            {
                "version": CHECKPOINT_VERSION,
                "export": self.identity,
                "spooled": spooled,
                "count": count,
                "columns": columns.names,
                "position": position.to_json(),
                "complete": complete,
            },
        )

    def _finish(self, spool: Path, columns: Columns) -> None:
        """The spool, complete, becomes the output (renamed, or written out in its format)."""
        if self.fmt == "jsonl":
            os.replace(spool, self.output)
            return
        temporary = self.output.with_name(self.output.name + ".lumi-export.tmp")
        with (
            spool.open(encoding="utf-8") as lines,
            temporary.open("w", encoding="utf-8", newline="") as stream,
        ):
            write_spool(lines, stream, self.fmt, columns.names)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.output)
        spool.unlink()


def _line(record: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise InvalidResponseError(200, "list: a record holds a number JSON cannot hold") from None
    return text.encode("utf-8") + b"\n"
