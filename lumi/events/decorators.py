"""``@llm`` and ``@tool``: record calls into the current turn (or as span events outside one).

::

    @lumi.events.llm(model="gpt-4o", prompt_id="answer-v2")
    def answer(messages): ...

    @lumi.events.tool("search", type="http", target="https://search.internal")
    def search(query): ...

    with session.turn() as turn:
        search("...")           # recorded as a tool call of this turn
        answer([...])           # recorded as an LLM call (a generator result: streamed)

Sync and ``async def`` functions, generators and async generators are supported. Outside a
turn the call is sent as a ``span`` event of the current session (sampling kind ``span``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .calls import CallRecord, wrap_call
from .config import EventsConfigError
from .session import _end_record, _meta, active_turn

if TYPE_CHECKING:
    from .tracker import Tracker

F = TypeVar("F", bound=Callable[..., Any])


def _starter(
    kind: str, name: str, meta: dict[str, str], tracker: Tracker | None
) -> Callable[[], CallRecord | None]:
    def start() -> CallRecord | None:
        turn = active_turn()
        if turn is not None and (tracker is None or turn._tracker is tracker):
            if kind == "tool" and not turn._tracker.config.enable_tool_wrapping:
                return None
            return turn._start_call(kind, name, meta)
        if tracker is not None:
            return tracker._start_call(kind, name, meta)
        from . import _default_if_initialised

        default = _default_if_initialised()
        return None if default is None else default._start_call(kind, name, meta)

    return start


def llm(
    fn: F | None = None,
    *,
    model: str | None = None,
    prompt_id: str | None = None,
    stream: bool = True,
    tracker: Tracker | None = None,
) -> Any:
    """Decorate an LLM-calling function (``@llm`` or ``@llm(model=..., prompt_id=...)``)."""
    meta = _meta(model=model, prompt_id=prompt_id)

    def decorate(function: F) -> F:
        name = model or str(getattr(function, "__name__", "llm"))
        return wrap_call(
            function, _starter("llm", name, meta, tracker), _end_record, streams=stream
        )

    return decorate if fn is None else decorate(fn)


def tool(
    name: str | Callable[..., Any] | None = None,
    *,
    type: str | None = None,  # the JS SDK's option name
    target: str | None = None,
    version: str | None = None,
    tracker: Tracker | None = None,
) -> Any:
    """Decorate a tool function (``@tool``, ``@tool("name", type=..., target=..., version=...)``);
    the name defaults to the function's. Inactive when ``enable_tool_wrapping`` is off."""
    meta = _meta(type=type, target=target, version=version)

    def decorate(function: F, tool_name: str | None) -> F:
        resolved = tool_name or getattr(function, "__name__", None)
        if not resolved:
            raise EventsConfigError("tool: a name is needed for this callable")
        return wrap_call(function, _starter("tool", resolved, meta, tracker), _end_record)

    if callable(name):
        return decorate(name, None)
    if name is not None and not isinstance(name, str):
        raise EventsConfigError("tool: name must be a string")
    return lambda function: decorate(function, name)
