"""Many interleaved requests of two users through a real threaded server (Flask or Django)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from lumi.emulator.server import Emulator
from lumi.events import Tracker

from .conftest import Account, turn_events


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serving(app: Callable[..., Any]) -> Iterator[str]:
    """Serve the WSGI ``app`` with Werkzeug's threaded server (a thread per request)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def hammer(url: str, accounts: dict[str, Account], requests_per_user: int = 40) -> list:
    """Interleaved requests of both users from 8 threads; each with its own trace id."""
    pairs = [account for _ in range(requests_per_user) for account in accounts.values()]
    jobs = [(account, f"{n:032x}") for n, account in enumerate(pairs, start=1)]

    def one(job: tuple[Account, str]) -> tuple[Account, str, dict]:
        account, trace = job
        headers = {**account.auth, "traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
        reply = requests.get(url, params={"who": account.name}, headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        assert reply.headers["traceparent"].split("-")[1] == trace
        return account, trace, reply.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, jobs))


def check_no_crossing(results, accounts, tracker: Tracker, emulator: Emulator) -> None:
    for account, trace, body in results:
        assert (body["user_id"], body["email"]) == (account.user_id, account.email)
        assert body["token_matches"] is True
        assert body["distinct_id"] == account.user_id
        assert body["session_id"] == trace
    assert tracker.flush(20)
    turns = turn_events(emulator)
    assert len(turns) == len(results)
    by_name = {a.name: a.user_id for a in accounts.values()}
    traces = {trace: account.user_id for account, trace, _ in results}
    for turn in turns:  # the turn's content (who the caller said it was) matches its identity
        assert turn["distinct_id"] == by_name[turn["messages"][0]["content"]]
        assert traces[turn["session_id"]] == turn["distinct_id"]
