"""The lumina-sdk's call shapes: wrap_llm / record_tool call now and return the result, the
seed's option objects, add_retrieval's dict; old shapes and bad input refused by name."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumi.events import EventsConfigError, Tracker
from lumi.events.calls import call_options, needs_arguments

from .collector import Collector


def _sent(tracker: Tracker, collector: Collector) -> list[dict[str, Any]]:
    assert tracker.flush(timeout=10)
    return collector.events()


def test_wrap_llm_calls_now_and_returns_the_result(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    calls = []
    turn = tracker.session.start().turn()
    result = turn.wrap_llm(lambda: calls.append(1) or "answer", {"model": "m", "prompt_id": "p"})
    assert result == "answer" and calls == [1]  # called once, at once
    assert turn.wrap_llm(lambda: 7, model="m2") == 7
    assert turn.wrap_llm(lambda: None, {"model": "m3"}, model="m3") is None  # same value twice: ok
    turn.finish()
    llm_calls = _sent(tracker, collector)[0]["llm_calls"]
    assert [(c["model"], c.get("prompt_id")) for c in llm_calls] == [
        ("m", "p"),
        ("m2", None),
        ("m3", None),
    ]


def test_the_old_wrapper_shape_is_refused_not_misrecorded(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()

    def call_model(messages: list[str]) -> str:
        raise AssertionError("must not be called without its arguments")

    def search(query: str) -> list[str]:
        raise AssertionError("must not be called")

    with tracker.session.start().turn() as turn:
        with pytest.raises(EventsConfigError, match=r"call_model needs arguments.*lambda"):
            turn.wrap_llm(call_model, model="gpt-4o")  # the old: (...)(messages)
        with pytest.raises(EventsConfigError, match=r"record_tool.*search needs arguments"):
            turn.record_tool("search", search, type="http")
    event = _sent(tracker, collector)[0]
    assert "llm_calls" not in event and "tool_calls" not in event and event["status"] == "ok"


def _required(a: int, b: int = 2) -> int:
    return a + b


class _Callable:
    def __call__(self, x: int) -> int:
        return x

    def method(self) -> int:
        return 1

    def method_with_argument(self, y: int) -> int:
        return y


@pytest.mark.parametrize(
    ("fn", "needs"),
    [
        (lambda: 1, False),
        (lambda x=1: x, False),
        (lambda *args, **kwargs: 1, False),
        (lambda x: x, True),
        (lambda *, k: k, True),
        (lambda *, k=1: k, False),
        (_required, True),
        (functools.partial(_required, 1), False),
        (functools.partial(_required), True),
        (_Callable(), True),
        (_Callable().method, False),
        (_Callable().method_with_argument, True),
        (str.upper, True),
        (list, False),
        (dict, False),
        (print, False),
    ],
)
def test_needs_arguments(fn: Callable[..., object], needs: bool) -> None:
    assert needs_arguments(fn) is needs


def test_async_shapes(make_tracker: Callable[..., Tracker], collector: Collector) -> None:
    tracker = make_tracker()

    async def complete() -> str:
        await asyncio.sleep(0.001)
        return "async answer"

    async def fails() -> str:
        await asyncio.sleep(0.001)
        raise TimeoutError("slow model")

    async def main() -> list[Any]:
        with tracker.session.start().turn() as turn:
            first = await turn.wrap_llm(complete, model="a1")  # an async def
            second = await turn.wrap_llm(lambda: complete(), model="a2")  # a coroutine result
            with pytest.raises(TimeoutError):
                await turn.wrap_llm(fails, model="a3")
            third = await turn.record_tool("lookup", complete)
            return [first, second, third, turn.status]

    assert asyncio.run(main()) == ["async answer", "async answer", "async answer", "error"]
    event = _sent(tracker, collector)[0]
    assert [(c["model"], c["status"]) for c in event["llm_calls"]] == [
        ("a1", "ok"),
        ("a2", "ok"),
        ("a3", "error"),
    ]
    assert event["llm_calls"][2]["error"] == {"type": "TimeoutError", "message": "slow model"}
    assert event["llm_calls"][0]["latency_ms"] >= 1 and event["tool_calls"][0]["status"] == "ok"


def test_record_tool_and_add_retrieval_take_the_seeds_objects(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    with tracker.session.start().turn() as turn:
        found = turn.record_tool(
            "search", lambda: ["d1"], {"type": "http", "target": "kb", "version": "3"}
        )
        with pytest.raises(ValueError):
            turn.record_tool("broken", lambda: int("x"), type="function")
        turn.add_retrieval(
            {
                "source": "kb",
                "query": "paris",
                "results": [{"id": "d1", "score": 0.5, "content": "Paris"}, {"id": 2}],
            }
        )
        turn.add_retrieval(source="web", results=[{"id": "u", "score": 1}])
    assert found == ["d1"]
    event = _sent(tracker, collector)[0]
    assert [(t["name"], t["status"]) for t in event["tool_calls"]] == [
        ("search", "ok"),
        ("broken", "error"),
    ]
    assert event["tool_calls"][0]["version"] == "3"
    assert event["tool_calls"][1]["error"]["type"] == "ValueError"
    assert event["status"] == "ok"  # a failed tool does not fail the turn
    assert event["retrievals"] == [
        {
            "source": "kb",
            "query": "paris",
            "ts": event["retrievals"][0]["ts"],
            "results": [{"id": "d1", "score": 0.5, "content": "Paris"}, {"id": "2"}],
        },
        {
            "source": "web",
            "ts": event["retrievals"][1]["ts"],
            "results": [{"id": "u", "score": 1.0}],
        },
    ]


def test_bad_options_are_refused_by_name(make_tracker: Callable[..., Tracker]) -> None:
    turn = make_tracker().session.start().turn()
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: turn.wrap_llm(lambda: 1, "gpt-4o"), "options must be a mapping"),  # type: ignore[arg-type]
        (lambda: turn.wrap_llm(lambda: 1, {"modle": "m"}), "unknown option.*modle"),  # type: ignore[typeddict-unknown-key]
        (lambda: turn.wrap_llm(lambda: 1, {"model": "a"}, model="b"), "model given twice"),
        (lambda: turn.wrap_llm(lambda: 1, {"model": 4}), "model must be a string"),  # type: ignore[typeddict-item]
        (lambda: turn.wrap_llm("not callable"), "fn must be callable"),  # type: ignore[arg-type]
        (lambda: turn.record_tool("", lambda: 1), "name must be a non-empty string"),
        (lambda: turn.record_tool("t", lambda: 1, {"kind": "x"}), "unknown option.*kind"),  # type: ignore[typeddict-unknown-key]
        (lambda: turn.add_retrieval("kb"), "expected a mapping"),  # type: ignore[arg-type]
        (lambda: turn.add_retrieval({"source": "kb", "limit": 3}), "unknown key.*limit"),
        (lambda: turn.add_retrieval({"source": "kb"}, source="web"), "source given twice"),
        (lambda: turn.add_retrieval({"query": "q"}), "source must be a non-empty string"),
        (lambda: turn.add_retrieval(source="kb", query=3), "query must be a string"),  # type: ignore[arg-type]
        (lambda: turn.add_retrieval(source="kb", results="abc"), "results must be a list"),  # type: ignore[arg-type]
        (lambda: turn.add_retrieval(source="kb", results=[{"id": 1, "score": True}]), "score"),
        (lambda: turn.add_retrieval(source="kb", results=[7]), "result 0 needs an 'id'"),  # type: ignore[list-item]
    ]
    for call, message in refused:
        with pytest.raises(EventsConfigError, match=message):
            call()
    turn.finish()
    assert turn.calls == ()  # nothing half-recorded


def test_a_finished_turn_is_read_only(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    turn = tracker.session.start().turn()
    turn.annotate(kept=True)
    turn.finish()
    turn.finish()  # idempotent
    called = []
    for late in (
        lambda: turn.annotate(late=True),
        lambda: turn.set_messages([{"role": "user", "content": "late"}]),
        lambda: turn.add_message("user", "late"),
        lambda: turn.add_retrieval(source="kb"),
        lambda: turn.wrap_llm(lambda: called.append(1)),
        lambda: turn.record_tool("t", lambda: called.append(1)),
    ):
        with pytest.raises(EventsConfigError, match="the turn is finished"):
            late()
    assert called == []  # the late function was not run either
    (event,) = _sent(tracker, collector)
    assert event["annotations"] == {"kept": True} and "messages" in event
    assert event["messages"] == []


def test_turn_decorators_record_into_that_turn(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    session = tracker.session.start()
    turn = session.turn()  # the JS style: no with block, so no current turn

    @turn.llm(model="gpt-4o")
    def ask(question: str) -> str:
        return question.upper()

    @turn.tool
    def lookup(key: str) -> str:
        return key

    assert ask("hi") == "HI" and lookup("k") == "k" and ask.__name__ == "ask"
    turn.finish()
    assert ask("after") == "AFTER"  # after finish: a span event of the session
    events = _sent(tracker, collector)
    (turn_event,) = [e for e in events if e["type"] == "turn"]
    assert [c["model"] for c in turn_event["llm_calls"]] == ["gpt-4o"]
    assert [c["name"] for c in turn_event["tool_calls"]] == ["lookup"]
    (span,) = [e for e in events if e["type"] == "span"]
    assert span["llm_call"]["model"] == "gpt-4o" and span["session_id"] == session.session_id


def test_concurrent_calls_and_finish_never_corrupt_a_turn(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    tracker = make_tracker()
    turn = tracker.session.start().turn()
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        for _ in range(200):
            try:
                turn.wrap_llm(lambda: "x", model="m")
                outcomes.append("recorded")
            except EventsConfigError:
                outcomes.append("refused")  # after finish: refused by name, nothing lost

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    barrier.wait()
    turn.finish()
    for t in threads:
        t.join()
    (event,) = _sent(tracker, collector)
    assert outcomes.count("recorded") == len(event.get("llm_calls", []))
    assert len(outcomes) == 800


_VALUES = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    given_options=st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["model", "prompt_id", "other", ""]), _VALUES),
        _VALUES,
    ),
    model=st.one_of(st.none(), st.text(max_size=5)),
    prompt_id=st.one_of(st.none(), st.text(max_size=5)),
)
def test_call_options_accept_or_refuse_by_name(
    given_options: Any, model: str | None, prompt_id: str | None
) -> None:
    try:
        out = call_options("wrap_llm", given_options, model=model, prompt_id=prompt_id)
    except EventsConfigError as exc:
        assert str(exc).startswith("[10400] wrap_llm:")
        return
    given_options = given_options or {}
    for key, keyword in (("model", model), ("prompt_id", prompt_id)):
        expected = keyword if keyword is not None else given_options.get(key)
        assert out.get(key) == expected
    assert all(isinstance(v, str) for v in out.values())


@settings(max_examples=300, deadline=None)
@given(
    info=st.one_of(
        st.none(),
        _VALUES,
        st.fixed_dictionaries(
            {},
            optional={
                "source": _VALUES,
                "query": _VALUES,
                "results": st.one_of(
                    _VALUES,
                    st.lists(
                        st.one_of(
                            _VALUES,
                            st.fixed_dictionaries(
                                {}, optional={"id": _VALUES, "score": _VALUES, "content": _VALUES}
                            ),
                        ),
                        max_size=3,
                    ),
                ),
            },
        ),
    )
)
def test_add_retrieval_hostile_input_only_raises_events_config_error(info: Any) -> None:
    tracker = Tracker(persist_identity=False)  # disabled: no endpoint, same checks
    turn = tracker.session.start().turn()
    try:
        turn.add_retrieval(info)
    except EventsConfigError:
        assert turn.retrievals == ()
    else:
        (recorded,) = turn.retrievals
        assert isinstance(recorded.source, str) and recorded.source
        assert all(isinstance(rid, str) for rid, _, _ in recorded.results)
