"""Identity: the persisted anonymous id, identify/reset, and per-request scopes."""

from __future__ import annotations

import asyncio
import json
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lumi.events import EventsConfigError, Tracker
from lumi.events.identity import open_identity

from .collector import Collector


def test_anonymous_id_is_persisted_with_mode_0600(tmp_path: Path, collector: Collector) -> None:
    path = tmp_path / "conf" / "identity.json"
    first = Tracker(endpoint=collector.url, identity_path=path)
    anon = first.get_distinct_id()
    assert anon.startswith("anon_") and first.is_anonymous()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Tracker(endpoint=collector.url, identity_path=path)
    assert again.get_distinct_id() == anon  # the same machine user, the same anonymous id
    first.identify("user-42")
    third = Tracker(endpoint=collector.url, identity_path=path)
    assert third.get_distinct_id() == "user-42" and not third.is_anonymous()
    assert json.loads(path.read_text())["anonymous_id"] == anon
    for t in (first, again, third):
        t.shutdown(timeout=5)


def test_config_dir_override(tmp_path: Path) -> None:
    tracker = Tracker(config_dir=tmp_path / "cfg")
    assert (tmp_path / "cfg" / "identity.json").exists()
    assert tracker.get_distinct_id().startswith("anon_")


def test_explicit_persistence_without_the_extra_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_filelock(name: str, *args: object, **kwargs: object) -> object:
        if name == "filelock":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_filelock)
    with pytest.raises(EventsConfigError, match=r"filelock.*pip install 'lumi-sdk\[events\]'"):
        open_identity(Path("/tmp/x.json"), persist=True)
    assert open_identity(None, persist=None).state.distinct_id.startswith("anon_")  # degrades


def test_identify_sends_an_alias_event_and_flushes(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker(flush_interval_ms=600_000)
    anon = tracker.get_distinct_id()
    session = tracker.session.start()
    session.turn().finish()  # starts the worker
    tracker.identify("user-1", {"plan": "pro"})
    for _ in range(200):  # identify() asked the worker to send now, not in ten minutes
        if any(e["type"] == "identify" for e in collector.events()):
            break
        threading.Event().wait(0.02)
    identify = next(e for e in collector.events() if e["type"] == "identify")
    assert identify["distinct_id"] == "user-1"
    assert identify["anonymous_id"] == anon and identify["previous_id"] == anon
    assert identify["properties"] == {"plan": "pro"}
    # anonymous -> user keeps the session (the same person signed in)...
    assert tracker.session.start() is session
    # ...another user replaces the session, as does new_session=True
    tracker.identify("user-2")
    assert tracker.session.start() is not session
    current = tracker.session.start()
    tracker.identify("user-2", new_session=True)
    assert tracker.session.start() is not current


def test_reset_makes_a_new_anonymous_id_and_session(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker()
    tracker.identify("user-1")
    session = tracker.session.start()
    tracker.reset()
    assert tracker.is_anonymous() and tracker.get_distinct_id().startswith("anon_")
    assert tracker.session.start() is not session


def test_identify_refuses_an_empty_user_id(make_tracker: Callable[..., Tracker]) -> None:
    with pytest.raises(EventsConfigError, match="user_id"):
        make_tracker().identify("  ")


def test_concurrent_requests_never_mix_identities(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    process_id = tracker.get_distinct_id()
    barrier = threading.Barrier(2)
    seen: dict[str, list[str]] = {}
    traceparents = {
        "alice": "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1111111111111111-01",
        "bob": "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2222222222222222-01",
    }

    def request(user: str) -> None:
        with tracker.request_context(distinct_id=user, traceparent=traceparents[user]):
            session = tracker.session.start()
            for i in range(5):
                turn = session.turn()
                barrier.wait()  # both requests are inside their turns at the same time
                turn.set_messages([{"role": "user", "content": f"{user} says {i}"}])
                seen.setdefault(user, []).append(tracker.get_distinct_id())
                barrier.wait()
                turn.finish()
            tracker.identify(f"{user}-verified")
            seen[user].append(tracker.get_distinct_id())

    threads = [threading.Thread(target=request, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.flush(timeout=10)
    assert seen["alice"] == ["alice"] * 5 + ["alice-verified"]
    assert seen["bob"] == ["bob"] * 5 + ["bob-verified"]
    assert tracker.get_distinct_id() == process_id  # the process identity was never touched
    turns = [e for e in collector.events() if e["type"] == "turn"]
    assert len(turns) == 10
    for event in turns:
        user = event["distinct_id"]
        assert event["messages"][0]["content"].startswith(f"{user} says")
        assert event["session_id"] == traceparents[user][3:35]  # continues the incoming trace
        assert event["parent_span_id"] == traceparents[user][36:52]
    identifies = {e["distinct_id"]: e for e in collector.events() if e["type"] == "identify"}
    assert identifies["alice-verified"]["previous_id"] == "alice"


def test_request_contexts_follow_asyncio_tasks(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker()

    async def handle(user: str) -> tuple[str, str]:
        with tracker.request_context(distinct_id=user):
            session = tracker.session.start()
            await asyncio.sleep(0.01)
            return tracker.get_distinct_id(), session.session_id

    async def main() -> list[tuple[str, str]]:
        return list(await asyncio.gather(*(handle(f"u{i}") for i in range(5))))

    results = asyncio.run(main())
    assert [r[0] for r in results] == [f"u{i}" for i in range(5)]
    assert len({r[1] for r in results}) == 5


def test_request_context_without_user_is_anonymous(make_tracker: Callable[..., Tracker]) -> None:
    tracker = make_tracker()
    with tracker.request_context() as scope:
        assert tracker.is_anonymous()
        assert (
            tracker.get_distinct_id()
            == scope.identity.distinct_id
            != tracker._identity.state.distinct_id
        )
    with tracker.request_context(anonymous_id="anon_cookie"):
        assert tracker.get_distinct_id() == "anon_cookie"
    with pytest.raises(EventsConfigError, match="traceparent"):
        tracker.request_context(traceparent="garbage").__enter__()


def test_set_request_user_names_the_scope_without_an_identify_event(
    make_tracker: Callable[..., Tracker],
) -> None:
    tracker = make_tracker()
    with tracker.request_context() as scope:
        anonymous = scope.identity.anonymous_id
        tracker.set_request_user("user-7")
        assert tracker.get_distinct_id() == "user-7" and not tracker.is_anonymous()
        assert scope.identity.anonymous_id == anonymous
        assert tracker.stats()["enqueued"] == 0  # no identify event was sent
    assert tracker.get_distinct_id() != "user-7"  # the process identity was never touched
    with pytest.raises(EventsConfigError, match="request_context"):
        tracker.set_request_user("user-7")
    with pytest.raises(EventsConfigError, match="non-empty"), tracker.request_context():
        tracker.set_request_user("")
