"""The entity store at a million documents: keyset pages at depth and a full pass.

Figures, each a ratio against a baseline measured in the same run (interleaved rounds, medians):

- a keyset page of 100 in ``_id`` order at depth 90% against the first page, inside a walk (the
  page after the previous one) and alone (no page before it: its total is counted afresh);
- the same on a user sort key (``{n: 1, _id: 1}``, a compound cursor);
- a full pass by ``_id`` keyset pages through the store against the same pass as plain SQLite
  queries (``id > ? ORDER BY id LIMIT ?`` + ``json.loads``), and its peak RSS against the same
  pass over a tenth of the documents (each pass in a fresh process).

Documents are loaded through ``EntityStore.create_many`` in batches, not over HTTP.

``python -m benchmarks.emulator_scale [--size N] [--keep FILE]`` (``--keep`` reuses a loaded file)
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lumi.emulator.keyset_counts import KeysetCounts
from lumi.emulator.store import EntityStore

from ._timing import compare, report

P = "p_scale"
BIG, SMALL = "events", "events_small"
PAGE = 100
BATCH = 5_000


def documents(count: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Small documents in batches: a number, a label, a date and two tags."""
    rng = random.Random(seed)
    for start in range(0, count, BATCH):
        yield [
            {
                "n": rng.randrange(1_000_000),
                "label": f"l{rng.randrange(1000)}",
                "day": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "tags": rng.sample(["a", "b", "c", "d"], 2),
            }
            for _ in range(min(BATCH, count - start))
        ]


