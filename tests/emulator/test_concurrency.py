"""Several threads at once: every request is answered and nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lumi.emulator.server import Emulator

from .conftest import PID, Api

THREADS, PER_THREAD = 8, 15


def test_parallel_writes_and_reads(emu: Emulator) -> None:
    users = [Api(emu.url).sign_up(emu, f"u{i}@example.com") for i in range(2)]

    def work(worker: int) -> list[str]:
        api = Api(emu.url)
        token = users[worker % 2]["userToken"]
        ids = []
        for n in range(PER_THREAD):
            doc = api.ok("POST", f"/lm/{PID}/jobs/documents", {"w": worker, "n": n}, token=token)
            ids.append(doc["_id"])
            assert api.ok("GET", f"/lm/{PID}/jobs/documents/{doc['_id']}")["n"] == n
            api.ok(
                "POST",
                f"/lm/{PID}/email/send",
                {"to": ["x@example.com"], "subject": f"{worker}-{n}", "text": "t"},
            )
        return ids

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    all_ids = [doc_id for ids in results for doc_id in ids]
    assert len(set(all_ids)) == THREADS * PER_THREAD
    page = Api(emu.url).ok("POST", f"/lm/{PID}/jobs/documents/listByPage", {"limit": 1})
    assert page["total"] == THREADS * PER_THREAD
    assert len(emu.outbox(PID)) == 2 + THREADS * PER_THREAD  # two sign-up codes + the mail
