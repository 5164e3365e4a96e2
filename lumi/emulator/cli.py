"""``lumi emulator``: run the emulator; ``outbox`` and ``set-role`` inspect or change its state."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8787"


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, handler)


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0: any free one).")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the state in DIR across restarts (default: a temporary directory).",
)
@click.option("--fixed-otp", metavar="CODE", help="Make every one-time code CODE (6 digits).")
@click.option(
    "--functions",
    "functions_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Python file whose top-level functions answer /v1/functions/{projectId}/{name}.",
)
@click.option("--api-key", help="The only events write key accepted (default: any).")
@click.option(
    "--max-file-size",
    default="10MiB",
    show_default=True,
    metavar="SIZE",
    help="Largest uploaded file: bytes, or with a KiB/MiB/GiB suffix.",
)
@click.pass_context
def emulator(
    ctx: click.Context,
    host: str,
    port: int,
    data_dir: Path | None,
    fixed_otp: str | None,
    functions_file: Path | None,
    api_key: str | None,
    max_file_size: str,
) -> None:
    """Run the local Lumi emulator (same protocol as the cloud, offline)."""
    if ctx.invoked_subcommand is not None:
        return
    size = _parse_size(max_file_size)
    import logging

    from lumi.emulator.server import Emulator

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        emu = Emulator(
            data_dir,
            fixed_otp,
            functions_file,
            api_key,
            host=host,
            port=port,
            max_file_size=size,
            quiet=False,
        )
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        emu.bind()
    except OSError as exc:
        emu.stop()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    click.echo(f"Lumi emulator on {emu.url}")
    click.echo(f"  data: {emu.data_dir}" + ("  (temporary)" if data_dir is None else ""))
    click.echo("  paste into Python:")
    click.echo(f'    lumi.create_client(project_id="p_local", api_base_url="{emu.url}")')
    click.echo(f"  mail: {emu.url}/_emulator/outbox   events: {emu.url}/collect/sdk/events")
    click.echo("Press Ctrl+C to stop.")
    _stop_on_sigterm()
    # Werkzeug usually swallows the interrupt itself and returns; serve_forever() then stops the
    # emulator and removes a temporary DIR.
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    click.echo("stopped")


_UNITS = {"": 1, "b": 1, "kib": 1024, "kb": 1024, "mib": 1024**2, "mb": 1024**2, "gib": 1024**3}


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    unit = match[2].lower() if match else ""
    if match is None or unit not in _UNITS or int(match[1]) == 0:
        raise click.BadParameter(f"{text!r} is not a size like 10MiB", param_hint="--max-file-size")
    return int(match[1]) * _UNITS[unit]


def _fetch(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    import requests

    try:
        response = requests.request(method, url, json=body, timeout=10)
        reply = response.json()
    except requests.RequestException as exc:
        raise click.ClickException(
            f"no emulator answers at {url.split('/_emulator')[0]} ({type(exc).__name__});"
            " start it or pass --data DIR"
        ) from exc
    except ValueError as exc:
        raise click.ClickException(f"{url} did not answer JSON") from exc
    if reply.get("code") != 200:
        raise click.ClickException(f"[{reply.get('code')}] {reply.get('message')}")
    return reply.get("data")


def _offline(data_dir: Path) -> Any:
    """The emulator's services over DIR without serving (safe while a server uses DIR)."""
    from lumi.emulator.db import Database

    if not (data_dir / "emulator.sqlite3").is_file():
        raise click.ClickException(f"{data_dir} holds no emulator data")
    return Database(data_dir / "emulator.sqlite3")


@emulator.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--url", default=DEFAULT_URL, show_default=True, help="A running emulator.")
@click.option("--project", "project_id", help="Only this project's mail.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def outbox(data_dir: Path | None, url: str, project_id: str | None, as_json: bool) -> None:
    """List sent mail, from DIR (--data) or else from the running emulator (--url)."""
    if data_dir is not None:
        from lumi.emulator.outbox import Outbox

        db = _offline(data_dir)
        try:
            messages = Outbox(db, clock=lambda: 0.0).messages(project_id)
        finally:
            db.close()
    else:
        query = f"?projectId={project_id}" if project_id else ""
        messages = _fetch(f"{url.rstrip('/')}/_emulator/outbox{query}")
    if as_json:
        click.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    if not messages:
        click.echo("no mail")
    for message in messages:
        click.echo(
            f"#{message['id']} {message['sentAt']} [{message['projectId']}] "
            f"to {', '.join(message['to'])}: {message['subject']}"
        )
        if message.get("scheduledAt"):
            click.echo(f"    scheduled at {message['scheduledAt']}")
        body = message.get("text") or message.get("html") or ""
        click.echo("    " + body[:200].replace("\n", " "))


@emulator.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["ADMIN", "USER"]))
@click.option("--project", "project_id", required=True, help="The project id.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--url", default=DEFAULT_URL, show_default=True, help="A running emulator.")
def set_role(email: str, role: str, project_id: str, data_dir: Path | None, url: str) -> None:
    """Make a user ADMIN or USER, in DIR (--data) or else in the running emulator (--url)."""
    from lumi.emulator.envelope import EmulatorError

    if data_dir is not None:
        from lumi.emulator.outbox import Outbox
        from lumi.emulator.users import UserDirectory

        db = _offline(data_dir)
        try:
            users = UserDirectory(db, Outbox(db, clock=lambda: 0.0), clock=lambda: 0.0)
            user = users.set_role(project_id, email, role)
        except EmulatorError as exc:
            raise click.ClickException(exc.message) from exc
        finally:
            db.close()
    else:
        body = {"projectId": project_id, "email": email, "userRole": role}
        user = _fetch(f"{url.rstrip('/')}/_emulator/users/role", "POST", body)
    click.echo(f"{user['email']} is now {user['userRole']} in {project_id}")
