"""``python manage.py lumi ...``: the ``lumi`` command line (``manage.py lumi emulator``)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):  # type: ignore[misc]  # Django ships no type hints
    help = "Run the lumi command line, e.g. `manage.py lumi emulator --fixed-otp 123456`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "lumi_args", nargs=argparse.REMAINDER, help="the arguments of the lumi command"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from lumi.cli import main

        try:
            status = main(list(options["lumi_args"]))
        except SystemExit as exc:  # click ends with sys.exit(), even on success
            status = exc.code
        if status not in (0, None):
            raise CommandError(
                f"lumi exited with status {status}",
                returncode=int(status) if isinstance(status, int) else 1,
            )
