"""The console's logic without HTTP, with generated data: an edit made as JSON is exactly what
the store then holds; charts stay inside their plot whatever the events hold; the event readers
never trust a field's type."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumi.emulator.console import charts, conversations, documents
from lumi.emulator.console.conversations import Stored, Turn
from lumi.emulator.console.documents import ConsoleInputError
from lumi.emulator.store import EntityStore

KEYS = st.text(alphabet="abcdefgxyz_-0123456789", min_size=1, max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
USER_FIELDS = st.dictionaries(
    KEYS.filter(lambda k: k not in ("_id", "creator", "createdAt", "updatedAt")),
    VALUES,
    max_size=6,
)


@settings(max_examples=150)
@given(before=USER_FIELDS, after=USER_FIELDS)
def test_an_edit_leaves_the_store_holding_exactly_the_edited_document(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    with EntityStore(":memory:") as store:
        current = store.create("p", "E", before, "creator-1")
        edited = {**after, **{k: current[k] for k in ("_id", "creator", "createdAt", "updatedAt")}}
        update = documents.edit_update(current, edited)
        if update is None:
            assert documents.fingerprint(current) == documents.fingerprint(edited)
            return
        result = store.update("p", "E", current["_id"], update)
        assert result is not None
        stored = store.get("p", "E", current["_id"])
        assert stored is not None

        def plain(doc: dict[str, Any]) -> str:
            return json.dumps({k: v for k, v in doc.items() if k != "updatedAt"}, sort_keys=True)

        assert plain(stored) == plain(edited)  # JSON text: 1 vs 1.0 vs true all kept apart


def test_edit_refusals_name_the_field() -> None:
    current = {"_id": "a" * 24, "creator": None, "x": 1}
    with pytest.raises(ConsoleInputError, match="_id cannot be changed"):
        documents.edit_update(current, {**current, "_id": "b" * 24})
    with pytest.raises(ConsoleInputError, match="creator cannot be changed"):
        documents.edit_update(current, {**current, "creator": "u"})
    with pytest.raises(ConsoleInputError, match=r"field 'x\.y'"):
        documents.edit_update(current, {**current, "x.y": 1})
    with pytest.raises(ConsoleInputError, match="field ''"):
        documents.edit_update(current, {**current, "": 1})
    # A removed field with a dot in its name cannot be unset by path either.
    with pytest.raises(ConsoleInputError, match=r"field 'a\.b'"):
        documents.edit_update({**current, "a.b": 1}, current)
    assert (
        documents.edit_update(current, {k: v for k, v in current.items() if k != "creator"}) is None
    )


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", []),
        ("-n", [("n", -1)]),
        ("-n, title", [("n", -1), ("title", 1)]),
        ('{"a": -1, "b": 1}', [("a", -1), ("b", 1)]),
    ],
)
def test_sort_box_forms(text: str, pairs: list[tuple[str, int]]) -> None:
    assert documents.parse_sort(text) == pairs


def test_cursors_round_trip_and_refuse_tampering() -> None:
    with EntityStore(":memory:") as store:
        store.create_many("p", "E", [{"n": i} for i in range(9)], None)
        first = documents.document_page(store, "p", "E", {}, [("n", -1)], 4, None)
        assert [d["n"] for d in first.documents] == [8, 7, 6, 5] and first.next_cursor
        second = documents.document_page(store, "p", "E", {}, [("n", -1)], 4, first.next_cursor)
        assert [d["n"] for d in second.documents] == [4, 3, 2, 1] and second.first == 5
        third = documents.document_page(store, "p", "E", {}, [("n", -1)], 4, second.next_cursor)
        assert [d["n"] for d in third.documents] == [0] and third.next_cursor is None
        with pytest.raises(ConsoleInputError, match="another sort"):  # a cursor of another sort
            documents.document_page(
                store, "p", "E", {}, [("n", -1), ("x", 1)], 4, first.next_cursor
            )
        with pytest.raises(ConsoleInputError, match="damaged"):
            documents.document_page(store, "p", "E", {}, [("n", -1)], 4, first.next_cursor[:-3])


def test_columns_are_the_common_fields_in_order() -> None:
    docs = [{"_id": "1", "a": 1, "b": 2}, {"_id": "2", "b": 1, "c": 3}, {"_id": "3", "b": 1}]
    assert documents.columns(docs) == ["_id", "a", "b", "c"]
    wide = [{"_id": "1", **{f"f{i}": i for i in range(20)}}]
    assert len(documents.columns(wide)) == documents.MAX_COLUMNS + 1
    assert documents.compact("x" * 200).endswith("…") and len(documents.compact("x" * 200)) == 80


# --- events -----------------------------------------------------------------------------------
ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
TIMES = st.one_of(
    st.floats(min_value=1.7e12, max_value=1.7e12 + 3_600_000),
    st.integers(min_value=1_700_000_000_000, max_value=1_700_000_000_000 + 600),
    ANY_JSON,
)
LATENCIES = st.one_of(st.floats(min_value=0, max_value=1e7), st.integers(0, 5000), ANY_JSON)
CALLS = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "start_ts": TIMES,
                "latency_ms": LATENCIES,
                "name": ANY_JSON,
                "status": ANY_JSON,
            },
        ),
        max_size=3,
    ),
    ANY_JSON,
)
EVENT = st.fixed_dictionaries(
    {
        "type": st.one_of(st.sampled_from(["turn", "turn", "span", "ui_event"]), ANY_JSON),
        "session_id": st.one_of(st.sampled_from(["s1", "s2"]), ANY_JSON),
    },
    optional={
        "turn_seq": st.one_of(st.integers(1, 5), ANY_JSON),
        "start_ts": TIMES,
        "timestamp": TIMES,
        "latency_ms": LATENCIES,
        "status": st.one_of(st.sampled_from(["ok", "error"]), ANY_JSON),
        "messages": ANY_JSON,
        "llm_calls": CALLS,
        "tool_calls": CALLS,
        "retrievals": ANY_JSON,
        "error": ANY_JSON,
        "distinct_id": ANY_JSON,
    },
)


def _inside(chart: charts.Chart, mark: charts.Mark) -> bool:
    left, right = chart.left - 0.01, chart.left + chart.plot_w + 0.01
    top, bottom = chart.top - 0.01, chart.top + chart.plot_h + 0.01
    values = [mark.x, mark.y]
    if mark.shape == "rect":
        values += [mark.x + mark.w, mark.y + mark.h]
        return (
            left <= mark.x
            and mark.x + mark.w <= right
            and top <= mark.y
            and mark.y + mark.h <= bottom
            and mark.w >= 0
            and mark.h >= 0
        )
    if mark.shape == "line":
        return (
            left <= mark.x <= right
            and left <= mark.w <= right
            and top <= mark.y <= bottom
            and top <= mark.h <= bottom
        )
    return (
        all(math.isfinite(v) for v in values)
        and left <= mark.x <= right
        and top <= mark.y <= bottom
    )


@settings(max_examples=300)
@given(st.lists(EVENT, max_size=25))
def test_charts_and_timelines_stay_inside_their_plots_whatever_the_events_hold(
    events: list[dict[str, Any]],
) -> None:
    stored = [Stored(i + 1, "2026-01-01T00:00:00+00:00", e) for i, e in enumerate(events)]
    sessions = conversations.group(stored)
    with_session = [
        e for e in stored if isinstance(e.event.get("session_id"), str) and e.event["session_id"]
    ]
    assert sum(len(s.turns) + len(s.others) for s in sessions) == len(with_session)  # none dropped
    turns = [t for s in sessions for t in s.turns]
    for chart in charts.all_charts(turns, stored):
        assert chart.summary
        for mark in chart.marks:
            assert _inside(chart, mark), (chart.key, mark)
        for tick in chart.ticks:
            assert math.isfinite(tick.at) and tick.label
    for turn in turns:
        for bar in charts.turn_timeline(turn):
            assert -0.01 <= bar.x <= 1000.01 and bar.width > 0 and bar.x + bar.width <= 1002.01
    for session in sessions:
        assert len(session.timeline()) == len(session.turns) + len(session.others)


def test_field_readers_trust_no_type() -> None:
    assert conversations.duration(True) is None and conversations.duration("5") is None
    assert conversations.duration(float("nan")) is None and conversations.duration(-1) is None
    assert conversations.duration(3) == 3.0
    assert conversations.epoch_ms(5) is None and conversations.epoch_ms(1.7e12) == 1.7e12
    assert conversations.text({"a": 1}) == '{"a": 1}' and conversations.text(None) == ""
    turn = Turn(Stored(1, "r", {"turn_seq": True, "status": ["error"], "latency_ms": 1e400}))
    assert turn.seq is None and not turn.failed and turn.latency_ms is None


def test_nice_numbers() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 0.3, 1, 3, 7, 11, 2400)] == [
        1,
        0.5,
        1,
        5,
        10,
        20,
        2500,
    ]
    assert charts.nice_ceiling(5e-324) == 1e-6  # 10 ** -324 would be 0.0: a division by zero
    assert charts.nice_ceiling(1.7e308) == 1.7e308  # 2 x 10 ** 308 would be infinite
    tiny = Turn(
        Stored(
            1,
            "r",
            {
                "start_ts": 1.7e12,
                "latency_ms": 5e-324,
                "llm_calls": [{"start_ts": 1.7e12, "latency_ms": 5e-324}],
            },
        )
    )
    (bar,) = charts.turn_timeline(tiny)  # 1000 / 5e-324 is infinite: drawn at the start
    assert bar.x == 0 and bar.width == 2.0
    assert charts.ms_label(0.05) == "0.05 ms" and charts.ms_label(1500) == "1.5 s"
    assert charts.percentile([5, 1, 3], 0.5) == 3
