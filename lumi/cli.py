"""The ``lumi`` command. Subcommands live next to what they drive and are imported lazily,
so ``lumi --help`` stays fast and an extra that is not installed only breaks its own command."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ._extras import MissingExtraError, install_command, require_extra
from ._version import __version__

try:
    import click
except ImportError:  # pragma: no cover - exercised only without click (tests/test_extras.py)
    click = None  # type: ignore[assignment]

#: command name -> ("module:attribute" of its click command, the extra it needs)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("lumi.emulator.cli:emulator", "emulator"),
    "codegen": ("lumi._codegen.cli:codegen", "codegen"),
    "events": ("lumi.events.cli:events", "cli"),
    "entities": ("lumi.data.cli:entities", "cli"),
    "login": ("lumi.credentials:login_command", "cli"),
    "logout": ("lumi.credentials:logout_command", "cli"),
}

if click is not None:

    class _LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(SUBCOMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name not in SUBCOMMANDS:
                return None
            target, extra = SUBCOMMANDS[cmd_name]
            module_name, _, attribute = target.partition(":")
            try:
                require_extra(extra, f"'lumi {cmd_name}'")
                module = importlib.import_module(module_name)
            except MissingExtraError as exc:
                return _not_installed(cmd_name, exc)
            command: click.Command = getattr(module, attribute)
            return command

    def _not_installed(name: str, error: MissingExtraError) -> click.Command:
        """A stand-in for a command whose extra is missing: listed by ``lumi --help`` with the
        install line, and failing with the error's message whatever its arguments."""

        def fail(args: tuple[str, ...]) -> None:
            raise click.ClickException(error.message)

        return click.Command(
            name,
            callback=fail,
            params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            add_help_option=False,
            short_help=f"(not installed: {install_command(error.extra)})",
        )

    @click.group(cls=_LazyGroup)
    @click.version_option(__version__, prog_name="lumi (lumi-sdk)")
    def cli() -> None:
        """Lumi from the command line: the local emulator, code generation, data and events.

        Each command needs its extra: emulator [emulator], codegen [codegen], entities, events,
        login and logout [cli] (pip install 'lumi-sdk[cli]'). LUMI_LOG=debug or info prints
        the library's log on stderr.
        """


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``lumi`` console script."""
    if click is None:
        sys.stderr.write(f"The lumi command needs click: {install_command('cli')}\n")
        return 2
    return cli.main(args=argv, prog_name="lumi")
