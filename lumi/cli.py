"""The ``lumi`` command. Subcommands live next to what they drive and are imported lazily,
so ``lumi --help`` stays fast and an extra that is not installed only breaks its own command."""

from __future__ import annotations

import importlib
import sys
from typing import Any

try:
    import click
except ImportError:  # pragma: no cover - exercised only without the cli extra
    click = None  # type: ignore[assignment]

#: command name -> "module:attribute" of a click command
SUBCOMMANDS: dict[str, str] = {
    "emulator": "lumi.emulator.cli:emulator",
    "codegen": "lumi._codegen.cli:codegen",
    "events": "lumi.events.cli:events",
    "entities": "lumi.data.cli:entities",
    "login": "lumi.credentials:login_command",
    "logout": "lumi.credentials:logout_command",
}

if click is not None:

    class _LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(SUBCOMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            target = SUBCOMMANDS.get(cmd_name)
            if target is None:
                return None
            module_name, _, attribute = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise click.ClickException(
                    f"'lumi {cmd_name}' needs an optional dependency that is missing ({exc.name}). "
                    "Install it with: pip install 'lumi[all]'"
                ) from exc
            command: click.Command = getattr(module, attribute)
            return command

    @click.group(cls=_LazyGroup)
    @click.version_option(package_name="lumi")
    def cli() -> None:
        """Lumi from the command line: the local emulator, code generation, data and events."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``lumi`` console script."""
    if click is None:
        sys.stderr.write("The lumi command needs click: pip install 'lumi[cli]'\n")
        return 2
    return cli.main(args=argv, prog_name="lumi")