def load(path: Path, size: int) -> None:
    store = EntityStore(path)
    started = time.perf_counter()
    for entity, count, seed in ((BIG, size, 1), (SMALL, size // 10, 2)):
        existing = store.find(P, entity, None, None, 1)[1]
        if existing == count:
            continue
        for batch in documents(count - existing, seed):
            store.create_many(P, entity, batch, None)
    elapsed = time.perf_counter() - started
    if elapsed > 1:
        rate = (size + size // 10) / elapsed
        print(f"loaded {size:,} + {size // 10:,} documents in {elapsed:.1f} s ({rate:,.0f}/s)")
    store.close()


def id_at(store: EntityStore, depth: int) -> str:
    """The _id of the document at this depth in _id order (found by pages of 10,000)."""
    with sqlite3.connect(store._path) as conn:  # a plain read beside the store
        row = conn.execute(
            "SELECT id FROM documents WHERE project = ? AND entity = ? ORDER BY id "
            "LIMIT 1 OFFSET ?",
            (P, BIG, depth - 1),
        ).fetchone()
    return str(row[0])


def bench_id_keyset(store: EntityStore, size: int) -> None:
    depth = size * 9 // 10
    before, at = id_at(store, depth - PAGE), id_at(store, depth)
    sort = {"_id": 1}

    def page(after: str) -> Any:
        return store.find(P, BIG, {"$and": [{}, {"_id": {"$gt": after}}]}, sort, PAGE)

    walk = iter(())

    def in_walk() -> Any:
        nonlocal walk
        # Alternate between two neighbouring pages: each call follows a page 100 away, as in
        # a walk (repeating one page would find its own total remembered).
        step = next(walk, None)
        if step is None:
            walk = iter([before, at] * 1000)
            step = next(walk)
        return page(step)

    def alone() -> Any:
        store._memory.counts = KeysetCounts()  # forget: this page's total is counted afresh
        return page(at)

    first = store.find(P, BIG, {}, sort, PAGE)
    deep, total = page(at)
    assert len(first[0]) == PAGE and len(deep) == PAGE and total == size - depth
    rows = compare(
        {
            "first page (filter {}, sort _id)": lambda: store.find(P, BIG, {}, sort, PAGE),
            f"page at depth {depth:,}, in a walk": in_walk,
            f"page at depth {depth:,}, alone": alone,
        },
        calls=20,
        rounds=7,
    )
    report(f"keyset pages of {PAGE} by _id, {size:,} documents", rows, rows[0][0])


def bench_user_sort_keyset(store: EntityStore, size: int) -> None:
    sort = {"n": 1, "_id": 1}
    started = time.perf_counter()
    _, total = store.find(P, BIG, {}, sort, PAGE)  # creates the index on n
    print(f"\nindex on n created by the first sorted query: {time.perf_counter() - started:.1f} s")
    assert total == size and store.indexed_fields(P, BIG) == ["n"]
    depth = size * 9 // 10
    with sqlite3.connect(store._path) as conn:
        n, last = json.loads(
            conn.execute(
                "SELECT json_array(json_extract(body, '$.n'), id) FROM documents "
                "WHERE project = ? AND entity = ? "
                "ORDER BY json_extract(body, '$.n'), id LIMIT 1 OFFSET ?",
                (P, BIG, depth - 1),
            ).fetchone()[0]
        )
    cursor = {"$and": [{}, {"$or": [{"n": {"$gt": n}}, {"n": n, "_id": {"$gt": last}}]}]}
    deep, remaining = store.find(P, BIG, cursor, sort, PAGE)
    assert len(deep) == PAGE and remaining == size - depth

    def fresh(query: dict[str, Any]) -> Any:
        # A compound cursor's total is not carried from page to page (only _id ranges are):
        # forget what a repeat of this very page would find remembered.
        store._memory.counts = KeysetCounts()
        return store.find(P, BIG, query, sort, PAGE)

    rows = compare(
        {
            "first page (filter {}, sort n, _id)": lambda: fresh({}),
            f"page at depth {depth:,} (compound cursor)": lambda: fresh(cursor),
        },
        calls=10,
        rounds=7,
    )
    report(f"keyset pages of {PAGE} by (n, _id), {size:,} documents", rows, rows[0][0])


_PASS = """
import json, resource, sqlite3, sys, time
from lumi.emulator.store import EntityStore
path, entity, way, page = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.perf_counter()
seen, after = 0, None
if way == "store":
    store = EntityStore(path)
    while True:
        query = {} if after is None else {"$and": [{}, {"_id": {"$gt": after}}]}
        docs, total = store.find("p_scale", entity, query, {"_id": 1}, page)
        if not docs:
            break
        seen += len(docs)
        after = docs[-1]["_id"]
else:
    conn = sqlite3.connect(path)
    while True:
        rows = conn.execute(
            "SELECT body FROM documents WHERE project = 'p_scale' AND entity = ? AND id > ? "
            "ORDER BY id LIMIT ?", (entity, after or "", page)).fetchall()
        if not rows:
            break
        docs = [json.loads(body) for (body,) in rows]
        seen += len(docs)
        after = docs[-1]["_id"]
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seen": seen, "seconds": elapsed, "rss_kib": rss}))
"""


def full_pass(path: Path, entity: str, way: str, page: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _PASS, str(path), entity, way, str(page)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def bench_full_pass(path: Path, size: int, rounds: int = 3) -> None:
    page = 1000
    runs: dict[str, list[dict[str, Any]]] = {"store": [], "sqlite": [], "store-small": []}
    for _ in range(rounds):  # interleaved: store, plain SQLite, store over a tenth
        runs["store"].append(full_pass(path, BIG, "store", page))
        runs["sqlite"].append(full_pass(path, BIG, "sqlite", page))
        runs["store-small"].append(full_pass(path, SMALL, "store", page))

    def median(name: str, key: str) -> float:
        values = sorted(run[key] for run in runs[name])
        return float(values[len(values) // 2])

    assert all(run["seen"] == size for run in runs["store"] + runs["sqlite"])
    store_s, sqlite_s = median("store", "seconds"), median("sqlite", "seconds")
    big_rss, small_rss = median("store", "rss_kib"), median("store-small", "rss_kib")
    print(f"\nfull pass by _id keyset pages of {page} ({rounds} rounds, medians, fresh processes)")
    print(
        f"  store, {size:,} documents           {store_s:8.2f} s   x{store_s / sqlite_s:.2f} vs SQLite"
    )
    print(f"  plain SQLite keyset loop + json.loads {sqlite_s:8.2f} s")
    print(
        f"  peak RSS: {size:,} documents {big_rss / 1024:.1f} MiB, {size // 10:,} documents "
        f"{small_rss / 1024:.1f} MiB: x{big_rss / small_rss:.2f}"
    )


def main(size: int = 1_000_000, keep: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(keep) if keep else Path(tmp) / "scale.db"
        load(path, size)
        store = EntityStore(path)
        try:
            bench_id_keyset(store, size)
            bench_user_sort_keyset(store, size)
        finally:
            store.close()
        bench_full_pass(path, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keep", help="a database file to reuse (loaded if needed)")
    arguments = parser.parse_args()
    main(arguments.size, arguments.keep)
