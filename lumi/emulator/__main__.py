"""``python -m lumi.emulator``: the same as ``lumi emulator``."""

from lumi.emulator.cli import emulator

if __name__ == "__main__":
    emulator(prog_name="python -m lumi.emulator")
