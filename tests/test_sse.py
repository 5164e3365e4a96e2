"""The SSE parser gives the same events whatever the chunk boundaries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lumi.sse import ServerSentEvent, iter_events

STREAM = (
    "\ufeff: comment\r\n"
    "event: message\r\n"
    'data: {"chatId":"c1","content":"Hel"}\r\n'
    "\r\n"
    'data: {"chatId":"c1",\n'
    'data: "content":"lo"}\r'
    "\r"
    "id: 7\n"
    "data:no-space\n"
    "\n"
    "data: unterminated"
)
EXPECTED = [
    ServerSentEvent(data='{"chatId":"c1","content":"Hel"}', event="message"),
    ServerSentEvent(data='{"chatId":"c1",\n"content":"lo"}'),
    ServerSentEvent(data="no-space", id="7"),
]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


def test_whole_stream():
    assert list(iter_events([STREAM.encode()])) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_chunk_boundaries_give_the_same_events(cuts):
    # Cuts may fall inside CRLF pairs and inside multi-byte UTF-8 characters.
    assert list(iter_events(_split(STREAM.encode(), cuts))) == EXPECTED


@given(
    st.lists(
        st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)), max_size=20),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_generated_streams(datas, eol, cuts):
    text = "".join(f"data: {d}{eol}{eol}" for d in datas)
    events = list(iter_events(_split(text.encode(), cuts)))
    assert [e.data for e in events] == datas
