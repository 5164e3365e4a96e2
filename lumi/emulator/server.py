"""``Emulator``: build the services over a data directory and serve them on a port.

In tests: ``with Emulator() as emu: client = lumi.create_client(project_id="p", api_base_url=emu.url)``.
"""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from lumi.emulator import runtime
from lumi.emulator.access import TOKEN_HEADER, AccessPolicy, login_url
from lumi.emulator.ai import AIProvider, EmulatedAIProvider
from lumi.emulator.app import EmulatorApp, max_upload_body
from lumi.emulator.console import CONSOLE_PATH
from lumi.emulator.context import Services
from lumi.emulator.db import Database
from lumi.emulator.files import DEFAULT_MAX_FILE_SIZE, FileStorage
from lumi.emulator.functions import FunctionsHost
from lumi.emulator.image_tasks import ImageTasks
from lumi.emulator.ingest import EventsInbox
from lumi.emulator.outbox import Outbox
from lumi.emulator.signature import SignatureChecker
from lumi.emulator.store import EntityStore
from lumi.emulator.users import TOKEN_TTL_SECONDS, UserDirectory

log = logging.getLogger("lumi.emulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
#: Worker threads: requests run on these; reading and writing sockets does not (see below).
THREADS = 8
#: Open connections at once; past it, new ones wait in the listen backlog.
CONNECTION_LIMIT = 256
#: An idle keep-alive connection, or a request that stops arriving, is closed after this.
CHANNEL_TIMEOUT_SECONDS = 60
#: How often the serving loop looks at the stop flag when nothing happens (seconds).
_LOOP_TIMEOUT = 1


def _waitress(app: EmulatorApp, listener: socket.socket, max_body: int) -> BaseWSGIServer:
    """waitress over an already bound socket.

    Chosen by measurement (``python -m benchmarks.emulator_http --candidates``): gets by id
    at x0.66 of a canned keep-alive server against cheroot's x0.61 and Werkzeug's development
    server's x0.41 (a thread per connection, unbounded), and waitress reads requests and writes
    replies in one asynchronous loop, handing a request to a worker only once it has fully
    arrived, so slow or stalled clients hold no worker (with cheroot's 8 workers, 16 half-sent
    requests stopped every other client).
    """
    # "Task queue depth is N" means "all workers are busy": for a development server, noise.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(
        app,
        sockets=[listener],
        threads=THREADS,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_SECONDS,
        cleanup_interval=min(30, CHANNEL_TIMEOUT_SECONDS),
        max_request_body_size=max_body,
        asyncore_use_poll=True,
        asyncore_loop_timeout=_LOOP_TIMEOUT,
        # No proxy is trusted and nothing here reads X-Forwarded-*: skip the per-request pass
        # that would delete those headers from the environ.
        clear_untrusted_proxy_headers=False,
        ident="lumi-emulator",
    )
    assert isinstance(server, BaseWSGIServer)  # one socket: one server, not a MultiSocketServer
    return server


