"""``lumi emulator``: run the emulator; ``outbox`` and ``set-role`` inspect or change its state.

The subcommands reach a running emulator's private routes with its per-run token: ``--token``,
else ``$LUMI_EMULATOR_TOKEN``, else the runtime file the emulator wrote for its port
(``lumi.emulator.runtime``); with ``--data DIR`` they read the folder directly instead.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click

if TYPE_CHECKING:
    from lumi.emulator.server import Emulator

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
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests whose Host is NAME (besides localhost, 127.0.0.1, [::1]);"
    " repeatable.",
)
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
    allowed_hosts: tuple[str, ...],
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
            allowed_hosts=allowed_hosts,
            quiet=False,
        )
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        emu.bind()
    except OSError as exc:
        emu.stop()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    for line in _banner(emu, temporary=data_dir is None, fixed_otp=fixed_otp):
        click.echo(line)
    click.echo("Press Ctrl+C to stop.")
    _stop_on_sigterm()
    # Ctrl+C (or SIGTERM) ends serve_forever(), which stops the emulator, frees the port and
    # removes a temporary DIR.
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()
    click.echo("stopped")


def _banner(emu: Emulator, *, temporary: bool, fixed_otp: str | None) -> list[str]:
    """The start-up text: where it listens, how to point an app at it, the OTP mode, the token."""
    from lumi.emulator.access import TOKEN_HEADER
    from lumi.emulator.runtime import ENV_TOKEN

    otp = (
        f"fixed: every one-time code is {fixed_otp}"
        if fixed_otp
        else "random: read them with `lumi emulator outbox` or emulator.latest_otp(email)"
    )
    where = (
        f"`lumi emulator outbox|set-role` and `lumi events tail` read it from {emu.runtime_file}"
        if emu.runtime_file is not None
        else f"pass it to the CLI with --token or ${ENV_TOKEN}"
    )
    return [
        f"Lumi emulator on {emu.url}",
        f"  data: {emu.data_dir}" + ("  (temporary)" if temporary else ""),
        f"Console: {emu.console_url}",
        "  paste into a shell:",
        f"    export LUMI_PROJECT_ID=p_local LUMI_API_BASE_URL={emu.url}",
        "  or into Python:",
        f'    lumi.create_client(project_id="p_local", api_base_url="{emu.url}")',
        f"  one-time codes: {otp}",
        f"  private routes (/_emulator/*): token {emu.private_token} (header {TOKEN_HEADER});",
        f"    {where}",
        f"  in a browser: {emu.login_url()}",
        f"  events ingest: {emu.url}/collect/sdk/events",
    ]


_UNITS = {"": 1, "b": 1, "kib": 1024, "kb": 1024, "mib": 1024**2, "mb": 1024**2, "gib": 1024**3}


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    unit = match[2].lower() if match else ""
    if match is None or unit not in _UNITS or int(match[1]) == 0:
        raise click.BadParameter(f"{text!r} is not a size like 10MiB", param_hint="--max-file-size")
    return int(match[1]) * _UNITS[unit]


_token_option = click.option(
    "--token",
    metavar="TOKEN",
    help="The running emulator's private token (default: $LUMI_EMULATOR_TOKEN, else found"
    " by the port of --url).",
)


def _fetch(
    url: str, token: str | None, method: str = "GET", body: dict[str, Any] | None = None
) -> Any:
    import requests

    from lumi.emulator.runtime import ENV_TOKEN, TOKEN_HEADER, find_token

    secret = find_token(url, token)
    headers = {TOKEN_HEADER: secret} if secret else {}
    try:
        response = requests.request(method, url, json=body, headers=headers, timeout=10)
        reply = response.json()
    except requests.RequestException as exc:
        raise click.ClickException(
            f"no emulator answers at {url.split('/_emulator')[0]} ({type(exc).__name__});"
            " start it or pass --data DIR"
        ) from exc
    except ValueError as exc:
        raise click.ClickException(f"{url} did not answer JSON") from exc
    if not isinstance(reply, dict):
        raise click.ClickException(f"{url} did not answer an envelope")
    if reply.get("code") != 200:
        hint = ""
        if response.status_code == 403 and secret is None:
            hint = f" (no token found: pass --token or set ${ENV_TOKEN})"
        raise click.ClickException(f"[{reply.get('code')}] {reply.get('message')}{hint}")
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
@_token_option
@click.option("--project", "project_id", help="Only this project's mail.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def outbox(
    data_dir: Path | None, url: str, token: str | None, project_id: str | None, as_json: bool
) -> None:
    """List sent mail, from DIR (--data) or else from the running emulator (--url)."""
    if data_dir is not None:
        from lumi.emulator.outbox import Outbox

        db = _offline(data_dir)
        try:
            messages = Outbox(db, clock=lambda: 0.0).messages(project_id)
        finally:
            db.close()
    else:
        query = f"?projectId={quote(project_id, safe='')}" if project_id else ""
        messages = _fetch(f"{url.rstrip('/')}/_emulator/outbox{query}", token)
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
@_token_option
def set_role(
    email: str, role: str, project_id: str, data_dir: Path | None, url: str, token: str | None
) -> None:
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
        user = _fetch(f"{url.rstrip('/')}/_emulator/users/role", token, "POST", body)
    click.echo(f"{user['email']} is now {user['userRole']} in {project_id}")
