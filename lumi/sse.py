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


class SSEParser:
    """Feed text or bytes in chunks of any size; get back the events completed so far."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
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
        self._buffer += text
        events: list[ServerSentEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, width = cut
            line = self._buffer[:end]
            if self._buffer[end] == "\r" and end + 1 == len(self._buffer):
                self._pending_cr = True  # the LF of this CRLF may come in the next chunk
                width = 1
            self._buffer = self._buffer[end + width :]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            if not self._data:
                self._event = None
                return None
            event = ServerSentEvent(data="\n".join(self._data), event=self._event, id=self._last_id)
            self._data = []
            self._event = None
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        return None


_EOL = re.compile("\r\n|\r|\n")


def _line_end(buffer: str) -> tuple[int, int] | None:
    """Index and width of the first line terminator (CRLF counts as one)."""
    match = _EOL.search(buffer)
    return None if match is None else (match.start(), match.end() - match.start())


def iter_events(chunks: Iterable[bytes | str]) -> Iterator[ServerSentEvent]:
    """Every event of a stream given as chunks of any size."""
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
