"""Timing helpers shared by the benchmarks.

Candidates are measured in interleaved rounds (A, B, A, B, ...) and each keeps its median round,
so that load from other processes and CPU frequency drift affect both sides alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def compare(
    candidates: dict[str, Callable[[], object]],
    calls: int,
    rounds: int = 7,
    *,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 1,
) -> list[tuple[str, float]]:
    """Median seconds per call of each candidate, measured in interleaved rounds on ``clock``
    (wall time by default; ``time.thread_time`` for the calling thread's CPU)."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():
        for _ in range(warmup):
            fn()  # warm up: connections, caches, lazily built hooks
    for _ in range(rounds):
        for name, fn in candidates.items():
            started = clock()
            for _ in range(calls):
                fn()
            samples[name].append((clock() - started) / calls)
    return [(name, statistics.median(values)) for name, values in samples.items()]


def report(title: str, rows: list[tuple[str, float]], baseline: str) -> None:
    """Print a table of per-call times with the ratio to the named baseline row."""
    base = dict(rows)[baseline]
    print(title)
    for name, seconds in rows:
        print(f"  {name:<44} {seconds * 1e6:10.1f} µs/call   x{seconds / base:5.2f} vs {baseline}")
