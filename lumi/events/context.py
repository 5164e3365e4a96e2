"""Per-request identity and session, held in :mod:`contextvars`.

A web server handles many users at once, in threads or in asyncio tasks. Inside
``with tracker.request_context(distinct_id=..., traceparent=...):`` everything the tracker does
(``get_distinct_id()``, ``session.start()``, ``identify()``, ``reset()``, turns) uses that
request's scope and never the process-wide identity, so two concurrent requests never mix ids.
Context variables follow ``asyncio`` tasks and ``contextvars.copy_context()``; a plain
``threading.Thread`` started inside a request does not inherit them (run it with
``contextvars.copy_context().run``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from .identity import IdentityState

if TYPE_CHECKING:
    from .session import Session, Turn


class RequestScope:
    """The identity and session of one request (mutable only through the tracker)."""

    __slots__ = ("identity", "session")

    def __init__(self, identity: IdentityState, session: Session | None) -> None:
        self.identity = identity
        self.session = session

    def __repr__(self) -> str:
        sid = None if self.session is None else self.session.session_id
        return f"RequestScope(distinct_id={self.identity.distinct_id!r}, session_id={sid!r})"


#: The turn the current code runs in (set by ``session.turn()``), for the decorators.
current_turn: ContextVar[Turn | None] = ContextVar("lumi_events_current_turn", default=None)


def new_scope_var() -> ContextVar[RequestScope | None]:
    """One context variable per tracker, so two trackers never share a request scope."""
    return ContextVar("lumi_events_request_scope", default=None)
