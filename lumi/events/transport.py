"""One HTTP attempt: POST an NDJSON batch to ``{endpoint}/collect/sdk/events``.

The retry loop lives in :mod:`lumi.events.delivery`; this module only classifies the outcome.
The write key goes in ``X-Api-Key`` and nowhere else (never in logs, reprs or results).

The batch is sent with urllib3 (the HTTP library under requests) rather than a
``requests.Session``: the worker posts a batch every few milliseconds under load, and a
Session's per-request work (settings merging, hooks, cookies) costs about three times the CPU
of the urllib3 call for the same 100 KB body. What a Session would read from the environment
(``HTTPS_PROXY``/``NO_PROXY``..., ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is read once,
with requests' own helpers.
"""

from __future__ import annotations

import os
from typing import Protocol

import attrs
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_environ_proxies, select_proxy

from lumi._version import __version__
from lumi.retry import RETRY_STATUSES, parse_retry_after
from lumi.transport import redact_url


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


def _pool_manager(url: str, connections: int) -> urllib3.PoolManager:
    ca_bundle = (
        os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or DEFAULT_CA_BUNDLE_PATH
    )
    proxy = select_proxy(url, get_environ_proxies(url))
    if proxy:
        return urllib3.ProxyManager(
            proxy,
            proxy_headers=HTTPAdapter().proxy_headers(proxy),
            maxsize=connections,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle,
        )
    return urllib3.PoolManager(
        num_pools=1, maxsize=connections, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle
    )


class HttpSender:
    """Sends with one urllib3 pool of ``connections`` keep-alive connections (one pool per
    process: a forked child makes its own)."""

    def __init__(self, url: str, write_key: str | None, connections: int = 2) -> None:
        self.url = url
        self._http = _pool_manager(url, connections)
        self._headers = {
            "Content-Type": "application/x-ndjson",
            "User-Agent": f"lumi-python/{__version__} (events)",
        }
        if write_key:
            self._headers["X-Api-Key"] = write_key

    def __repr__(self) -> str:
        return f"HttpSender(url={redact_url(self.url)!r})"

    def send(self, body: bytes, timeout: tuple[float, float]) -> SendResult:
        try:
            response = self._http.urlopen(
                "POST",
                self.url,
                body=body,
                headers=self._headers,
                retries=False,
                redirect=False,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            )
        except urllib3.exceptions.NewConnectionError as exc:  # a TimeoutError in urllib3 2
            return SendResult(ok=False, detail=f"connection failed ({type(exc).__name__})")
        except urllib3.exceptions.TimeoutError:
            return SendResult(ok=False, detail="timed out")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return SendResult(ok=False, detail=f"connection failed ({type(exc).__name__})")
        status = response.status
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
        self._http.clear()
