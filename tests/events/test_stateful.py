"""Property: whatever the interleaving of finishes, flushes, send failures, re-queues and forks,
the delivered event ids are exactly the accepted ones minus the counted drops.

The pipeline is driven without its worker thread (flush drains in the test's thread), so each
example is deterministic; a simulated fork uses the very code the ``os.register_at_fork`` hook
runs (``Pipeline.for_child``), and parent and child keep running side by side.
"""

from __future__ import annotations

import json
from collections import deque

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from lumi.events.buffer import Pending
from lumi.events.config import build_config
from lumi.events.pipeline import Pipeline
from lumi.events.transport import SendResult

OUTCOMES = st.sampled_from(["ok", "fail", "store_then_fail", "retry_after"])


class FakeReceiver:
    """One collector shared by all (simulated) processes; outcomes are scripted."""

    def __init__(self) -> None:
        self.script: deque[str] = deque()
        self.delivered: list[str] = []

    def sender(self) -> FakeSender:
        return FakeSender(self)


class FakeSender:
    def __init__(self, receiver: FakeReceiver) -> None:
        self.receiver = receiver

    def send(self, body: bytes, timeout: tuple[float, float]) -> SendResult:
        outcome = self.receiver.script.popleft() if self.receiver.script else "ok"
        ids = [json.loads(line)["event_id"] for line in body.splitlines() if line]
        if outcome in ("ok", "store_then_fail"):
            self.receiver.delivered.extend(ids)
        if outcome == "ok":
            return SendResult(ok=True, status=200)
        if outcome == "retry_after":
            return SendResult(ok=False, status=429, retry_after_s=0.0)
        return SendResult(ok=False, detail=outcome)

    def close(self) -> None:
        pass


class DeliveryMachine(RuleBasedStateMachine):
    @initialize(capacity=st.integers(1, 12), batch_bytes=st.integers(60, 400))
    def setup(self, capacity: int, batch_bytes: int) -> None:
        self.receiver = FakeReceiver()
        config = build_config(
            endpoint="http://127.0.0.1:9",
            max_queue_events=capacity,
            max_batch_bytes=batch_bytes,
            retry_delays_ms=(0, 0),
            retry_jitter=0.0,
        )
        self.processes = [
            Pipeline(config, sender_factory=lambda _: self.receiver.sender(), start_worker=False)
        ]
        self.accepted: list[set[str]] = [set()]
        self.refused = [0]
        self.counter = 0

    def _process(self, index: int) -> int:
        return index % len(self.processes)

    @rule(index=st.integers(0, 7), count=st.integers(1, 5), size=st.integers(0, 150))
    def finish(self, index: int, count: int, size: int) -> None:
        p = self._process(index)
        for _ in range(count):
            self.counter += 1
            event_id = f"e{self.counter}"
            wire = {"event_id": event_id, "type": "turn", "pad": "x" * size}
            ok = self.processes[p].submit(Pending(event_id, builder=lambda w=wire: w))
            if ok:
                self.accepted[p].add(event_id)
            else:
                self.refused[p] += 1

    @rule(outcomes=st.lists(OUTCOMES, min_size=1, max_size=6))
    def script_failures(self, outcomes: list[str]) -> None:
        self.receiver.script.extend(outcomes)

    @rule(index=st.integers(0, 7))
    def flush(self, index: int) -> None:
        self.processes[self._process(index)].flush()

    @rule(index=st.integers(0, 7))
    def fork(self, index: int) -> None:
        if len(self.processes) >= 4:
            return
        parent = self.processes[self._process(index)]
        self.processes.append(parent.for_child())
        self.accepted.append(set())
        self.refused.append(0)

    @invariant()
    def nothing_accepted_is_lost(self) -> None:
        delivered = set(self.receiver.delivered)
        for process, accepted in zip(self.processes, self.accepted, strict=True):
            buffered = set(process.buffer.snapshot_ids())
            assert accepted <= buffered | delivered
            assert process.delivery.in_flight == 0

    @invariant()
    def counters_match(self) -> None:
        for process, accepted, refused in zip(
            self.processes, self.accepted, self.refused, strict=True
        ):
            stats = process.stats.snapshot()
            assert stats["enqueued"] == len(accepted)
            assert stats["dropped"] == refused

    def teardown(self) -> None:
        self.receiver.script.clear()
        for process in self.processes:
            assert process.flush()
        delivered = set(self.receiver.delivered)
        everything = set().union(*self.accepted)
        assert delivered == everything  # exactly the accepted ids: nothing lost, nothing invented
        refused = sum(self.refused)
        assert self.counter - len(everything) == refused  # and every refusal was counted
        for process in self.processes:
            assert process.pending() == 0


DeliveryMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDelivery = DeliveryMachine.TestCase
