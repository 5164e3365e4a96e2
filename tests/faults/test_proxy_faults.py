"""Through a proxy that breaks about 17% of exchanges, no write is applied twice or lost silently.

The client talks to the emulator through :class:`FaultProxy` (seeded): connections closed before
forwarding, replies dropped after the server acted, 503 + ``Retry-After: 0``, replies held past the
read timeout. A second client, straight to the emulator, then counts what was stored:

- ``update`` with ``$inc``: never applied twice (each document is incremented by one call);
- ``update`` with ``$set``: retried through the faults, ends with the value set;
- ``create`` without ``_id``: never stored twice; every create that raised after it was sent
  raised OutcomeUnknownError (and every create stored although it raised did too);
- ``create``/``create_many`` with ``_id`` (``lumi.new_id()``): retried, stored exactly once; a
  retry refused as a duplicate of its own earlier success returns the stored document.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import collections

import pytest

import lumi
from lumi import RetryPolicy, Timeout
from lumi.emulator import Emulator

from .proxy import FaultProxy

RATES = {"close_before": 0.05, "drop_after": 0.05, "busy_503": 0.04, "delay": 0.03}
SEED = 20260301
PID = "p_faults"
EXISTS = "already exists"


def outcome(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, lumi.OutcomeUnknownError):
        return "outcome unknown"
    if isinstance(error, lumi.APIConnectionError):
        return "transport error, sent" if error.request_sent else "transport error, never sent"
    if isinstance(error, lumi.APIError) and EXISTS in error.message:
        return "duplicate _id on a retry"
    return type(error).__name__


def attempt(call):
    try:
        return call(), None
    except lumi.LumiError as error:
        return None, error


@pytest.fixture(scope="module")
def setup():
    with Emulator() as emulator, FaultProxy(emulator.url, RATES, seed=SEED, delay=0.8) as proxy:
        direct = lumi.create_client(project_id=PID, api_base_url=emulator.url, rate_limit=None)
        faulty = lumi.create_client(
            project_id=PID,
            api_base_url=proxy.url,
            rate_limit=None,
            timeout=Timeout(connect=2, read=0.5, total=20),
            retry=RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05),
        )
        yield direct, faulty, proxy


def test_faults_never_apply_a_write_twice(setup):
    direct, faulty, proxy = setup
    figures: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)

    # -- $inc: one call per document, so a document at 2 was incremented twice --------------
    counters = [direct.entities.Counters.create({"n": 0}).id for _ in range(100)]
    inc_errors = {}
    for doc_id in counters:
        _, error = attempt(lambda d=doc_id: faulty.entities.Counters.update(d, {"$inc": {"n": 1}}))
        inc_errors[doc_id] = error
        figures["update $inc"][outcome(error)] += 1
    stored_n = {r.id: r["n"] for r in direct.entities.Counters.list().list}
    for doc_id, error in inc_errors.items():
        n = stored_n[doc_id]
        assert n <= 1, f"$inc applied {n} times"
        if error is None:
            assert n == 1
        elif not isinstance(error, lumi.OutcomeUnknownError):
            # A refusal (503) or a request that never left: provably not applied.
            assert n == 0, (outcome(error), error.message)
        elif n == 1:
            figures["update $inc"]["outcome unknown, was applied"] += 1

    # -- $set: safe to repeat, so retried through the faults ----------------------------------
    settable = [direct.entities.Settable.create({"v": -1}).id for _ in range(50)]
    for index, doc_id in enumerate(settable):
        _, error = attempt(
            lambda d=doc_id, v=index: faulty.entities.Settable.update(d, {"$set": {"v": v}})
        )
        figures["update $set"][outcome(error)] += 1
        if error is None:
            assert direct.entities.Settable.get(doc_id)["v"] == index
        assert not isinstance(error, lumi.OutcomeUnknownError)

    # -- creates without _id: at most once, and an unknown outcome is said so ----------------
    create_errors = {}
    for seq in range(190):
        _, error = attempt(lambda s=seq: faulty.entities.Posts.create({"seq": s}))
        create_errors[seq] = error
        figures["create"][outcome(error)] += 1
    stored = collections.Counter(r["seq"] for r in direct.entities.Posts.list().list)
    for seq, error in create_errors.items():
        assert stored[seq] <= 1, f"create {seq} stored {stored[seq]} times"
        if error is None:
            assert stored[seq] == 1
            continue
        sent_then_broke = isinstance(error, lumi.APIConnectionError) and error.request_sent
        if sent_then_broke or stored[seq]:
            assert isinstance(error, lumi.OutcomeUnknownError), (seq, error.message)
            assert "may or may not have applied it" in error.message and error.attempts >= 1
        if stored[seq] and error is not None:
            figures["create"]["outcome unknown, was stored"] += 1
        if isinstance(error, lumi.APIConnectionError) and not error.request_sent:
            assert stored[seq] == 0 and "never reached the server" in error.message

    # -- creates with a client-made _id: retried, stored exactly once -------------------------
    # A retry that meets its own earlier success returns the stored document; a call that still
    # failed (every attempt faulted) is safe to repeat with the same id, until it succeeds.
    ided: dict[str, object] = {}
    pending = []
    for seq in range(100):
        doc_id = lumi.new_id()
        ided[doc_id] = seq
        pending.append(
            lambda d=doc_id, s=seq: [faulty.entities.Ided.create({"seq": s}, id=d)]
            if s % 2
            else [faulty.entities.Ided.create({"_id": d, "seq": s})]
        )
    for batch_no in range(20):
        batch = [{"_id": lumi.new_id(), "seq": 1000 + batch_no * 3 + i} for i in range(3)]
        ided.update((doc["_id"], doc["seq"]) for doc in batch)
        pending.append(lambda b=batch: faulty.entities.Ided.create_many(b))
    for call in pending:
        for round_ in range(10):
            created, error = attempt(call)
            name = "create with _id" + (", repeated by the caller" if round_ else "")
            figures[name][outcome(error)] += 1
            if error is None:
                assert all(ided[rec.id] == rec.seq for rec in created)  # as sent, whole
                break
            assert isinstance(error, lumi.APIConnectionError), error  # never a duplicate error
            assert not isinstance(error, lumi.OutcomeUnknownError)  # repeatable: never "unknown"
        else:
            pytest.fail("a create with _id failed ten times in a row")
    stored_ids = collections.Counter(r.id for r in direct.entities.Ided.list().list)
    assert stored_ids == collections.Counter(list(ided))  # every one, exactly once
    assert figures["create with _id"]["ok"] > 0

    calls = sum(
        n for c in figures.values() for k, n in c.items() if not k.endswith(("applied", "stored"))
    )
    print(
        f"\nfault proxy, seed {SEED}: {calls} calls, {sum(proxy.faults.values())} exchanges, "
        f"{proxy.forwarded} reached the emulator"
    )
    print("  faults injected:", dict(sorted(proxy.faults.items())))
    for name, counts in figures.items():
        print(f"  {name}: {dict(sorted(counts.items()))}")
    injected = sum(v for k, v in proxy.faults.items() if k != "none")
    assert injected > 40  # the faults did happen
    assert (
        figures["update $inc"]["outcome unknown"] > 0 and figures["create"]["outcome unknown"] > 0
    )
