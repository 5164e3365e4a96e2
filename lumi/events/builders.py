"""From what a turn recorded to the wire dict, through the generated event classes.

These run on the delivery worker (or before a spool write), never holding the caller: privacy
(masking) and serialisation happen here. The classes come from ``schema/events.schema.json``
via codegen (``lumi/_generated/events.py``); ``lumi.serde.unstructure`` writes them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from lumi._generated import events as models
from lumi._unset import UNSET, Unset
from lumi._version import __version__
from lumi.serde import unstructure as to_wire

from .calls import CallRecord
from .privacy import Privacy

SOURCE = "lumi-python"
T = TypeVar("T")


@functools.cache
def _python_names(cls: Any) -> dict[str, str]:
    return {f.metadata.get("wire", f.name): f.alias for f in attrs.fields(cls)}


def make(cls: type[T], **wire: Any) -> T:
    """An instance of a generated class from keyword arguments named by *wire* name, so this
    module does not depend on codegen's Python renaming rules (``error`` -> ``error_`` ...)."""
    names = _python_names(cls)  # type: ignore[arg-type]
    return cls(**{names[key]: value for key, value in wire.items()})


@attrs.frozen(kw_only=True)
class RetrievalRecord:
    source: str
    query: str | None
    ts: int
    results: tuple[tuple[str, float | None, str | None], ...]


@attrs.frozen(kw_only=True)
class TurnRecord:
    """Everything a finished turn carries, frozen at ``finish()``."""

    event_id: str
    timestamp: int
    distinct_id: str
    session_id: str
    turn_id: str
    turn_seq: int
    parent_span_id: str | None
    traceparent: str
    start_ts: int
    end_ts: int
    latency_ms: float
    error: tuple[str, str] | None
    messages: tuple[tuple[str, str], ...]
    calls: tuple[CallRecord, ...]
    retrievals: tuple[RetrievalRecord, ...]
    annotations: dict[str, Any]
    sample_rate: float


def _opt(value: Any) -> Any:
    return UNSET if value is None else value


def _error(
    privacy: Privacy, error_type: str | None, message: str | None
) -> models.ErrorInfo | Unset:
    if error_type is None:
        return UNSET
    text = privacy.content(message) if message else None
    return make(models.ErrorInfo, type=error_type, message=_opt(text))


def _llm(call: CallRecord, privacy: Privacy) -> models.LLMCall:
    return make(
        models.LLMCall,
        span_id=call.span_id,
        model=_opt(call.meta.get("model")),
        prompt_id=_opt(call.meta.get("prompt_id")),
        start_ts=call.start_ts,
        latency_ms=round(call.latency_ms or 0.0, 3),
        first_token_ms=UNSET if call.first_token_ms is None else round(call.first_token_ms, 3),
        streamed=call.streamed,
        chunk_count=call.chunk_count if call.streamed else UNSET,
        status=call.status,
        error=_error(privacy, call.error_type, call.error_message),
    )


def _tool(call: CallRecord, privacy: Privacy) -> models.ToolCall:
    return make(
        models.ToolCall,
        span_id=call.span_id,
        name=call.name,
        type=_opt(call.meta.get("type")),
        target=_opt(call.meta.get("target")),
        version=_opt(call.meta.get("version")),
        start_ts=call.start_ts,
        latency_ms=round(call.latency_ms or 0.0, 3),
        status=call.status,
        error=_error(privacy, call.error_type, call.error_message),
    )


def _retrieval(record: RetrievalRecord, privacy: Privacy) -> models.Retrieval:
    results = []
    for rid, score, content in record.results:
        text = privacy.content(content) if content is not None else None
        results.append(make(models.RetrievalResult, id=rid, score=_opt(score), content=_opt(text)))
    query = privacy.content(record.query) if record.query is not None else None
    return make(
        models.Retrieval, source=record.source, query=_opt(query), ts=record.ts, results=results
    )


