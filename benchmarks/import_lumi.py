"""``import lumi`` vs ``import requests, attrs, cattrs`` (its runtime dependencies), each in a
fresh interpreter, in interleaved runs; the CPU time of the import statement itself (interpreter
start-up left out), median of the runs.

Run: ``python -m benchmarks.import_lumi`` (``RUNS=...`` in the environment for more).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

RUNS = int(os.environ.get("RUNS", "40"))
STATEMENTS = {
    "import requests, attrs, cattrs": "import requests, attrs, cattrs",
    "import lumi": "import lumi",
}
# CPU time of the import (the machine is shared: wall time would count other processes' turns).
PROBE = "import time; t = time.process_time(); {}; print(time.process_time() - t)"


def seconds(statement: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement)],
        capture_output=True,
        text=True,
        check=True,
        # Bytecode cached, as in an installed package (pip compiles it at install time).
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    samples: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for statement in STATEMENTS.values():
        seconds(statement)  # write the bytecode cache, warm the file system cache
    for _ in range(RUNS):
        for name, statement in STATEMENTS.items():
            samples[name].append(seconds(statement))
    baseline = statistics.median(samples["import requests, attrs, cattrs"])
    print(f"import time, fresh interpreters, median of {RUNS} interleaved runs")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<44} {median * 1e3:8.1f} ms   x{median / baseline:5.2f}")


if __name__ == "__main__":
    main()
