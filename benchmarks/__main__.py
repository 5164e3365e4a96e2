"""Run every benchmark module in this package."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

if __name__ == "__main__":
    names = [
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    ]
    for name in sorted(names):
        print(f"\n=== benchmarks.{name} ===", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()
    sys.exit(0)
