"""PostHog as the UI analytics provider (``pip install 'lumi-sdk[posthog]'``).

::

    from posthog import Posthog
    from lumi.events.providers.posthog import PostHogProvider

    provider = PostHogProvider(api_key="phc_...", host="https://us.i.posthog.com",
                               project_id="12345")          # project_id: replay URLs
    tracker = lumi.events.init(..., ui_analytics=provider)

(or pass your own ``Posthog`` client, made with ``before_send=provider.before_send``).

While a turn runs, its ids are "super properties" (``lumina_session_id``, ``lumina_turn_id``,
``lumina_turn_seq``, ``lumina_turn_start_ts``): registered at turn start, removed at finish.
posthog-python has no ``register()``, and a server runs many turns at once, so they live in a
context variable (per request / task) and reach PostHog two ways: events sent through this
provider carry them, and ``before_send`` (passed to the PostHog client) adds them to every event
your own code captures during the turn. ``super_properties()`` returns them for manual use.

Identity: ``tracker.identify(user_id, properties)`` links the anonymous id to the user in
PostHog (``alias``) and sets the person's properties (``set``); ``tracker.reset()`` forgets the
provider's per-request state.

The PostHog session id comes from ``posthog``'s context (``posthog.set_context_session(...)``,
set from the browser's ``X-POSTHOG-SESSION-ID`` header by PostHog's middleware) or from
:meth:`PostHogProvider.set_session_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from lumi._extras import optional_imports

from . import TurnContext


class PostHogClient(Protocol):
    """What the provider uses of a ``posthog.Posthog`` client."""

    def capture(
        self,
        event: str,
        *,
        distinct_id: str | None = ...,
        properties: dict[str, Any] | None = ...,
    ) -> object: ...

    def alias(self, previous_id: str, distinct_id: str | None) -> object: ...

    def set(
        self, *, distinct_id: str | None = ..., properties: dict[str, Any] | None = ...
    ) -> object: ...

    def flush(self) -> None: ...

    def shutdown(self) -> None: ...


SUPER_PROPERTIES = (
    "lumina_session_id",
    "lumina_turn_id",
    "lumina_turn_seq",
    "lumina_turn_start_ts",
)


class PostHogProvider:
    """The UI analytics provider interface on a PostHog client."""

    name = "posthog"

    def __init__(
        self,
        client: PostHogClient | None = None,
        *,
        project_id: str | None = None,
        ui_host: str = "https://us.posthog.com",
        api_key: str | None = None,
        host: str | None = None,
    ) -> None:
        """``client``: a ``posthog.Posthog``; or ``api_key`` (+ ``host``) to build one (with
        :meth:`before_send` wired in). ``project_id``: your PostHog project id, for replay
        URLs."""
        self._owns_client = client is None and api_key is not None
        if client is None and api_key is not None:
            with optional_imports("posthog", "PostHogProvider(api_key=...)"):
                import posthog

            client = posthog.Posthog(api_key, host=host, before_send=self.before_send)
        self.client: PostHogClient | None = client
        self.project_id = project_id
        self.ui_host = ui_host.rstrip("/")
        self._turn: ContextVar[dict[str, Any] | None] = ContextVar(
            "lumi_posthog_turn", default=None
        )
        self._session: ContextVar[str | None] = ContextVar("lumi_posthog_session", default=None)

    def __repr__(self) -> str:
        return f"PostHogProvider(project_id={self.project_id!r})"

    # -- super properties ----------------------------------------------------------------------
    def super_properties(self) -> dict[str, Any]:
        """The current turn's ``lumina_*`` properties ({} outside a turn)."""
        current = self._turn.get() or {}
        return {key: current[key] for key in SUPER_PROPERTIES if key in current}

    def before_send(self, event: dict[str, Any]) -> dict[str, Any]:
        """A PostHog ``before_send`` hook adding the current turn's properties to any event."""
        current = self.super_properties()
        if current:
            properties = event.setdefault("properties", {})
            for key, value in current.items():
                properties.setdefault(key, value)
        return event

    # -- the provider interface ----------------------------------------------------------------
    def init(self) -> None:
        return None

    def set_session_id(self, session_id: str | None) -> None:
        """The browser's PostHog session id for the current request (if not in posthog's context)."""
        self._session.set(session_id)

    def get_session_id(self) -> str | None:
        explicit = self._session.get()
        if explicit:
            return explicit
        try:
            from posthog.contexts import get_context_session_id
        except ImportError:
            return None
        session_id: str | None = get_context_session_id()
        return session_id

    def get_replay_url(self) -> str | None:
        session_id = self.get_session_id()
        if not session_id or not self.project_id:
            return None
        return f"{self.ui_host}/project/{self.project_id}/replay/{session_id}"

    def tag_turn(self, ctx: TurnContext) -> None:
        self._turn.set(
            {
                "lumina_session_id": ctx.session_id,
                "lumina_turn_id": ctx.turn_id,
                "lumina_turn_seq": ctx.turn_seq,
                "lumina_turn_start_ts": ctx.start_ts,
                "$lumina_distinct_id": ctx.distinct_id,
            }
        )

    def untag_turn(self) -> None:
        self._turn.set(None)

    def identify(
        self, distinct_id: str, anonymous_id: str | None, properties: Mapping[str, Any] | None
    ) -> None:
        """Link the anonymous id to the user (``alias``) and set the person's properties."""
        if self.client is None:
            return
        if anonymous_id and anonymous_id != distinct_id:
            self.client.alias(previous_id=anonymous_id, distinct_id=distinct_id)
        if properties:
            self.client.set(distinct_id=distinct_id, properties=dict(properties))

    def reset(self) -> None:
        """Forget this context's PostHog session id and turn properties."""
        self._session.set(None)
        self._turn.set(None)

    def start_replay(self) -> None:
        """Session replay is recorded by posthog-js in the browser; nothing to do server-side."""

    def stop_replay(self) -> None:
        """See :meth:`start_replay`."""

    def capture_event(self, name: str, properties: Mapping[str, Any] | None = None) -> None:
        """Capture through PostHog with the turn's super properties. A ``distinct_id`` key in
        ``properties`` (the tracker passes it) becomes PostHog's distinct id."""
        if self.client is None:
            return
        props = dict(properties or {})
        current = self._turn.get() or {}
        distinct_id = props.pop("distinct_id", None) or current.get("$lumina_distinct_id")
        for key in SUPER_PROPERTIES:
            if key in current:
                props.setdefault(key, current[key])
        session_id = self.get_session_id()
        if session_id:
            props.setdefault("$session_id", session_id)
        self.client.capture(name, distinct_id=distinct_id, properties=props)

    def shutdown(self) -> None:
        if self.client is None:
            return
        if self._owns_client:
            self.client.shutdown()
        else:
            self.client.flush()
