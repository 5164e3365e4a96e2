"""One HTTP attempt: POST an NDJSON batch to ``{endpoint}/collect/sdk/events``.

The retry loop lives in :mod:`lumi.events.delivery`; this module only classifies the outcome.
The write key goes in ``X-Api-Key`` and nowhere else (never in logs, reprs or results).
"""

from __future__ import annotations

from typing import Protocol

import attrs
import requests

from lumi._version import __version__
from lumi.retry import RETRY_STATUSES, parse_retry_after


@attrs.frozen
class SendResult:
    """The outcome of one attempt. ``retryable`` is meaningful only when not ``ok``."""

    ok: bool
    retryable: bool = True
    status: int | None = None
    retry_after_s: float | None = None
    detail: str = ""


class Sender(Protocol):
    """Sends one NDJSON body; never raises for network or HTTP failures."""

    def send(self, body: bytes, timeout: tuple[float, float]) -> SendResult: ...

    def close(self) -> None: ...


class HttpSender:
    """Sends with a :class:`requests.Session` (one per process: a forked child makes its own)."""

    def __init__(self, url: str, write_key: str | None) -> None:
        self.url = url
        self._session = requests.Session()
        self._headers = {
            "Content-Type": "application/x-ndjson",
            "User-Agent": f"lumi-python/{__version__} (events)",
        }
        if write_key:
            self._headers["X-Api-Key"] = write_key

    def __repr__(self) -> str:
        return f"HttpSender(url={self.url!r})"

    def send(self, body: bytes, timeout: tuple[float, float]) -> SendResult:
        try:
            response = self._session.post(
                self.url, data=body, headers=self._headers, timeout=timeout
            )
        except requests.Timeout:
            return SendResult(ok=False, detail="timed out")
        except requests.RequestException as exc:
            return SendResult(ok=False, detail=f"connection failed ({type(exc).__name__})")
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return SendResult(ok=True, status=status)
        return SendResult(
            ok=False,
            status=status,
            retryable=status in RETRY_STATUSES,
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            detail=f"HTTP {status}",
        )

    def close(self) -> None:
        self._session.close()
