"""The schema files the package ships: the repository's ``schema/``, installed as ``lumi._schema``
(pyproject.toml maps it; an editable install reads ``schema/`` itself)."""

from __future__ import annotations

from importlib import resources

OPENAPI = "lumi.openapi.yaml"
"""The protocol: every operation, its body, its reply and its ``x-lumi-*`` extensions."""
EVENTS = "events.schema.json"
"""The tracked events (JSON Schema)."""


def schema_bytes(name: str) -> bytes:
    """The bytes of one schema file, e.g. ``schema_bytes(OPENAPI)``."""
    return resources.files("lumi._schema").joinpath(name).read_bytes()
