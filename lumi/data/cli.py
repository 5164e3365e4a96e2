"""``lumi entities list|get|export|import|delete ENTITY``: data scripts from the command line.

Credentials come from the environment (``LUMI_PROJECT_ID``, ``LUMI_API_BASE_URL``,
``LUMI_TOKEN`` or ``LUMI_AUTHORIZATION``) or from ``lumi login``. Filters and sorts are JSON
with wire names: ``--filter '{"status": "active"}' --sort '{"createdAt": -1}'``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ..entity_schema import load_entity_file
from ..errors import LumiError
from ..serde import unstructure
from ..sorting import sort_pairs
from .export import Export, checkpoint_path
from .formats import FORMATS, Format, count_rows, format_of, read_rows, write_records
from .importer import Importer, Journal, Rejection, fingerprint
from .repository import DEFAULT_CHUNK_SIZE, chunks
from .validation import SchemaValidator

if TYPE_CHECKING:
    from ..client import LumiClient
    from ..entities import EntityClient

PAGE_SIZE = 200


def _json_object(value: str | None, option: str) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc})", param_hint=option) from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object", param_hint=option)
    return parsed


def _sort(value: str | None) -> list[tuple[str, int]]:
    """``{"createdAt": -1}``, ``[["createdAt", -1]]`` (JSON) or ``-createdAt,name``."""
    if value is None:
        return []
    parsed: Any = value
    if value.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON ({exc})", param_hint="--sort") from None
    try:
        return sort_pairs(parsed, "--sort")
    except LumiError as exc:
        raise click.BadParameter(exc.message, param_hint="--sort") from None


class _Context:
    def __init__(self, project_id: str | None, api_base_url: str | None) -> None:
        self.project_id = project_id
        self.api_base_url = api_base_url
        self._client: LumiClient | None = None

    def client(self) -> LumiClient:
        if self._client is None:
            from ..credentials import client_from_environment

            # A batch tool: the JS client's limit on identical requests would only get in the way.
            self._client = client_from_environment(
                self.project_id, self.api_base_url, rate_limit=None
            )
        return self._client

    def entity(self, name: str) -> EntityClient:
        return self.client().entities[name]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except LumiError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as stream:
        yield stream


def _bar(length: int | None, label: str) -> Any:
    return click.progressbar(length=length or 0, label=label, file=sys.stderr)


@click.group("entities")
@click.option("--project-id", default=None, help="The project (default: LUMI_PROJECT_ID).")
@click.option("--api-base-url", default=None, help="The server (default: LUMI_API_BASE_URL).")
@click.pass_context
def entities(ctx: click.Context, project_id: str | None, api_base_url: str | None) -> None:
    """Read, export, import and delete an entity's records."""
    state = _Context(project_id, api_base_url)
    ctx.obj = state
    ctx.call_on_close(state.close)


_format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None, help="Default: from the file name."
)


