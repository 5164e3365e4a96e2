"""What the client adds to one call, in CPU: ``entities.get`` vs a raw signed ``requests`` call.

Both sides call the same canned local server (a thread of this process) and put the same request
on the wire. The raw baseline signs with its own HMAC code (not ``lumi.signing``), checks the
envelope and returns ``data``; it runs once on a default ``requests.Session`` (which reads the
environment for proxies and ~/.netrc on every request) and once with ``trust_env=False`` (what the
client's own session does, having read the environment when it was made). CPU is the calling
thread's (``time.thread_time``), so the server's work is not counted; rounds are interleaved and
each side keeps its median round.

Also measured: the same call without structuring the reply into a ``Record`` (``data`` as
parsed JSON), and one check of the identical-request limiter holding 10,000 keys vs 10.

    python -m benchmarks.client_get
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

import requests

import lumi
from lumi.config import RateLimit
from lumi.ratelimit import IdenticalRequestLimiter
from tests.support.recorder import RecordingServer

from ._timing import compare

DOC = {
    "_id": "6939311e8458665713e0b522",
    "creator": "u1",
    "createdAt": "2026-03-01T10:00:00.000Z",
    "updatedAt": "2026-03-01T10:00:00.000Z",
    "title": "Hello",
    "views": 3,
    "tags": ["a", "b"],
}
ENVELOPE = json.dumps({"code": 200, "message": "success", "data": DOC}).encode()
#: The protocol's client key (PROTOCOL §2), written out here so the baseline signs on its own.
KEY = b"6QrJZ7pFCmBZAeIJF7IArvkCz+EtzA0RVcpHkiQIsQyhs7QtCS9P+CueZdHfB2OtJcgX3BbqY9pfpWeAVTqCwQ=="
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _respond(_request: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, ENVELOPE


def _raw_signed_get(session: requests.Session, url: str) -> Callable[[], object]:
    def call() -> object:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(6)
        canonical = f"\nx-nonce:{nonce}\nx-timestamp:{timestamp}\n{EMPTY_SHA256}"
        sign = base64.b64encode(hmac.new(KEY, canonical.encode(), hashlib.sha256).digest())
        headers = {
            "Accept": "application/json",
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Sign": sign.decode(),
        }
        response = session.get(url, headers=headers, timeout=(5, 60), allow_redirects=False)
        payload = response.json()
        if payload.get("code") != 200:
            raise RuntimeError(payload)
        return payload["data"]

    return call


def _limiter_holding(keys: int) -> IdenticalRequestLimiter:
    rule = RateLimit(max_identical=4, per_seconds=3600.0)  # nothing expires during the run
    limiter = IdenticalRequestLimiter(rule)
    for key in range(keys):
        limiter.check(("GET", f"/lm/p1/Posts/documents/{key}", "", "h", ()))
    return limiter


def limiter_check_costs(sizes: tuple[int, ...], checks: int = 20_000) -> list[tuple[str, float]]:
    """Seconds of one limiter check of a new request while the limiter remembers ``size`` others,
    per size, in interleaved rounds. Each probe is dropped again right after, inside the timing,
    so the table stays at its size: the figure is one check plus one dict pop."""
    limiters = {size: _limiter_holding(size) for size in sizes}
    probes = [("GET", f"/probe/{i}", "", "h", ()) for i in range(checks)]

    def checking(limiter: IdenticalRequestLimiter) -> Callable[[], object]:
        seen = limiter._seen

        def run() -> None:
            for probe in probes:
                limiter.check(probe)
                seen.pop(probe)

        return run

    rows = compare(
        {f"{size:,} keys remembered": checking(limiters[size]) for size in sizes},
        1,
        rounds=21,
    )
    return [(name, seconds / checks) for name, seconds in rows]


def main(calls: int = 300) -> None:
    with RecordingServer(_respond) as server:
        client = lumi.create_client(project_id="p1", api_base_url=server.url, rate_limit=None)
        url = f"{server.url}/lm/p1/Posts/documents/{DOC['_id']}"
        plain = requests.Session()
        quiet = requests.Session()
        quiet.trust_env = False
        params = {"entityName": "Posts", "id": DOC["_id"]}
        rows = compare(
            {
                "raw signed requests (default Session)": _raw_signed_get(plain, url),
                "raw signed requests (trust_env=False)": _raw_signed_get(quiet, url),
                "lumi entities.get -> Record": lambda: client.entities.Posts.get(DOC["_id"]),
                "lumi, same call, data not structured": lambda: client._call("getDocument", params),
            },
            calls,
            rounds=15,
            clock=time.thread_time,
            warmup=20,
        )
    base = dict(rows)["raw signed requests (default Session)"]
    quiet_base = dict(rows)["raw signed requests (trust_env=False)"]
    print("client CPU per call (calling thread), entities.get over loopback HTTP")
    for name, seconds in rows:
        print(
            f"  {name:<40} {seconds * 1e6:8.1f} µs   x{seconds / base:5.3f} vs default Session"
            f"   x{seconds / quiet_base:5.3f} vs trust_env=False"
        )
    print("identical-request limiter, one check (interleaved rounds)")
    limiter_rows = limiter_check_costs((10, 10_000))
    small = limiter_rows[0][1]
    for name, seconds in limiter_rows:
        print(f"  {name:<40} {seconds * 1e6:8.2f} µs   x{seconds / small:5.2f}")


if __name__ == "__main__":
    main()
