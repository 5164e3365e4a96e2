"""``python -m codegen`` (``make codegen``): regenerate lumi/_generated/ from schema/.
``--check`` only reports files that differ from a fresh run (exit 1); ``--output DIR`` writes the
files under DIR instead of the repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._project import OPENAPI, stale_files, write_project

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--root", type=Path, default=REPO, help="the repository (has schema/)")
    parser.add_argument("--output", type=Path, default=None, help="write under this directory")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if not (args.root / OPENAPI).is_file():
        parser.error(f"{args.root / OPENAPI} not found: --root must be the lumi repository")
    if args.check:
        stale = stale_files(args.root)
        for relative in stale:
            print(f"stale: {relative} (run `make codegen`)", file=sys.stderr)
        return 1 if stale else 0
    for relative in write_project(args.root, args.output):
        print(relative)
    return 0


if __name__ == "__main__":
    sys.exit(main())