@entities.command("list")
@click.argument("entity")
@click.option("--filter", "filter_", help='A JSON filter, e.g. \'{"status": "active"}\'.')
@click.option("--sort", help='JSON ({"createdAt": -1}) or fields ("-createdAt,name").')
@click.option("--limit", type=click.IntRange(min=1), help="One page of at most this many.")
@click.option("--skip", type=click.IntRange(min=0), help="Skip this many (needs --limit).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@_format_option
@click.pass_obj
def list_command(
    state: _Context,
    entity: str,
    filter_: str | None,
    sort: str | None,
    limit: int | None,
    skip: int | None,
    output: Path | None,
    fmt: str | None,
) -> None:
    """Print the records matching --filter (one request; default format: json)."""
    with _errors():
        page = state.entity(entity).list(
            filter=_json_object(filter_, "--filter"),
            sort=_sort(sort) or None,
            limit=limit,
            skip=skip,
        )
        with _output(output) as stream:
            write_records(map(unstructure, page.list), stream, format_of(output, fmt, "json"))
    click.echo(f"{len(page.list)} of {page.total} record(s)", err=True)


@entities.command("get")
@click.argument("entity")
@click.argument("id")
@click.pass_obj
def get_command(state: _Context, entity: str, id: str) -> None:
    """Print one record as JSON (exit 1 when there is none)."""
    with _errors():
        record = state.entity(entity).get(id)
    if record is None:
        raise click.ClickException(f"{entity} {id}: no such record")
    click.echo(json.dumps(unstructure(record), indent=2, ensure_ascii=False))


@entities.command("export")
@click.argument("entity")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@_format_option
@click.option("--filter", "filter_", help="A JSON filter (wire names).")
@click.option("--sort", help="JSON or fields; _id is always the last sort key.")
@click.option("--page-size", type=click.IntRange(min=1), default=PAGE_SIZE, show_default=True)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted export to the same -o file (from its checkpoint).",
)
@click.pass_obj
def export_command(
    state: _Context,
    entity: str,
    output: Path | None,
    fmt: str | None,
    filter_: str | None,
    sort: str | None,
    page_size: int,
    resume: bool,
) -> None:
    """Write every matching record, page by page by keyset cursors (default format: jsonl).

    With -o, the records go to OUTPUT.lumi-export.part with a checkpoint after each page
    (OUTPUT.lumi-export.json), and OUTPUT appears, complete, at the end; after a crash, the
    same command with --resume carries on from the last checkpoint.
    """
    filter_doc = _json_object(filter_, "--filter") or {}
    order = _sort(sort)
    file_format = format_of(output, fmt)
    if resume and output is None:
        raise click.UsageError("--resume needs -o: an export to stdout cannot be resumed")
    with _errors():
        client = state.entity(entity)
        total = client.count(filter=filter_doc)
        with _bar(total, f"export {entity}") as bar:
            if output is None:
                pager = client.pager(filter=filter_doc, sort=order, page_size=page_size)

                def records() -> Iterator[dict[str, Any]]:
                    for page in pager.pages():
                        yield from page
                        bar.update(len(page))

                count = write_records(records(), sys.stdout, file_format)
                resumed = 0
            else:
                if not resume and checkpoint_path(output).exists():
                    click.echo(
                        "note: starting over; --resume would continue the interrupted export",
                        err=True,
                    )
                identity = {
                    "entity": entity,
                    "project": state.client().project_id,
                    "api_base_url": state.client().config.api_base_url,
                    "filter": filter_doc,
                    "sort": [[field, direction] for field, direction in order],
                    "format": file_format,
                }
                job = Export(
                    client, output, file_format, identity, filter_doc, order, page_size, bar.update
                )
                report = job.run(resume=resume)
                count, resumed = report.count, report.resumed_at
    note = f", resumed after {resumed}" if resumed else ""
    click.echo(f"exported {count} record(s){note}", err=True)


