"""Every event lumi.events sends is checked against ``schema/events.schema.json`` (jsonschema)
and against the generated classes of ``lumi/_generated/events.py``: it must structure into the
class of its type and come back unchanged (so no key lacks a field, no field a wire name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from lumi._generated import events as generated
from lumi.errors import LumiError
from lumi.serde import structure, unstructure

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schema" / "events.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
CLASSES: dict[str, type] = {
    "turn": generated.TurnEvent,
    "span": generated.SpanEvent,
    "identify": generated.IdentifyEvent,
    "ui_event": generated.UIEvent,
}


def wire_problems(event: Any) -> list[str]:
    """What is wrong with one sent event ([] when it fits the schema and its class)."""
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '<event>'}: {e.message}"
        for e in VALIDATOR.iter_errors(event)
    ]
    cls = CLASSES.get(event.get("type")) if isinstance(event, dict) else None
    if cls is None:
        return [*problems, f"no generated class for type {event.get('type')!r}"]
    try:
        typed = structure(event, cls)
    except LumiError as exc:
        return [*problems, f"does not structure as {cls.__name__}: {exc}"]
    if unstructure(typed) != event:
        problems.append(f"does not round-trip through {cls.__name__}")
    return problems
