"""Per-request clients: shared pool, never a shared token, safe across threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import lumi

from .support.recorder import RecordingServer


def _echo_token(request):
    token = request.headers.get("authorization", "")
    user = {"userId": token.removeprefix("Bearer "), "email": "e@x", "userRole": "USER"}
    body = json.dumps({"code": 200, "message": "ok", "data": user}).encode()
    return 200, {"Content-Type": "application/json", "Set-Cookie": f"s={token}"}, body


def test_concurrent_requests_never_cross_tokens():
    with RecordingServer(_echo_token) as server:
        shared = lumi.create_client(project_id="p1", api_base_url=server.url)

        def handle(i: int) -> tuple[str, str]:
            per_request = shared.for_request(f"Bearer user-{i % 7}")
            user = per_request.auth.refresh_user()
            return f"user-{i % 7}", user.user_id

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(handle, range(200)))
        assert all(expected == got for expected, got in results)
        assert len(server.requests) == 200
        # The server set cookies; none was ever sent back (the pool is shared between users).
        assert not any("cookie" in r.headers for r in server.requests)
        assert shared.auth.access_token is None


def test_derived_client_shares_the_pool_not_the_token():
    shared = lumi.create_client(
        project_id="p1", api_base_url="http://127.0.0.1:9", authorization="Bearer a"
    )
    derived = shared.for_request("Bearer b")
    assert derived._transport is shared._transport
    assert (shared.auth.access_token, derived.auth.access_token) == ("a", "b")
    derived.auth.sign_out()
    assert shared.auth.access_token == "a"
    assert shared.for_request(None).auth.is_authenticated is False
    assert shared.for_request("raw-token").auth.access_token == "raw-token"


def test_with_options_shares_the_token():
    shared = lumi.create_client(
        project_id="p1", api_base_url="http://127.0.0.1:9", authorization="Bearer a"
    )
    quick = shared.with_options(timeout=1.5)
    assert quick.config.timeout.read == 1.5 and quick.auth.access_token == "a"
    quick.auth.access_token = "c"
    assert shared.auth.access_token == "c"
