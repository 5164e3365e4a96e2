"""A million documents in the emulator, through the client over HTTP: the full JSONL export's
peak memory against the export of a tenth of them, and a keyset page at depth 90% against the
first page.

1. Documents are loaded into the emulator's data folder with ``EntityStore.create_many`` in
   batches (not over HTTP): ``SIZE`` into one entity, ``SIZE // 10`` into another.
2. The emulator serves that folder from its own process.
3. ``lumi entities export ENTITY -o FILE.jsonl`` runs as a subprocess for each entity in turn
   (``--rounds`` times each, alternating); the figure is its peak RSS (its own ``VmHWM``, Linux
   only), and every export is checked to hold each document once.
4. Keyset pages of 100 by ``_id`` through the client's pager (the requests ``iterate`` and the
   export send): the first page, and the page at depth 90% right after the page before it (as
   in a pass); interleaved rounds, medians, each call timing only its page.

``python -m benchmarks.export_scale [--size 1000000] [--rounds 2] [--keep DIR]`` (``--keep``
loads into DIR once and reuses it)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lumi
from lumi.emulator.store import EntityStore
from lumi.keyset import Position

from .emulator_scale import documents

PROJECT = "p_export"
BIG, SMALL = "Events", "EventsSmall"
PAGE = 100
SERVER = """
import sys
from lumi.emulator import Emulator
with Emulator(data_dir=sys.argv[1]) as emulator:
    print(emulator.url, flush=True)
    sys.stdin.read()
"""
#: The lumi command, reporting its peak RSS at exit: /proc/self/status VmHWM, the high-water mark
#: of this program's own memory. (``wait4``'s ru_maxrss is no good here: Linux carries over the
#: peak of the process that forked the child, so it would report this benchmark's memory.)
EXPORT = """
import sys
from lumi.cli import main
try:
    main(sys.argv[2:])
finally:
    with open("/proc/self/status") as status, open(sys.argv[1], "w") as peak:
        peak.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
"""


def load(folder: Path, size: int) -> None:
    """Fill the emulator's entity file in ``folder`` (once: a filled folder is kept)."""
    marker = folder / f"loaded-{size}"
    if marker.exists():
        return
    store = EntityStore(folder / "entities.sqlite3")
    started = time.perf_counter()
    try:
        for entity, count, seed in ((BIG, size, 1), (SMALL, size // 10, 2)):
            for batch in documents(count, seed):
                store.create_many(PROJECT, entity, batch, None)
    finally:
        store.close()
    marker.touch()
    print(f"loaded {size + size // 10:,} documents in {time.perf_counter() - started:.0f} s")


def export(url: str, entity: str, output: Path) -> tuple[float, float]:
    """Run ``lumi entities export``: (its peak RSS in MiB, seconds). The output is checked."""
    peak_file = output.with_name(output.name + ".peak")
    command = [sys.executable, "-c", EXPORT, str(peak_file), "entities", "--project-id", PROJECT]
    command += ["--api-base-url", url, "export", entity, "-o", str(output)]
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"export of {entity} failed: {message}")
    peak_kib = int(peak_file.read_text())
    peak_file.unlink()
    ids = set()
    lines = 0
    with output.open("rb") as stream:
        for line in stream:
            ids.add(json.loads(line)["_id"])
            lines += 1
    output.unlink()
    if lines != len(ids):
        raise RuntimeError(f"export of {entity}: {lines - len(ids)} record(s) written twice")
    return peak_kib / 1024, elapsed


def bench_exports(url: str, folder: Path, size: int, rounds: int) -> None:
    rss: dict[str, list[float]] = {SMALL: [], BIG: []}
    seconds: dict[str, list[float]] = {SMALL: [], BIG: []}
    for _ in range(rounds):
        for entity in (SMALL, BIG):
            peak, elapsed = export(url, entity, folder / f"{entity}.jsonl")
            rss[entity].append(peak)
            seconds[entity].append(elapsed)
    small, big = statistics.median(rss[SMALL]), statistics.median(rss[BIG])
    print(f"lumi entities export -o x.jsonl (a subprocess), median of {rounds}")
    for entity, count in ((SMALL, size // 10), (BIG, size)):
        peak, elapsed = statistics.median(rss[entity]), statistics.median(seconds[entity])
        print(
            f"  {count:>9,} records  peak RSS {peak:6.1f} MiB  x{peak / small:4.2f}"
            f"   {elapsed:6.1f} s ({count / elapsed:,.0f} records/s)"
        )
    print(f"  peak RSS, {size:,} vs {size // 10:,} records: x{big / small:.2f}")


def _timed_rounds(
    candidates: dict[str, Callable[[], float]], calls: int, rounds: int
) -> list[tuple[str, float]]:
    """Median seconds per call; each candidate times its own page (what it does before the page,
    untimed); rounds interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, candidate in candidates.items():
            samples[name].append(sum(candidate() for _ in range(calls)) / calls)
    return [(name, statistics.median(values)) for name, values in samples.items()]


def bench_deep_page(url: str, folder: Path, size: int) -> None:
    client = lumi.create_client(project_id=PROJECT, api_base_url=url, rate_limit=None)
    events = client.entities[BIG]
    depth = size * 9 // 10
    before = _id_at(folder, depth - PAGE)

    def pages_from(anchor: str | None, yielded: int) -> Iterator[list[dict[str, Any]]]:
        position = None
        if anchor is not None:
            position = Position(mode="keyset", anchor=[[anchor]], last=[[anchor]], yielded=yielded)
        return events.pager(sort={"_id": 1}, page_size=PAGE, position=position).pages()

    def timed_next(pages: Iterator[list[dict[str, Any]]]) -> float:
        started = time.perf_counter()
        page = next(pages)
        elapsed = time.perf_counter() - started
        assert len(page) == PAGE
        return elapsed

    def first() -> float:
        return timed_next(pages_from(None, 0))

    def in_walk() -> float:
        pages = pages_from(before, depth - PAGE)
        next(pages)  # the page before (untimed), as in a pass
        return timed_next(pages)

    rows = _timed_rounds(
        {
            "first page (filter {}, sort _id)": first,
            f"page at depth {depth:,}, after the page before it": in_walk,
        },
        calls=10,
        rounds=9,
    )
    base = rows[0][1]
    print(f"keyset pages of {PAGE} by _id over HTTP through the client, {size:,} documents")
    for name, seconds in rows:
        print(f"  {name:<48} {seconds * 1000:8.2f} ms   x{seconds / base:5.2f}")
    client.close()


def _id_at(folder: Path, depth: int) -> str:
    """The _id at this depth in _id order (a plain read of the store's file)."""
    with sqlite3.connect(folder / "entities.sqlite3") as conn:
        row = conn.execute(
            "SELECT id FROM documents WHERE project = ? AND entity = ? ORDER BY id "
            "LIMIT 1 OFFSET ?",
            (PROJECT, BIG, depth - 1),
        ).fetchone()
    return str(row[0])


def main(size: int = 1_000_000, rounds: int = 2, keep: str | None = None) -> None:
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="lumi-export-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        load(folder, size)
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            bench_deep_page(url, folder, size)
            bench_exports(url, folder, size, rounds)
        finally:
            server.communicate("", timeout=120)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", help="a data folder to load once and reuse")
    arguments = parser.parse_args()
    main(arguments.size, arguments.rounds, arguments.keep)