class Emulator:
    """A running emulator. Without ``data_dir`` the state lives in a temporary directory that
    is removed by :meth:`stop`; with one, it survives restarts.

    ``fixed_otp`` makes every one-time code that value; ``functions`` is a Python file whose
    top-level functions answer ``/v1/functions/{projectId}/{name}``; ``api_key`` is the only
    events write key accepted (any non-empty key when None); ``ai_provider`` replaces the
    offline emulated AI; ``clock`` (Unix seconds) lets tests move time forward;
    ``allowed_hosts`` are names besides localhost, 127.0.0.1 and [::1] that clients may use in
    ``Host`` (the listening address is allowed too); ``quiet=False`` logs one line per request.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        fixed_otp: str | None = None,
        functions: str | Path | None = None,
        api_key: str | None = None,
        *,
        ai_provider: AIProvider | None = None,
        host: str = DEFAULT_HOST,
        port: int = 0,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        token_ttl: float = TOKEN_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        allowed_hosts: Iterable[str] = (),
        quiet: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self._temporary = data_dir is None
        path = Path(tempfile.mkdtemp(prefix="lumi-emulator-")) if data_dir is None else data_dir
        self.data_dir = Path(path).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._runtime_file: Path | None = None
        wildcard = host in ("", "0.0.0.0", "::")
        self._access = AccessPolicy(allowed_hosts=[*allowed_hosts, *([] if wildcard else [host])])
        try:
            self._db = Database(self.data_dir / "emulator.sqlite3")
            self._store = EntityStore(self.data_dir / "entities.sqlite3")
            outbox = Outbox(self._db, clock)
            files = FileStorage(self.data_dir / "files", max_file_size)
            provider = ai_provider if ai_provider is not None else EmulatedAIProvider()
            self.services = Services(
                store=self._store,
                users=UserDirectory(
                    self._db, outbox, clock=clock, fixed_otp=fixed_otp, token_ttl=token_ttl
                ),
                outbox=outbox,
                files=files,
                images=ImageTasks(self._db, files, provider),
                ai=provider,
                functions=FunctionsHost(functions) if functions is not None else None,
                events=EventsInbox(self._db, clock),
                signatures=SignatureChecker(self._db, clock),
                reset=self.reset,
                access=self._access,
                api_key=api_key,
                data_dir=self.data_dir,
            )
        except BaseException:
            self._cleanup()
            raise
        self.app = EmulatorApp(self.services, log_requests=not quiet)

    # --- lifecycle ------------------------------------------------------------------------
    def bind(self) -> BaseWSGIServer:
        """Listen on the port (so that :attr:`url` is final) without serving yet; ``OSError``
        when the address cannot be bound."""
        if self._server is not None:
            raise RuntimeError("the emulator is already listening")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family, backlog=128)
        try:
            # Twice the app's own bound: a body a little too large gets the app's 10413 envelope,
            # a much larger one a plain HTTP 413 from waitress before it is all read.
            max_body = 2 * max_upload_body(self.services.files.max_file_size)
            self._server = _waitress(self.app, listener, max_body)
        except BaseException:
            listener.close()
            raise
        self.port = int(listener.getsockname()[1])
        self._stopping.clear()
        self._runtime_file = runtime.announce(self.url, self._access.token, self.data_dir)
        return self._server

    def start(self) -> Emulator:
        """Serve in a background thread; returns at once with :attr:`url` ready."""
        server = self.bind()
        self._thread = threading.Thread(
            target=self._serve, args=(server,), name="lumi-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted, then stop (the CLI's loop)."""
        server = self._server if self._server is not None else self.bind()
        try:
            self._serve(server)
        finally:
            self.stop()

    def _serve(self, server: BaseWSGIServer) -> None:
        # waitress's own run() loops until its socket map is empty; this loop also ends when
        # stop() sets the flag and pulls the trigger that wakes the poll.
        while not self._stopping.is_set():
            wasyncore.loop(timeout=_LOOP_TIMEOUT, map=server._map, use_poll=True, count=1)

    def stop(self) -> None:
        """Stop serving (the port is free when this returns), close the databases, delete a
        temporary data directory."""
        server, self._server = self._server, None
        if server is not None:
            self._stopping.set()
            server.pull_trigger()
            if self._thread is not None:
                self._thread.join(timeout=10)
                self._thread = None
            # Every connection first (a worker waiting to write a reply is woken and gives up),
            # then the workers, then the listener and the trigger that workers pull when a
            # reply is ready: closed earlier, a worker still serving fails on it with a
            # traceback ("Exception when servicing ...", EBADF).
            for dispatcher in list(server._map.values()):
                if isinstance(dispatcher, HTTPChannel):
                    _close(dispatcher)
            server.task_dispatcher.shutdown(timeout=2)
            wasyncore.close_all(server._map)
        if self._runtime_file is not None:
            runtime.withdraw(self._runtime_file, self._access.token)
            self._runtime_file = None
        self._cleanup()

    def _cleanup(self) -> None:
        services = self.__dict__.get("services")
        if services is not None and "_db" in self.__dict__:
            services.signatures.close()  # its last nonces go to the database first
        for resource in ("_store", "_db"):
            closable = self.__dict__.pop(resource, None)
            if closable is not None:
                closable.close()
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        try:
            return self.start()
        except BaseException:
            self.stop()  # e.g. the port is busy: close the databases, remove a temporary DIR
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give ``lumi.create_client(api_base_url=...)``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def private_token(self) -> str:
        """This run's token for ``/_emulator/*`` (send it as ``X-Lumi-Emulator-Token``)."""
        return self._access.token

    @property
    def runtime_file(self) -> Path | None:
        """Where this run left its URL and token for the lumi CLI (None when not listening, or
        when the runtime folder could not be written)."""
        return self._runtime_file

    @property
    def private_headers(self) -> dict[str, str]:
        """The header that opens ``/_emulator/*``, for ``requests.get(..., headers=...)``."""
        return {TOKEN_HEADER: self._access.token}

    def login_url(self, next: str = "/_emulator/") -> str:
        """A URL to open once in a browser: it sets the private cookie and goes to ``next``."""
        return login_url(self.url, self._access.token, next)

    @property
    def console_url(self) -> str:
        """The URL that opens the console (``/_emulator/ui/``) in a browser, signed in: it holds
        this run's token, so treat it like the token."""
        return self.login_url(next=CONSOLE_PATH)

    def __repr__(self) -> str:  # never the token
        state = "running" if self._server is not None else "stopped"
        return f"Emulator(url={self.url!r}, data_dir={str(self.data_dir)!r}, {state})"

    # --- test helpers ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything: users, tokens, documents, mail, files, images, events, nonces."""
        self.services.signatures.reset()
        self._db.reset()
        self._store.reset()
        self.services.files.reset()

    def outbox(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Sent mail (one-time codes included), oldest first."""
        return self.services.outbox.messages(project_id)

    def latest_otp(self, email: str, project_id: str | None = None) -> str | None:
        """The last one-time code mailed to ``email``."""
        return self.services.outbox.latest_otp(email, project_id)

    def events(
        self, project_id: str | None = None, after: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Ingested events (the parsed objects), oldest first."""
        return [item["event"] for item in self.services.events.events(project_id, after, limit)]

    def users(self, project_id: str | None = None) -> list[dict[str, Any]]:
        return self.services.users.list_users(project_id)

    def set_role(self, email: str, role: str, project_id: str) -> dict[str, Any]:
        """Make a user ``ADMIN`` or ``USER``."""
        return self.services.users.set_role(project_id, email, role)


def _close(channel: HTTPChannel) -> None:
    """Close a connection as waitress's loop would: ``handle_close`` also wakes a worker
    waiting to write to it."""
    try:
        channel.handle_close()
    except OSError:  # already closed by its peer
        channel.close()
