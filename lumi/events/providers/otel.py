"""OpenTelemetry as the system analytics provider (``pip install 'lumi-sdk[otel]'``).

Each turn becomes a span ``chat`` (renamed ``chat <model>`` once the model is known), each tool
call a child span ``execute_tool <name>``, each LLM call a child span ``chat <model>``, with the
GenAI semantic-convention attributes (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.conversation.id``, ``gen_ai.tool.name``, ``gen_ai.tool.type``, ``gen_ai.tool.call.id``,
``error.type``) plus ``lumina.*`` ids to join with the events.

Parenting: a turn span is a child of the span current in the caller (a web framework's request
span, say). With no current span it joins the session's own trace (the incoming ``traceparent``
or the session's trace id), so the OpenTelemetry trace id equals the Lumina session id.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from lumi._extras import optional_imports
from lumi._version import __version__

from ..tracecontext import parse_traceparent
from . import SpanContext, TurnContext

with optional_imports("otel", "lumi.events.providers.otel"):
    from opentelemetry import trace
    from opentelemetry.trace import (
        NonRecordingSpan,
        Span,
        SpanKind,
        Status,
        StatusCode,
        Tracer,
        TracerProvider,
    )
    from opentelemetry.trace import SpanContext as OtelSpanContext

OPERATION = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_CALL_ID = "gen_ai.tool.call.id"
ERROR_TYPE = "error.type"


def _remote_parent(traceparent: str) -> Any:
    parsed = parse_traceparent(traceparent)
    parent = OtelSpanContext(
        trace_id=int(parsed.trace_id, 16),
        span_id=int(parsed.span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(int(parsed.flags, 16)),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


class OpenTelemetryProvider:
    """The system analytics provider interface on an OpenTelemetry tracer."""

    name = "opentelemetry"

    def __init__(
        self, tracer: Tracer | None = None, tracer_provider: TracerProvider | None = None
    ) -> None:
        self._tracer = tracer or trace.get_tracer(
            "lumi.events", __version__, tracer_provider=tracer_provider
        )
        self._spans: dict[str, Span] = {}
        self._lock = threading.Lock()

    def _keep(self, span: Span) -> str:
        handle = format(span.get_span_context().span_id, "016x")
        with self._lock:
            self._spans[handle] = span
        return handle

    def _pop(self, handle: str) -> Span | None:
        with self._lock:
            return self._spans.pop(handle, None)

    def start_turn(self, ctx: TurnContext) -> str | None:
        current = trace.get_current_span()
        context = (
            None if current.get_span_context().is_valid else _remote_parent(ctx.session_traceparent)
        )
        span = self._tracer.start_span(
            "chat",
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=ctx.start_ts * 1_000_000,
            attributes={
                OPERATION: "chat",
                CONVERSATION_ID: ctx.session_id,
                "lumina.session_id": ctx.session_id,
                "lumina.turn_id": ctx.turn_id,
                "lumina.turn_seq": ctx.turn_seq,
            },
        )
        return self._keep(span)

    def end_turn(self, span_id: str, status: str, meta: Mapping[str, Any]) -> None:
        span = self._pop(span_id)
        if span is None:
            return
        model = meta.get("model")
        if model:
            span.set_attribute(REQUEST_MODEL, str(model))
            span.update_name(f"chat {model}")
        span.set_attribute("lumina.tool_calls", int(meta.get("tool_calls", 0)))
        if status == "error":
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def start_span(self, ctx: SpanContext) -> str | None:
        parent = None
        if ctx.parent is not None:
            with self._lock:
                parent_span = self._spans.get(ctx.parent)
            if parent_span is not None:
                parent = trace.set_span_in_context(parent_span)
        attributes: dict[str, Any] = {"lumina.session_id": ctx.session_id}
        if ctx.turn_id is not None:
            attributes["lumina.turn_id"] = ctx.turn_id
        if ctx.kind == "tool":
            name = f"execute_tool {ctx.name}"
            attributes.update({OPERATION: "execute_tool", TOOL_NAME: ctx.name})
            attributes[TOOL_CALL_ID] = ctx.span_id
            if "type" in ctx.attributes:
                attributes[TOOL_TYPE] = ctx.attributes["type"]
            for key in ("target", "version"):
                if key in ctx.attributes:
                    attributes[f"lumina.tool.{key}"] = ctx.attributes[key]
            kind = SpanKind.INTERNAL
        else:
            model = ctx.attributes.get("model")
            name = f"chat {model}" if model else "chat"
            attributes[OPERATION] = "chat"
            if model:
                attributes[REQUEST_MODEL] = model
            if "prompt_id" in ctx.attributes:
                attributes["lumina.prompt_id"] = ctx.attributes["prompt_id"]
            kind = SpanKind.CLIENT
        span = self._tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
        return self._keep(span)

    def end_span(self, span_id: str, status: str, meta: Mapping[str, Any]) -> None:
        span = self._pop(span_id)
        if span is None:
            return
        if meta.get("first_token_ms") is not None:
            span.set_attribute("lumina.first_token_ms", float(meta["first_token_ms"]))
        if status == "error":
            span.set_attribute(ERROR_TYPE, str(meta.get("error_type", "error")))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def shutdown(self) -> None:
        """End spans left open (turns never finished) so they are not lost."""
        with self._lock:
            spans, self._spans = list(self._spans.values()), {}
        for span in spans:
            span.end()
