"""Property-based conformance: schemathesis generates requests from schema/lumi.openapi.yaml and
the in-process emulator must answer every one of them without a 5xx and as the schema says
(documented status code, content type, body schema).

Each request is signed over the exact bytes sent: the JSON body is serialised once here, the
three signature headers are computed over those bytes, and those bytes are what goes out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from lumi.client import create_client
from lumi.emulator.envelope import BAD_SIGNATURE
from lumi.emulator.server import Emulator
from lumi.signing import sign_headers
from lumi.sse import iter_events

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "schema" / "lumi.openapi.yaml"
FUNCTIONS_FILE = Path(__file__).resolve().parent / "sample_functions.py"
PID = "p_fuzz"
OTP = "123456"
API_KEY = "gi_fuzz_key"
EMAIL = "fuzzer@example.com"
PASSWORD = "fuzz-password"

SCHEMA = schemathesis.openapi.from_path(SCHEMA_PATH)
# Project-scoped operations run in the project of the signed-in user, so that the bearer token
# is accepted and the cases reach the handlers instead of all stopping at "wrong project".
# Functions run the sample `echo`: an unknown name is only ever a 404.
SCHEMA.config.update(parameters={"path.projectId": PID, "path.name": "echo"})


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context: schemathesis.SerializationContext, value: Any) -> bytes:
    """The events ingest body: the generated text as UTF-8 (a negative case may not be text)."""
    return value.encode() if isinstance(value, str) else _json_bytes(value)


SCHEMA_CHECK = schemathesis.checks.response_schema_conformance
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    SCHEMA_CHECK,
]


def _component_validator(name: str) -> jsonschema.Draft202012Validator:
    document = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        "urn:lumi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:lumi#/components/schemas/{name}"}, registry=registry
    )


STREAM_CHUNK = _component_validator("StreamChunk")


def check_stream_frames(body: bytes) -> None:
    """Every frame of a generateTextStream reply decodes to a valid StreamChunk."""
    events = list(iter_events([body]))
    assert events, body
    for event in events:
        chunk: dict[str, Any] = {"data": json.loads(event.data)}
        if event.event is not None:
            chunk["event"] = event.event
        STREAM_CHUNK.validate(chunk)


class Target:
    """The emulator under test, a signed-in user's token and an HTTP session."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.emulator = emulator
        self.token = token
        self.http = requests.Session()


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with Emulator(fixed_otp=OTP, functions=FUNCTIONS_FILE, api_key=API_KEY) as emulator:
        client = create_client(project_id=PID, api_base_url=emulator.url)
        try:
            client.auth.send_otp(email=EMAIL, type="register")
            result = client.auth.sign_up_with_password(email=EMAIL, password=PASSWORD, otp=OTP)
        finally:
            client.close()
        state = Target(emulator, result.access_token)
        try:
            yield state
        finally:
            state.http.close()


def _json_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):  # a negative case: raw bytes instead of JSON, sent as they are
        return body
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _is_positive(case: schemathesis.Case) -> bool:
    return case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE


def send(case: schemathesis.Case, target: Target) -> Any:
    operation = case.operation.definition.raw
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    body: bytes | None = None
    if operation.get("x-lumi-signed"):
        if not isinstance(case.body, NotSet) and case.media_type == "application/json":
            body = _json_bytes(case.body)
            kwargs["data"] = body
        headers.update(sign_headers(case.query or None, body))
        headers["Authorization"] = f"Bearer {target.token}"
    elif case.operation.path == "/collect/sdk/events":
        headers["X-Api-Key"] = API_KEY
    return case.call(base_url=target.emulator.url, session=target.http, headers=headers, **kwargs)


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_emulator_conforms_to_the_schema(case: schemathesis.Case, target: Target) -> None:
    response = send(case, target)
    if response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        # The document (OpenAPI 3.1) types the stream body as a plain string, while schemathesis
        # reads an event-stream `schema` as the schema of ONE parsed event ({data, event, ...}),
        # so its body check cannot apply; the frames are checked against StreamChunk instead.
        case.validate_response(response, checks=[c for c in CHECKS if c is not SCHEMA_CHECK])
        check_stream_frames(response.content)
        return
    case.validate_response(response, checks=CHECKS)
    if case.operation.definition.raw.get("x-lumi-signed") and _is_positive(case):
        # A valid request is signed correctly, so it always gets past the signature gate.
        assert response.json()["code"] != BAD_SIGNATURE, response.content
