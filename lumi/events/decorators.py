"""``@llm`` and ``@tool``: decorators that record each call of a function into the current
turn (or, outside one, as a span event of the current session).

::

    @lumi.events.llm(model="gpt-4o", prompt_id="answer-v2")
    def answer(messages): ...

    @lumi.events.tool("search", type="http", target="https://search.internal")
    def search(query): ...

    with session.turn() as turn:
        search("...")           # recorded as a tool call of this turn
        answer([...])           # recorded as an LLM call (a generator result: streamed)

Sync and ``async def`` functions, generators and async generators are supported; the
decorated function keeps its signature (``ParamSpec``). The call-now forms are the turn's
``wrap_llm(fn)`` and ``record_tool(name, fn)``; the same decorators bound to one turn are
``turn.llm`` / ``turn.tool``, bound to one tracker ``tracker.llm`` / ``tracker.tool``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from .calls import CallRecord, Decorator, wrap_call
from .config import EventsConfigError
from .session import call_options, start_call

if TYPE_CHECKING:
    from .recorder import Recorder

P = ParamSpec("P")
R = TypeVar("R")


def _starter(
    kind: str, name: str, meta: dict[str, str], bound: Recorder | None
) -> Callable[[], CallRecord | None]:
    def start() -> CallRecord | None:
        # unbound: the default tracker, looked up at each call (init() may come later)
        fallback = bound if bound is not None else _default_recorder()
        return start_call(kind, name, meta, only=bound, fallback=fallback)

    return start


def _default_recorder() -> Recorder | None:
    from . import _default_if_initialised

    default = _default_if_initialised()
    return None if default is None else default.recorder


def llm_decorator(model: str | None, prompt_id: str | None, bound: Recorder | None) -> Decorator:
    """The ``llm`` decorator; ``bound``: record only into that tracker's turns and session."""
    options = call_options("llm", None, model=model, prompt_id=prompt_id)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        name = options.get("model") or str(getattr(function, "__name__", "llm"))
        return wrap_call(function, _starter("llm", name, options, bound))

    return decorate


def tool_decorator(
    name: str | None,
    type: str | None,
    target: str | None,
    version: str | None,
    bound: Recorder | None,
) -> Decorator:
    """The ``tool`` decorator (the name defaults to the function's)."""
    if name is not None and not isinstance(name, str):
        raise EventsConfigError("tool: name must be a string")
    options = call_options("tool", None, type=type, target=target, version=version)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        resolved = name or getattr(function, "__name__", None)
        if not resolved:
            raise EventsConfigError("tool: a name is needed for this callable")
        return wrap_call(function, _starter("tool", resolved, options, bound))

    return decorate


@overload
def llm(fn: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def llm(
    fn: None = None, /, *, model: str | None = None, prompt_id: str | None = None
) -> Decorator: ...


def llm(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    model: str | None = None,
    prompt_id: str | None = None,
) -> Any:
    """Decorate an LLM-calling function (``@llm`` or ``@llm(model=..., prompt_id=...)``)."""
    decorate = llm_decorator(model, prompt_id, None)
    return decorate if fn is None else decorate(fn)


@overload
def tool(name: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def tool(
    name: str | None = None,
    /,
    *,
    type: str | None = None,
    target: str | None = None,
    version: str | None = None,
) -> Decorator: ...


def tool(
    name: str | Callable[..., Any] | None = None,
    /,
    *,
    type: str | None = None,  # the lumina-sdk's option name
    target: str | None = None,
    version: str | None = None,
) -> Any:
    """Decorate a tool function (``@tool``, ``@tool("name", type=..., target=..., version=...)``).
    Inactive when ``enable_tool_wrapping`` is off."""
    if callable(name):
        return tool_decorator(None, type, target, version, None)(name)
    return tool_decorator(name, type, target, version, None)
