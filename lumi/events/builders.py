"""The wire dicts of ``schema/events.schema.json``, built directly from what was recorded.

These run on the delivery worker (or before a spool write), never holding the caller: privacy
(masking) happens here, and the dict is encoded once, in :mod:`lumi.events.buffer`. Keys are
the schema's wire names, written as literals (the schema is the one table of them); a test
checks every emitted event against the schema and the generated classes of
``lumi/_generated/events.py``. Optional fields are left out rather than sent as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lumi._version import __version__

from .calls import CallRecord
from .privacy import Privacy

if TYPE_CHECKING:
    from .session import Retrieval, Turn

SOURCE = "lumi-python"
Wire = dict[str, Any]


def _event(event_id: str, kind: str, name: str, timestamp: int, distinct_id: str) -> Wire:
    """The fields every event starts with."""
    return {
        "event_id": event_id,
        "type": kind,
        "name": name,
        "timestamp": timestamp,
        "source": SOURCE,
        "sdk_version": __version__,
        "distinct_id": distinct_id,
    }


def _error(privacy: Privacy, error_type: str, message: str | None) -> Wire:
    out: Wire = {"type": error_type}
    text = privacy.content(message) if message else None
    if text is not None:
        out["message"] = text
    return out


def _llm(call: CallRecord, privacy: Privacy) -> Wire:
    out: Wire = {"span_id": call.span_id}
    meta = call.meta
    if "model" in meta:
        out["model"] = meta["model"]
    if "prompt_id" in meta:
        out["prompt_id"] = meta["prompt_id"]
    out["start_ts"] = call.start_ts
    out["latency_ms"] = round(call.latency_ms or 0.0, 3)
    if call.first_token_ms is not None:
        out["first_token_ms"] = round(call.first_token_ms, 3)
    out["streamed"] = call.streamed
    if call.streamed:
        out["chunk_count"] = call.chunk_count
    out["status"] = call.status
    if call.error_type is not None:
        out["error"] = _error(privacy, call.error_type, call.error_message)
    return out


def _tool(call: CallRecord, privacy: Privacy) -> Wire:
    out: Wire = {"span_id": call.span_id, "name": call.name}
    meta = call.meta
    for key in ("type", "target", "version"):
        if key in meta:
            out[key] = meta[key]
    out["start_ts"] = call.start_ts
    out["latency_ms"] = round(call.latency_ms or 0.0, 3)
    out["status"] = call.status
    if call.error_type is not None:
        out["error"] = _error(privacy, call.error_type, call.error_message)
    return out


def _retrieval(record: Retrieval, privacy: Privacy) -> Wire:
    out: Wire = {"source": record.source}
    if record.query is not None:
        query = privacy.content(record.query)
        if query is not None:
            out["query"] = query
    out["ts"] = record.ts
    results = []
    for rid, score, content in record.results:
        item: Wire = {"id": rid}
        if score is not None:
            item["score"] = score
        if content is not None:
            text = privacy.content(content)
            if text is not None:
                item["content"] = text
        results.append(item)
    out["results"] = results
    return out


def turn_event(turn: Turn, privacy: Privacy, sample_rate: float) -> Wire:
    """A finished turn (its state no longer changes) as a ``TurnEvent``."""
    session = turn.session
    event = _event(turn.event_id, "turn", "turn", turn.end_ts, turn.distinct_id)
    event["session_id"] = session.session_id
    event["turn_id"] = turn.turn_id
    event["turn_seq"] = turn.seq
    if session.parent_span_id is not None:
        event["parent_span_id"] = session.parent_span_id
    event["traceparent"] = turn.traceparent
    event["start_ts"] = turn.start_ts
    event["end_ts"] = turn.end_ts
    event["latency_ms"] = round(turn.latency_ms, 3)
    llm_latency = turn.llm_latency_ms
    if llm_latency is not None:
        event["llm_latency_ms"] = round(llm_latency, 3)
    calls = turn.calls
    llm_calls = [c for c in calls if c.kind == "llm"]
    event["status"] = turn.status
    error = turn.error
    if error is not None:
        event["error"] = _error(privacy, *error)
    if llm_calls:
        last = llm_calls[-1].meta
        if "model" in last:
            event["model"] = last["model"]
        if "prompt_id" in last:
            event["prompt_id"] = last["prompt_id"]
    event["capture_mode"] = privacy.mode.value
    messages = turn.messages
    event["message_count"] = len(messages)
    if privacy.sends_content:
        event["messages"] = [
            {"role": role, "content": privacy.content(content) or ""} for role, content in messages
        ]
    if llm_calls:
        event["llm_calls"] = [_llm(c, privacy) for c in llm_calls]
    tools = [c for c in calls if c.kind == "tool"]
    if tools:
        event["tool_calls"] = [_tool(c, privacy) for c in tools]
    if turn.retrievals:
        event["retrievals"] = [_retrieval(r, privacy) for r in turn.retrievals]
    annotations = turn.annotations
    if annotations:
        event["annotations"] = dict(annotations)
    event["sample_rate"] = sample_rate
    return event


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
) -> Wire:
    """An LLM or tool call made outside any turn, as a ``SpanEvent``."""
    latency = call.latency_ms or 0.0
    name = "llm_call" if call.kind == "llm" else "tool_call"
    event = _event(event_id, "span", name, timestamp, distinct_id)
    event["session_id"] = session_id
    event["span_id"] = call.span_id
    if parent_span_id is not None:
        event["parent_span_id"] = parent_span_id
    event["start_ts"] = call.start_ts
    event["end_ts"] = call.start_ts + round(latency)
    event["latency_ms"] = round(latency, 3)
    event["status"] = call.status
    if call.error_type is not None:
        event["error"] = _error(privacy, call.error_type, call.error_message)
    if call.kind == "llm":
        event["llm_call"] = _llm(call, privacy)
    else:
        event["tool_call"] = _tool(call, privacy)
    event["sample_rate"] = sample_rate
    return event


def identify_event(
    *,
    event_id: str,
    timestamp: int,
    distinct_id: str,
    anonymous_id: str | None,
    previous_id: str | None,
    session_id: str | None,
    properties: Mapping[str, Any] | None,
) -> Wire:
    """``identify()`` as an ``IdentifyEvent`` (links the anonymous id to the user)."""
    event = _event(event_id, "identify", "identify", timestamp, distinct_id)
    if anonymous_id is not None:
        event["anonymous_id"] = anonymous_id
    if previous_id is not None:
        event["previous_id"] = previous_id
    if session_id is not None:
        event["session_id"] = session_id
    if properties:
        event["properties"] = dict(properties)
    return event


#: The UI event fields a caller may set (``capture_ui_event(name, **fields)``).
UI_FIELDS = (
    "input_id",
    "message_id",
    "typing_duration_ms",
    "character_count",
    "partial_content_hash",
)


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
) -> Wire:
    """A UI event (chat input activity, ...) as a ``UIEvent``."""
    event = _event(event_id, "ui_event", name, timestamp, distinct_id)
    if session_id is not None:
        event["session_id"] = session_id
    if turn_id is not None:
        event["turn_id"] = turn_id
    for key in UI_FIELDS:
        value = fields.get(key)
        if value is not None:
            event[key] = value
    if properties:
        event["properties"] = dict(properties)
    event["sample_rate"] = sample_rate
    return event


__all__ = ["SOURCE", "UI_FIELDS", "identify_event", "span_event", "turn_event", "ui_event"]
