"""``RawStream``: the bytes of a streamed reply, read as they arrive, with one error tree.

A function called with ``response_type="stream"`` and ``tools.ai.generate_text_stream(raw=True)``
both return one. Iterating yields ``bytes`` chunks as the server sends them (not when a buffer
fills), so it can be relayed to a browser as is; the connection is always closed: when the
stream is exhausted, on :meth:`RawStream.close`, on leaving a ``with`` block, or when the object
is garbage-collected. A connection that breaks mid-stream raises :class:`lumi.APIConnectionError`
(a read timeout: :class:`lumi.APITimeoutError`), never an exception of the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import requests
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from .errors import (
    APIConnectionError,
    APITimeoutError,
    InvalidResponseError,
    LumiError,
)
from .retry import is_timeout
from .transport import ATTEMPT_ERRORS, Exchange

_CHUNK_BYTES = 65_536
#: What reading the body can raise (ValueError: the response was closed meanwhile).
_READ_ERRORS: tuple[type[BaseException], ...] = (*ATTEMPT_ERRORS, ValueError)


_C = TypeVar("_C", bound="Closing")


class Closing:
    """Closes itself on leaving a ``with`` block and when garbage-collected (streams)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class RawStream(Closing):
    """The raw body of a streamed reply: an iterator of ``bytes`` and a context manager.

    ``status_code`` and ``headers`` are the reply's; :meth:`read` returns the rest at once.
    """

    def __init__(self, exchange: Exchange, method: str, path: str) -> None:
        self._response: requests.Response | None = exchange.response
        self._exchange = exchange
        self._method = method
        self._path = path
        self.status_code: int = exchange.response.status_code
        self.headers: CaseInsensitiveDict[str] = exchange.response.headers
        self._chunks = self._read()

    def _read(self) -> Iterator[bytes]:
        response = self._response
        if response is None:
            return
        raw = response.raw
        try:
            while True:
                # read1: whatever one read of the socket gives (decoded), so a chunk is handed
                # on as soon as it arrives; b"" only at the end of the body.
                chunk = raw.read1(_CHUNK_BYTES, decode_content=True)
                if not chunk:
                    return
                yield chunk
        except _READ_ERRORS as exc:
            error: LumiError
            where = f"{self._method} {self._path}"
            if isinstance(exc, urllib3.exceptions.DecodeError):
                encoding = self.headers.get("Content-Encoding", "?")
                error = InvalidResponseError(
                    self.status_code,
                    f"{where}: the stream could not be decoded (Content-Encoding: {encoding!r:.40})",
                )
            elif is_timeout(exc):
                error = APITimeoutError(f"{where}: the stream stalled: a read timed out")
            else:
                error = APIConnectionError(
                    f"{where}: the connection broke during the stream ({type(exc).__name__})"
                )
            raise self.locate(error) from None
        finally:
            self.close()

    def locate(self, error: LumiError) -> LumiError:
        """``error`` (met while reading or parsing this stream) with the call's context."""
        return self._exchange.locate(error, self._method, self._path)

    def __iter__(self) -> RawStream:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def read(self) -> bytes:
        """The rest of the stream, at once."""
        return b"".join(self)

    def close(self) -> None:
        """Close the connection (also when the stream is not finished)."""
        response, self._response = self._response, None
        if response is not None:
            response.close()

    @property
    def closed(self) -> bool:
        return self._response is None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"RawStream({self._method} {self._path}, status={self.status_code}, {state})"
