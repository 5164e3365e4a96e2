"""A full pass over N records: the client's auto-paging (untyped ``iterate`` and a typed
QuerySet) vs a raw ``requests`` keyset loop over the same pages, and the old skip-based pass.

The emulator runs in its own process (so that its work does not share the client's GIL); every
candidate reads the same N records in pages of ``--page-size`` from it; the passes advance side by
side a page at a time (see :func:`_interleaved`), and each candidate keeps its median pass. The raw loop signs its requests itself (``hmac``/``hashlib``, PROTOCOL
§2), sends the filters the client sends (``{}`` then ``{"$and": [{}, {"_id": {"$gt": last}}]}``,
sort ``{"_id": 1}``) and only parses the JSON: the ratio is what the client adds (options,
retries bookkeeping, envelope and reply checks, sort keys, structuring into records).

``python -m benchmarks.iterate [--size 10000] [--page-size 100] [--rounds 8]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib.util
import itertools
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

import lumi
from codegen import generate_entities
from lumi.entity_schema import load_entity_schemas

from ._timing import report

PROJECT = "p_bench"
ENTITY = "Posts"
# PROTOCOL.md §2: the client key shipped in every browser bundle (not a user secret).
CLIENT_KEY = (
    "6QrJZ7pFCmBZAeIJF7IArvkCz+EtzA0RVcpHkiQIsQyhs7QtCS9P+CueZdHfB2OtJcgX3BbqY9pfpWeAVTqCwQ=="
)
SERVER = """
import sys
from lumi.emulator import Emulator
with Emulator() as emulator:
    print(emulator.url, flush=True)
    sys.stdin.read()
"""
SCHEMA = {
    "name": ENTITY,
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string"},
        "views": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "published": {"type": "boolean"},
    },
    "additionalProperties": True,
}


def _signed_post(session: requests.Session, url: str, body: dict[str, Any]) -> Any:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
    canonical = f"\nx-nonce:{nonce}\nx-timestamp:{timestamp}\n{hashlib.sha256(data).hexdigest()}"
    mac = hmac.new(CLIENT_KEY.encode(), canonical.encode(), hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Sign": base64.b64encode(mac).decode(),
    }
    reply = session.post(url, data=data, headers=headers, timeout=(5, 300)).json()
    assert reply["code"] == 200, reply
    return reply["data"]


def _interleaved(candidates: dict[str, Any], rounds: int) -> list[tuple[str, float]]:
    """Median seconds per full pass. The candidates' passes advance side by side, one page
    each in turn (each round starting with the next candidate), so that a burst of load on this
    shared machine falls on every candidate alike instead of on one whole pass."""
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        passes = {name: candidates[name]() for name in order}
        spent = dict.fromkeys(order, 0.0)
        while passes:
            for name in [n for n in order if n in passes]:
                started = time.perf_counter()
                done = next(passes[name], None) is None
                spent[name] += time.perf_counter() - started
                if done:
                    del passes[name]
        for name in names:
            samples[name].append(spent[name])
    return [(name, statistics.median(samples[name])) for name in names]


def _by_page(records: Any, page_size: int) -> Iterator[int]:
    """Steps through an auto-paging iterator one page of records (one request) at a time."""
    iterator = iter(records)
    while True:
        count = sum(1 for _ in itertools.islice(iterator, page_size))
        if not count:
            return
        yield count


def _post_class(folder: Path) -> type:
    (folder / "posts.json").write_text(json.dumps(SCHEMA))
    code = generate_entities(
        load_entity_schemas([folder]), source_name="bench", regenerate_with="-"
    )
    target = folder / "bench_posts.py"
    target.write_text(code)
    spec = importlib.util.spec_from_file_location("bench_posts", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_posts"] = module
    spec.loader.exec_module(module)
    return module.ENTITIES[ENTITY]  # type: ignore[no-any-return]


def main(size: int = 10_000, page_size: int = 100, rounds: int = 8) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        client = lumi.create_client(project_id=PROJECT, api_base_url=url, rate_limit=None)
        posts = client.entities[ENTITY]
        started = time.perf_counter()
        for start in range(0, size, 1000):
            posts.create_many(
                [
                    {"title": f"post {n}", "views": n % 1000, "tags": ["a", "b"], "published": True}
                    for n in range(start, min(start + 1000, size))
                ]
            )
        print(f"loaded {size:,} documents in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory() as folder:
            typed = client.repository(_post_class(Path(folder)), validation="off")
            session = requests.Session()
            endpoint = f"{url}/lm/{PROJECT}/{ENTITY}/documents/listByPage"

            def raw_keyset() -> Iterator[int]:
                filter: dict[str, Any] = {}
                while True:
                    body = {"filter": filter, "sort": {"_id": 1}, "limit": page_size, "skip": 0}
                    data = _signed_post(session, endpoint, body)
                    yield len(data["list"])
                    if len(data["list"]) < page_size or data["total"] <= len(data["list"]):
                        return
                    filter = {"$and": [{}, {"_id": {"$gt": data["list"][-1]["_id"]}}]}

            def untyped() -> Iterator[int]:
                return _by_page(posts.iterate(page_size=page_size), page_size)

            def typed_queryset() -> Iterator[int]:
                return _by_page(typed.all().page_size(page_size), page_size)

            def skip_based() -> Iterator[int]:  # the old QuerySet / export pass: growing skip
                count = 0
                while True:
                    page = posts.list(sort={"_id": 1}, limit=page_size, skip=count)
                    yield len(page.list)
                    count += len(page.list)
                    if len(page.list) < page_size or count >= page.total:
                        return

            for name, candidate in [("raw", raw_keyset), ("untyped", untyped),
                                    ("typed", typed_queryset), ("skip", skip_based)]:  # fmt: skip
                assert sum(candidate()) == size, name
            rows = _interleaved(
                {
                    "raw requests keyset loop": raw_keyset,
                    "client entities.X.iterate()": untyped,
                    "client typed QuerySet iteration": typed_queryset,
                    "client skip/limit pass (old)": skip_based,
                },
                rounds,
            )
        report(
            f"full pass over {size:,} records, pages of {page_size} (per pass)",
            rows,
            "raw requests keyset loop",
        )
        times = dict(rows)
        print(
            f"  skip-based pass vs keyset pass (client, untyped): "
            f"x{times['client skip/limit pass (old)'] / times['client entities.X.iterate()']:.2f}"
        )
    finally:
        server.communicate("", timeout=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=8)
    arguments = parser.parse_args()
    main(arguments.size, arguments.page_size, arguments.rounds)
