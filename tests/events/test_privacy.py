"""Privacy: what leaves the process in FULL, MASKED and NONE modes (the actual bytes sent)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumi.events import CaptureTranscript, Tracker, mask_pii
from lumi.events.privacy import REDACTED, luhn_valid

from .collector import Collector

EMAIL = "jane.doe@example.com"
PHONE = "+1 (415) 555-0142"
CARD = "4111 1111 1111 1111"  # Luhn-valid test card
SECRET_WORDS = "my diagnosis is confidential"


def _conversation(tracker: Tracker) -> None:
    session = tracker.session.start()
    with session.turn() as turn:
        turn.set_messages(
            [
                {"role": "user", "content": f"I am {EMAIL}, call {PHONE}, card {CARD}"},
                {"role": "assistant", "content": SECRET_WORDS},
            ]
        )
        turn.add_retrieval(
            {
                "source": "kb",
                "query": f"lookup {EMAIL}",
                "results": [{"id": "d1", "score": 0.9, "content": SECRET_WORDS}],
            }
        )

        def failing_llm() -> None:
            raise RuntimeError(f"upstream refused {EMAIL}")

        with pytest.raises(RuntimeError):
            turn.wrap_llm(failing_llm, model="m")
    assert tracker.flush(timeout=10)


def test_masked_mode_sends_no_raw_pii(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    _conversation(make_tracker(capture_transcript=CaptureTranscript.MASKED))
    body = collector.bodies()
    for raw in (EMAIL, "555-0142", CARD, CARD.replace(" ", "")):
        assert raw.encode() not in body
    event = collector.events()[0]
    assert event["capture_mode"] == "masked"
    assert event["messages"][0]["content"] == "I am [EMAIL], call [PHONE], card [CARD]"
    assert event["retrievals"][0]["query"] == "lookup [EMAIL]"
    assert event["llm_calls"][0]["error"] == {
        "type": "RuntimeError",
        "message": "upstream refused [EMAIL]",
    }
    # the failed LLM call made the turn fail: its error is masked the same way
    assert event["status"] == "error" and event["error"] == event["llm_calls"][0]["error"]


def test_none_mode_sends_metadata_only(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    _conversation(make_tracker(capture_transcript="none"))
    body = collector.bodies()
    for raw in (EMAIL, "555-0142", CARD, SECRET_WORDS, "diagnosis", "upstream refused", "lookup"):
        assert raw.encode() not in body
    event = collector.events()[0]
    assert event["capture_mode"] == "none" and "messages" not in event
    assert event["message_count"] == 2
    assert event["llm_calls"][0]["error"] == {"type": "RuntimeError"} == event["error"]
    assert event["retrievals"][0]["results"] == [{"id": "d1", "score": 0.9}]


def test_full_mode_sends_as_is(make_tracker: Callable[..., Tracker], collector: Collector) -> None:
    _conversation(make_tracker(capture_transcript="full"))
    assert EMAIL.encode() in collector.bodies()


def test_custom_mask_fn_is_used(make_tracker: Callable[..., Tracker], collector: Collector) -> None:
    tracker = make_tracker(capture_transcript="masked", mask_fn=lambda text: text.upper())
    with tracker.session.start().turn() as turn:
        turn.set_messages([{"role": "user", "content": "quiet please"}])
    assert tracker.flush(timeout=10)
    assert collector.events()[0]["messages"][0]["content"] == "QUIET PLEASE"


def test_a_failing_mask_fn_redacts_and_counts_never_loses_the_event(
    make_tracker: Callable[..., Tracker], collector: Collector
) -> None:
    def broken(text: str) -> str:
        if "boom" in text:
            raise ValueError(text)  # the message holds the raw text: it must not leak
        return text

    tracker = make_tracker(capture_transcript="masked", mask_fn=broken)
    with tracker.session.start().turn() as turn:
        turn.set_messages(
            [{"role": "user", "content": "boom secret"}, {"role": "assistant", "content": "fine"}]
        )
    assert tracker.flush(timeout=10)
    event = collector.events()[0]
    assert [m["content"] for m in event["messages"]] == [REDACTED, "fine"]
    assert b"boom secret" not in collector.bodies()
    assert tracker.stats()["mask_failures"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to a.b-c@mail.example.org now", "write to [EMAIL] now"),
        ("card 4111-1111-1111-1111.", "card [CARD]."),
        ("card 5500005555555559 ok", "card [CARD] ok"),
        ("order 1234567812345678 is not a card", "order 1234567812345678 is not a card"),
        ("call 06 12 34 56 78", "call [PHONE]"),
        ("call +44 20 7946 0958 today", "call [PHONE] today"),
        ("in 2024 we had 3 items", "in 2024 we had 3 items"),
    ],
)
def test_builtin_mask(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet="abc xyz.,!", max_size=30),
    st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(com|org|net)", fullmatch=True),
)
def test_builtin_mask_never_leaks_an_email(prefix: str, email: str) -> None:
    masked = mask_pii(f"{prefix} {email} {prefix}")
    assert email not in masked and "[EMAIL]" in masked
