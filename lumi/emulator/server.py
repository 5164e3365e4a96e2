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
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lumi.emulator.ai import AIProvider, EmulatedAIProvider
from lumi.emulator.app import EmulatorApp
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


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (in-process use; the CLI keeps Werkzeug's log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Emulator:
    """A running emulator. Without ``data_dir`` the state lives in a temporary directory that
    is removed by :meth:`stop`; with one, it survives restarts.

    ``fixed_otp`` makes every one-time code that value; ``functions`` is a Python file whose
    top-level functions answer ``/v1/functions/{projectId}/{name}``; ``api_key`` is the only
    events write key accepted (any non-empty key when None); ``ai_provider`` replaces the
    offline emulated AI; ``clock`` (Unix seconds) lets tests move time forward.
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
        quiet: bool = True,
    ) -> None:
        self.host, self.port, self._quiet = host, port, quiet
        self._temporary = data_dir is None
        path = Path(tempfile.mkdtemp(prefix="lumi-emulator-")) if data_dir is None else data_dir
        self.data_dir = Path(path).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        try:
            self._db = Database(self.data_dir / "emulator.sqlite3")
            self._store = EntityStore(self.data_dir / "entities.sqlite3")
            outbox = Outbox(self._db, clock)
            files = FileStorage(self.data_dir / "files", max_file_size)
            provider = ai_provider if ai_provider is not None else EmulatedAIProvider()
            signatures = SignatureChecker(clock)
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
                signatures=signatures,
                reset=self.reset,
                api_key=api_key,
            )
        except BaseException:
            self._cleanup()
            raise
        self.app = EmulatorApp(self.services)

    # --- lifecycle ------------------------------------------------------------------------
    def bind(self) -> BaseWSGIServer:
        """Listen on the port (so that :attr:`url` is final) without serving yet."""
        if self._server is not None:
            raise RuntimeError("the emulator is already listening")
        handler = _QuietHandler if self._quiet else WSGIRequestHandler
        # Bind the socket here: Werkzeug's own bind prints and calls sys.exit() on failure, while
        # an in-process emulator must raise OSError.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family)
        try:
            self._server = make_server(
                self.host,
                self.port,
                self.app,
                threaded=True,
                request_handler=handler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # Werkzeug holds its own duplicate of the descriptor
        self.port = int(self._server.socket.getsockname()[1])
        return self._server

    def start(self) -> Emulator:
        """Serve in a background thread; returns at once with :attr:`url` ready."""
        server = self.bind()
        self._thread = threading.Thread(
            target=server.serve_forever, name="lumi-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted, then stop (the CLI's loop)."""
        server = self._server if self._server is not None else self.bind()
        try:
            server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close the databases, delete a temporary data directory."""
        server, self._server = self._server, None
        if server is not None:
            if self._thread is not None:
                server.shutdown()
                self._thread.join()
                self._thread = None
            server.server_close()
        self._cleanup()

    def _cleanup(self) -> None:
        for resource in ("_store", "_db"):
            closable = self.__dict__.pop(resource, None)
            if closable is not None:
                closable.close()
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

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

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"Emulator(url={self.url!r}, data_dir={str(self.data_dir)!r}, {state})"

    # --- test helpers ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything: users, tokens, documents, mail, files, images, events, nonces."""
        self._db.reset()
        self._store.reset()
        self.services.files.reset()
        self.services.signatures.reset()

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
