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
``wrap_llm(fn)`` and ``record_tool(name, fn)``; the same decorators bound to one tracker are
``tracker.llm`` / ``tracker.tool``, bound to one turn ``turn.llm`` / ``turn.tool``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .calls import CallRecord, LLMDecorator, ToolDecorator
from .session import start_call

if TYPE_CHECKING:
    from .recorder import Recorder


def _default_recorder() -> Recorder | None:
    from . import _default_if_initialised

    default = _default_if_initialised()
    return None if default is None else default.recorder


def _start_in_current_turn(kind: str, name: str, meta: dict[str, str]) -> CallRecord | None:
    # the default tracker is looked up at each call: init() may come after the decoration
    return start_call(kind, name, meta, only=None, fallback=_default_recorder())


#: ``@llm`` / ``@llm(model=..., prompt_id=...)``: into the current turn, whatever its tracker.
llm = LLMDecorator(_start_in_current_turn)
#: ``@tool`` / ``@tool("name", type=..., target=..., version=...)``: the same for tool calls
#: (inactive when the tracker has ``enable_tool_wrapping=False``).
tool = ToolDecorator(_start_in_current_turn)