def turn_event(record: TurnRecord, privacy: Privacy) -> dict[str, Any]:
    llm_calls = [c for c in record.calls if c.kind == "llm"]
    tools = [c for c in record.calls if c.kind == "tool"]
    last_llm = llm_calls[-1] if llm_calls else None
    messages: list[models.Message] | Unset = UNSET
    if privacy.sends_content:
        messages = [
            make(models.Message, role=role, content=privacy.content(content) or "")
            for role, content in record.messages
        ]
    event = make(
        models.TurnEvent,
        event_id=record.event_id,
        type="turn",
        name="turn",
        timestamp=record.timestamp,
        source=SOURCE,
        sdk_version=__version__,
        distinct_id=record.distinct_id,
        session_id=record.session_id,
        turn_id=record.turn_id,
        turn_seq=record.turn_seq,
        parent_span_id=_opt(record.parent_span_id),
        traceparent=record.traceparent,
        start_ts=record.start_ts,
        end_ts=record.end_ts,
        latency_ms=round(record.latency_ms, 3),
        status="error" if record.error is not None else "ok",
        error=UNSET if record.error is None else _error(privacy, *record.error),
        model=UNSET if last_llm is None else _opt(last_llm.meta.get("model")),
        prompt_id=UNSET if last_llm is None else _opt(last_llm.meta.get("prompt_id")),
        capture_mode=privacy.mode.value,
        message_count=len(record.messages),
        messages=messages,
        llm_calls=[_llm(c, privacy) for c in llm_calls] or UNSET,
        tool_calls=[_tool(c, privacy) for c in tools] or UNSET,
        retrievals=[_retrieval(r, privacy) for r in record.retrievals] or UNSET,
        annotations=record.annotations or UNSET,
        sample_rate=record.sample_rate,
    )
    wire: dict[str, Any] = to_wire(event)
    return wire


def span_event(
    *,
    event_id: str,
    timestamp: int,
    distinct_id: str,
    session_id: str,
    parent_span_id: str | None,
    call: CallRecord,
    privacy: Privacy,
    sample_rate: float,
) -> dict[str, Any]:
    event = make(
        models.SpanEvent,
        event_id=event_id,
        type="span",
        name="llm_call" if call.kind == "llm" else "tool_call",
        timestamp=timestamp,
        source=SOURCE,
        sdk_version=__version__,
        distinct_id=distinct_id,
        session_id=session_id,
        span_id=call.span_id,
        parent_span_id=_opt(parent_span_id),
        start_ts=call.start_ts,
        end_ts=call.start_ts + round(call.latency_ms or 0.0),
        latency_ms=round(call.latency_ms or 0.0, 3),
        status=call.status,
        error=_error(privacy, call.error_type, call.error_message),
        llm_call=_llm(call, privacy) if call.kind == "llm" else UNSET,
        tool_call=_tool(call, privacy) if call.kind == "tool" else UNSET,
        sample_rate=sample_rate,
    )
    wire: dict[str, Any] = to_wire(event)
    return wire


def identify_event(
    *,
    event_id: str,
    timestamp: int,
    distinct_id: str,
    anonymous_id: str | None,
    previous_id: str | None,
    session_id: str | None,
    properties: Mapping[str, Any] | None,
) -> dict[str, Any]:
    event = make(
        models.IdentifyEvent,
        event_id=event_id,
        type="identify",
        name="identify",
        timestamp=timestamp,
        source=SOURCE,
        sdk_version=__version__,
        distinct_id=distinct_id,
        anonymous_id=_opt(anonymous_id),
        previous_id=_opt(previous_id),
        session_id=_opt(session_id),
        properties=dict(properties) if properties else UNSET,
    )
    wire: dict[str, Any] = to_wire(event)
    return wire


def ui_event(
    *,
    event_id: str,
    name: str,
    timestamp: int,
    distinct_id: str,
    session_id: str | None,
    turn_id: str | None,
    fields: Mapping[str, Any],
    properties: Mapping[str, Any] | None,
    sample_rate: float,
) -> dict[str, Any]:
    event = make(
        models.UIEvent,
        event_id=event_id,
        type="ui_event",
        name=name,
        timestamp=timestamp,
        source=SOURCE,
        sdk_version=__version__,
        distinct_id=distinct_id,
        session_id=_opt(session_id),
        turn_id=_opt(turn_id),
        input_id=_opt(fields.get("input_id")),
        typing_duration_ms=_opt(fields.get("typing_duration_ms")),
        character_count=_opt(fields.get("character_count")),
        partial_content_hash=_opt(fields.get("partial_content_hash")),
        properties=dict(properties) if properties else UNSET,
        sample_rate=sample_rate,
    )
    wire: dict[str, Any] = to_wire(event)
    return wire


__all__ = [
    "RetrievalRecord",
    "TurnRecord",
    "identify_event",
    "span_event",
    "turn_event",
    "ui_event",
]