@entities.command("import")
@click.argument("entity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_format_option
@click.option(
    "--schema",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The entity schema file: rows that fail it are rejected (and CSV cells typed by it).",
)
@click.option("--key", help="A field identifying a record: rows whose key exists are not created.")
@click.option(
    "--on-conflict",
    type=click.Choice(["skip", "update"]),
    default="skip",
    show_default=True,
    help="With --key: what to do with a row whose key already exists.",
)
@click.option(
    "--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_SIZE, show_default=True
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The checkpoint file (default: FILE.lumi-import.json).",
)
@click.option("--restart", is_flag=True, help="Ignore the journal and import from the start.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write rejected rows (JSONL: where, reason) here instead of to stderr.",
)
@click.pass_obj
def import_command(
    state: _Context,
    entity: str,
    file: Path,
    fmt: str | None,
    schema: Path | None,
    key: str | None,
    on_conflict: str,
    chunk_size: int,
    journal: Path | None,
    restart: bool,
    rejects: Path | None,
) -> None:
    """Import records from FILE (JSON array, JSONL or CSV), resumable after a crash.

    Re-run the same command after a failure: the journal skips the chunks already done, and
    with --key the rows whose key already exists are skipped (or updated), so nothing is
    created twice. Rejected rows are reported with their line (or item) number.
    """
    with _errors():
        file_format: Format = format_of(file, fmt)
        validator = None
        json_schema: dict[str, Any] | None = None
        if schema is not None:
            entity_schema = load_entity_file(schema)
            for warning in entity_schema.warnings:
                click.echo(f"warning: {warning}", err=True)
            json_schema = entity_schema.schema
            validator = SchemaValidator(json_schema, entity_schema.name)
        client = state.entity(entity)
        project = state.client().project_id
        checkpoint = Journal(
            journal or file.with_name(file.name + ".lumi-import.json"),
            fingerprint(file, entity, project, key or "", file_format),
        )
        if restart:
            checkpoint.clear()
        if key is None:
            click.echo(
                "note: without --key, a crash in the middle of a chunk can create that chunk's "
                "records twice when the import is re-run",
                err=True,
            )
        with contextlib.ExitStack() as stack:
            report_stream: IO[str] = (
                stack.enter_context(rejects.open("w", encoding="utf-8")) if rejects else sys.stderr
            )

            def report(rejection: Rejection) -> None:
                line = {"where": rejection.where, "reason": rejection.reason}
                if rejects is None:
                    click.echo(f"rejected {rejection.where}: {rejection.reason}", err=True)
                else:
                    report_stream.write(json.dumps(line, ensure_ascii=False) + "\n")
                    report_stream.flush()

            bar = stack.enter_context(_bar(count_rows(file, file_format), f"import {entity}"))
            importer = Importer(
                client,
                checkpoint,
                chunk_size=chunk_size,
                key=key,
                on_conflict="update" if on_conflict == "update" else "skip",
                validator=validator,
                on_progress=bar.update,
                on_reject=report,
            )
            result = importer.run(read_rows(file, file_format, json_schema))
    if result.already_done:
        click.echo(
            f"{file} was already imported (journal {checkpoint.path}); "
            "pass --restart to import it again",
            err=True,
        )
        return
    resumed = f", resumed after {result.resumed_at} row(s)" if result.resumed_at else ""
    click.echo(
        f"created {result.created}, updated {result.updated}, skipped {result.skipped} "
        f"existing, rejected {len(result.rejected)}{resumed}",
        err=True,
    )
    if result.rejected:
        sys.exit(3)


@entities.command("delete")
@click.argument("entity")
@click.argument("ids", nargs=-1)
@click.option("--filter", "filter_", help="Delete every record matching this JSON filter.")
@click.option(
    "--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_SIZE, show_default=True
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete_command(
    state: _Context,
    entity: str,
    ids: tuple[str, ...],
    filter_: str | None,
    chunk_size: int,
    yes: bool,
) -> None:
    """Delete records by id, or every record matching --filter ('{}' for all)."""
    if bool(ids) == (filter_ is not None):
        raise click.UsageError("give record ids or --filter (not both)")
    with _errors():
        client = state.entity(entity)
        if filter_ is None:
            with _bar(len(ids), f"delete {entity}") as bar:
                for chunk in chunks(ids, chunk_size):
                    client.delete_many(chunk)
                    bar.update(len(chunk))
            deleted = len(ids)
        else:
            wanted = _json_object(filter_, "--filter")
            matched = client.count(filter=wanted)
            if not matched:
                click.echo("no record matches", err=True)
                return
            if not yes:
                click.confirm(f"Delete {matched} {entity} record(s)?", abort=True, err=True)
            deleted = 0
            with _bar(matched, f"delete {entity}") as bar:
                # Keyset pages by _id: deleting what the cursor has passed moves nothing ahead.
                for page in client.pager(
                    filter=wanted, page_size=max(chunk_size, PAGE_SIZE)
                ).pages():
                    for chunk in chunks([record["_id"] for record in page], chunk_size):
                        client.delete_many(chunk)
                        deleted += len(chunk)
                        bar.update(len(chunk))
    click.echo(f"deleted {deleted} record(s)", err=True)


if __name__ == "__main__":  # python -m lumi.data.cli (the tests' crash-and-resume subprocess)
    entities()
