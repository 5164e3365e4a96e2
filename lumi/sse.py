"""An incremental Server-Sent Events parser (the WHATWG ``text/event-stream`` rules).

Written here rather than taken from a package because the runtime dependencies are fixed at
requests, attrs and cattrs, and the format is small and exactly specified: lines end with CRLF,
LF or CR (a CR at the end of one chunk may pair with an LF at the start of the next), ``data``
lines accumulate, a blank line dispatches, ``:`` starts a comment, a leading BOM is skipped.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

import attrs


@attrs.frozen
class ServerSentEvent:
    """One dispatched event: its ``event`` name (None when not given), ``data`` and ``id``."""

    data: str
    event: str | None = None
    id: str | None = None


#: The longest line (and event) the parser holds before it gives up on the stream.
MAX_LINE_CHARS = 16 * 1024 * 1024


class SSEError(ValueError):
    """The stream cannot be parsed (a line or an event longer than :data:`MAX_LINE_CHARS`)."""


class SSEParser:
    """Feed text or bytes in chunks of any size; get back the events completed so far.

    Work is linear in the stream's length whatever the chunk sizes (a line is scanned for its end
    once), and memory is bounded by ``max_line`` characters per line and per event.
    """

    def __init__(self, max_line: int = MAX_LINE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line = max_line
        self._partial: list[str] = []  # the pieces of a line whose end has not come yet
        self._partial_chars = 0
        self._data_chars = 0
        self._pending_cr = False
        self._started = False
        self._data: list[str] = []
        self._event: str | None = None
        self._last_id: str | None = None

    def feed(self, chunk: bytes | str) -> list[ServerSentEvent]:
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]
        self._pending_cr = False
        events: list[ServerSentEvent] = []
        start = 0
        for match in _EOL.finditer(text):
            line = text[start : match.start()]
            if self._partial:
                line = "".join(self._partial) + line
                self._partial, self._partial_chars = [], 0
            event = self._line(line)
            if event is not None:
                events.append(event)
            start = match.end()
        if text.endswith("\r"):
            self._pending_cr = True  # the LF of this CRLF may come in the next chunk
        if start < len(text):
            self._partial.append(text[start:])
            self._partial_chars += len(text) - start
            if self._partial_chars > self._max_line:
                raise SSEError(
                    f"a line of the event stream is longer than {self._max_line} characters"
                )
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            if not self._data:
                self._event = None
                return None
            event = ServerSentEvent(data="\n".join(self._data), event=self._event, id=self._last_id)
            self._data = []
            self._data_chars = 0
            self._event = None
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_chars += len(value) + 1
            if self._data_chars > self._max_line:
                raise SSEError(f"an event of the stream is longer than {self._max_line} characters")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        return None


_EOL = re.compile("\r\n|\r|\n")


def iter_events(chunks: Iterable[bytes | str]) -> Iterator[ServerSentEvent]:
    """Every event of a stream given as chunks of any size."""
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
