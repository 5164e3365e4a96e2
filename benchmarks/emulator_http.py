"""The emulator over HTTP: entity ``get`` throughput and a filtered, sorted page over 50,000
documents, through the lumi client and through raw signed ``requests`` calls (the baseline).

``python -m benchmarks.emulator_http [--size N]``
"""

from __future__ import annotations

import argparse
import json
import random
import time

import requests

import lumi
from lumi.emulator import Emulator
from lumi.jsonenc import dumps_bytes
from lumi.signing import sign_headers

from ._timing import compare, report

PROJECT = "p_bench"
STATUSES = ["agendada", "confirmada", "cancelada", "concluida"]


def _documents(size: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    return [
        {
            "student_id": f"s{rng.randrange(500)}",
            "status": rng.choice(STATUSES),
            "scheduledDate": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T10:00:00.000Z",
            "price": rng.randrange(50, 500),
            "tags": rng.sample(["a", "b", "c", "d"], 2),
        }
        for _ in range(size)
    ]


def main(size: int = 50_000) -> None:
    with Emulator() as emulator:
        client = lumi.create_client(project_id=PROJECT, api_base_url=emulator.url, rate_limit=None)
        lessons = client.entities.lessons
        started = time.perf_counter()
        docs = _documents(size)
        ids: list[str] = []
        for start in range(0, size, 1000):
            ids.extend(r.id for r in lessons.create_many(docs[start : start + 1000]))  # type: ignore[misc]
        print(f"loaded {size:,} documents in {time.perf_counter() - started:.1f} s")

        session = requests.Session()
        base = f"{emulator.url}/lm/{PROJECT}/lessons/documents"
        target = ids[len(ids) // 2]

        def raw_get() -> object:
            return session.get(f"{base}/{target}", headers=sign_headers(None, None)).json()["data"]

        rows = compare(
            {
                "raw signed requests GET": raw_get,
                "client entities.get": lambda: lessons.get(target),
            },
            calls=100,
            rounds=5,
        )
        report(f"get by id ({size:,} documents)", rows, "raw signed requests GET")
        for name, seconds in rows:
            print(f"  {name}: {1 / seconds:,.0f} gets/s")

        query = {
            "filter": {
                "status": {"$in": ["agendada", "confirmada"]},
                "price": {"$gte": 100},
                "scheduledDate": {"$gte": "2026-03-01T00:00:00.000Z"},
            },
            "sort": {"scheduledDate": 1, "price": -1},
            "limit": 20,
            "skip": 40,
        }
        body = dumps_bytes(query)

        def raw_list() -> object:
            headers = {"Content-Type": "application/json", **sign_headers(None, body)}
            return json.loads(
                session.post(f"{base}/listByPage", data=body, headers=headers).content
            )

        def client_list() -> object:
            return lessons.list(**query)  # type: ignore[arg-type]

        rows = compare(
            {"raw signed requests POST": raw_list, "client entities.list": client_list},
            calls=3,
            rounds=5,
        )
        page = client_list()
        report(
            f"filtered + sorted page over {size:,} documents ({page.total:,} matches)",  # type: ignore[attr-defined]
            rows,
            "raw signed requests POST",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=50_000)
    main(parser.parse_args().size)
