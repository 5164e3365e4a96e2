"""The call deadline (``Timeout(total=...)``) enforced on the socket, whatever the server does.

``requests`` and urllib3 only bound each socket operation (connect, one read): a server that
drips one byte per half second, in the headers or the body, never trips a 1 s read timeout and
can hold a call for hours. Neither library offers a deadline for a whole exchange, so this module
adds one: a single daemon thread (the watchdog) shuts down the socket of any attempt whose
deadline has passed, which makes the blocked read or write fail at once.

The watchdog learns which connection an attempt uses from the connection pools of the
:class:`DeadlineAdapter` (mounted on the sessions the client creates): ``_get_conn`` runs in the
calling thread and tags the connection with that thread's current attempt, and the connection
keeps its socket at connect time (``http.client`` drops ``sock`` from a connection whose reply
says ``Connection: close``, while the reply is still being read from it). A connection is shut
down only while it is still tagged with the expired attempt, so one handed to another caller in
the meantime is never touched; an attempt that expires while connecting is shut down as soon as
its socket exists.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from typing import Any

import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Attempt:
    """One attempt of a call, watched until :meth:`Watchdog.end` (``fired``: its deadline passed)."""

    __slots__ = ("connection", "deadline", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None
        self.fired = False


class Watchdog:
    """Shuts down the sockets of attempts whose deadline has passed (one thread, started lazily)."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a child process has no watchdog thread
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # `with` on the bare lock: cheaper than the Condition's
        self._cond = threading.Condition(self._lock)
        self._active: set[Attempt] = set()
        self._thread: threading.Thread | None = None
        self._next_wake = math.inf
        self._local = threading.local()

    def start(self, deadline: float) -> Attempt:
        """Watch the attempt this thread is about to make; call :meth:`end` when it is over."""
        attempt = Attempt(deadline)
        with self._lock:
            self._active.add(attempt)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lumi-deadline-watchdog", daemon=True
                )
                self._thread.start()
            if deadline < self._next_wake:
                self._cond.notify()
        self._local.attempt = attempt
        return attempt

    def end(self, attempt: Attempt) -> None:
        self._local.attempt = None
        with self._lock:
            self._active.discard(attempt)
            attempt.connection = None

    def claim(self, connection: Any) -> None:
        """Tag ``connection`` with this thread's current attempt (called by the pools)."""
        attempt = getattr(self._local, "attempt", None)
        with self._lock:
            connection._lumi_attempt = attempt
            if attempt is not None:
                attempt.connection = connection
                if attempt.fired:
                    self._shut(attempt)

    def connected(self, connection: Any) -> None:
        """``connection`` has a new socket (called by the connections after connecting)."""
        with self._lock:
            connection._lumi_sock = connection.sock
            attempt = getattr(connection, "_lumi_attempt", None)
            if attempt is not None and attempt.fired:
                self._shut(attempt)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                wake = math.inf
                for attempt in self._active:
                    if attempt.deadline > now:
                        wake = min(wake, attempt.deadline)
                    elif not attempt.fired:
                        attempt.fired = True
                        self._shut(attempt)  # or, still connecting: at connected()
                self._next_wake = wake
                self._cond.wait(None if wake == math.inf else wake - now)

    @staticmethod
    def _shut(attempt: Attempt) -> None:
        connection = attempt.connection
        if connection is None or getattr(connection, "_lumi_attempt", None) is not attempt:
            return
        sock = getattr(connection, "_lumi_sock", None) or getattr(connection, "sock", None)
        if sock is None:
            return
        # The plain socket's shutdown, also under TLS: it wakes a read blocked in any thread.
        # OSError: already closed, so nothing is blocked on it.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


WATCHDOG = Watchdog()


class _Connected:
    """Tells the watchdog about each new socket (mixed into urllib3's connection classes)."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        WATCHDOG.connected(self)


class _Claimed:
    """Tags each connection taken from the pool with the caller's attempt (mixed into pools)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        WATCHDOG.claim(connection)
        return connection


class _WatchedHTTPConnection(_Connected, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Connected, HTTPSConnection):
    pass


class _WatchedHTTPConnectionPool(_Claimed, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(_Claimed, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections the :data:`WATCHDOG` can shut down at a deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are their own classes
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


_WATCHED_POOLS = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}
