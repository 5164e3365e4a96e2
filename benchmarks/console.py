"""The emulator console's costs, as ratios against a baseline measured in the same run:

- the Events view over a full window (:data:`lumi.emulator.console.conversations.WINDOW` turn
  events, charts included) against the same view with no event;
- the live refresh's poll (``/_emulator/ui/stamp``, every 2 s per open page) against
  ``GET /_emulator/users`` of an empty emulator (one small private JSON route).

``python -m benchmarks.console``
"""

from __future__ import annotations

import json
import time

import requests

from benchmarks._timing import compare, report
from lumi.emulator import Emulator
from lumi.emulator.console import conversations


def _turns(count: int) -> str:
    now = int(time.time() * 1000) - count * 50
    lines = []
    for i in range(count):
        lines.append(
            json.dumps(
                {
                    "event_id": f"bench-{i}",
                    "type": "turn",
                    "session_id": f"{i // 8:032x}",
                    "distinct_id": f"user-{i % 40}",
                    "turn_seq": i % 8 + 1,
                    "start_ts": now + i * 50,
                    "latency_ms": 40 + (i * 37) % 400,
                    "status": "error" if i % 17 == 0 else "ok",
                    "messages": [
                        {"role": "user", "content": "Where is my order?"},
                        {"role": "assistant", "content": "It ships tomorrow."},
                    ],
                    "llm_calls": [{"start_ts": now + i * 50 + 5, "latency_ms": 30, "model": "m"}],
                }
            )
        )
    return "\n".join(lines) + "\n"


def _ingest(emu: Emulator, body: str) -> None:
    lines = body.splitlines(keepends=True)
    for begin in range(0, len(lines), 5_000):
        reply = requests.post(
            emu.url + "/collect/sdk/events",
            data="".join(lines[begin : begin + 5_000]).encode(),
            headers={"X-Api-Key": "bench", "Content-Type": "application/x-ndjson"},
            timeout=60,
        )
        reply.raise_for_status()


def main() -> None:
    with Emulator() as empty, Emulator() as full:
        _ingest(full, _turns(conversations.WINDOW))
        pages = {}
        for name, emu in (("empty", empty), ("full", full)):
            session = requests.Session()
            session.get(emu.console_url, timeout=10)
            pages[name] = (session, emu.url)
        rows = compare(
            {
                "Events view, no event": lambda: pages["empty"][0].get(
                    pages["empty"][1] + "/_emulator/ui/events", timeout=60
                ),
                f"Events view, {conversations.WINDOW:,} turns": lambda: pages["full"][0].get(
                    pages["full"][1] + "/_emulator/ui/events", timeout=60
                ),
            },
            calls=1,
            rounds=5,
        )
        report("Events view (wall time per page)", rows, "Events view, no event")
        http = requests.Session()
        rows = compare(
            {
                "GET /_emulator/users (empty)": lambda: http.get(
                    empty.url + "/_emulator/users", headers=empty.private_headers, timeout=10
                ),
                "GET /_emulator/ui/stamp": lambda: http.get(
                    full.url + "/_emulator/ui/stamp", headers=full.private_headers, timeout=10
                ),
            },
            calls=50,
            rounds=7,
        )
        report("The live refresh's poll", rows, "GET /_emulator/users (empty)")


if __name__ == "__main__":
    main()
