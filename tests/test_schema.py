"""schema/lumi.openapi.yaml: a valid OpenAPI 3.1 document that states every fact of the protocol
the client, the generator and the emulator rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from lumi._resources import OPENAPI, schema_bytes

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "schema" / "lumi.openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch")

BRIEF_OPERATION_IDS = {
    "signInWithPassword",
    "sendOtp",
    "signUpWithPassword",
    "resetPassword",
    "getUserInfo",
    "listDocuments",
    "listDocumentsByPage",
    "getDocument",
    "createDocument",
    "createDocuments",
    "updateDocument",
    "deleteDocument",
    "deleteDocuments",
    "sendEmail",
    "uploadFiles",
    "deleteFiles",
    "generateText",
    "generateTextStream",
    "createImageTask",
    "getImageTask",
    "invokeFunctionGet",
    "invokeFunctionPost",
    "invokeFunctionPut",
    "invokeFunctionPatch",
    "invokeFunctionDelete",
    "ingestEvents",
}
UNSAFE = {
    "createDocument",
    "createDocuments",
    "sendEmail",
    "sendOtp",
    "signUpWithPassword",
    "resetPassword",
    "uploadFiles",
    "generateText",
    "generateTextStream",
    "createImageTask",
    "invokeFunctionPost",
    "invokeFunctionPatch",
    "ingestEvents",
}
NOT_ENVELOPED = {
    "invokeFunctionGet",
    "invokeFunctionPost",
    "invokeFunctionPut",
    "invokeFunctionPatch",
    "invokeFunctionDelete",
    "ingestEvents",
}
COMPONENTS = {
    "Envelope",
    "User",
    "UserWithToken",
    "SignInResult",
    "SignInRequest",
    "SendOtpRequest",
    "SignUpRequest",
    "ResetPasswordRequest",
    "ListRequest",
    "ListByPageRequest",
    "UpdateRequest",
    "EmailSendRequest",
    "FileDeleteRequest",
    "ChatRequest",
    "ImagePollRequest",
    "Record",
    "Page",
    "Message",
    "MessageMedia",
    "GenerateTextResult",
    "StreamChunk",
    "GenerateImageResult",
    "UploadItem",
    "IngestResult",
    "IngestLineError",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    return loaded


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                assert operation["operationId"] not in found, operation["operationId"]
                found[operation["operationId"]] = (method, path, operation)
    return found


def component_validator(document: dict[str, Any], name: str) -> jsonschema.Validator:
    """A JSON Schema validator for one component, with the document's $refs resolvable."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:lumi", resource)
    schema = {"$ref": f"urn:lumi#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_are_exactly_the_briefs(document: dict[str, Any]) -> None:
    assert set(operations(document)) == BRIEF_OPERATION_IDS


def test_every_operation_declares_retry_envelope_and_signing(document: dict[str, Any]) -> None:
    for operation_id, (method, _path, operation) in operations(document).items():
        assert operation["x-lumi-retry"] in ("safe", "unsafe"), operation_id
        assert isinstance(operation["x-lumi-envelope"], bool), operation_id
        assert isinstance(operation["x-lumi-signed"], bool), operation_id
        expected_retry = "unsafe" if operation_id in UNSAFE else "safe"
        assert operation["x-lumi-retry"] == expected_retry, operation_id
        enveloped = operation_id not in NOT_ENVELOPED
        assert operation["x-lumi-envelope"] is enveloped, operation_id
        # Exactly the enveloped operations are signed (docs/protocol.md §2 and §6).
        assert operation["x-lumi-signed"] is enveloped, operation_id
        if method in ("get", "put", "delete"):
            assert operation["x-lumi-retry"] == "safe", operation_id


def test_paths_and_methods_follow_the_protocol(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert ops["signInWithPassword"][:2] == ("post", "/lm/user/password/login")
    assert ops["getUserInfo"][:2] == ("post", "/lm/user/info")
    assert ops["listDocuments"][:2] == ("post", "/lm/{projectId}/{entityName}/documents/list")
    assert ops["getDocument"][:2] == ("get", "/lm/{projectId}/{entityName}/documents/{id}")
    assert ops["updateDocument"][:2] == ("put", "/lm/{projectId}/{entityName}/documents")
    assert ops["deleteDocuments"][:2] == (
        "delete",
        "/lm/{projectId}/{entityName}/documents/batch-by-ids",
    )
    assert ops["uploadFiles"][:2] == ("post", "/lm/{projectId}/file/batch")
    assert ops["deleteFiles"][:2] == ("delete", "/lm/{projectId}/file/batch")
    assert ops["getImageTask"][:2] == ("post", "/lm/{projectId}/ai/image/get")
    assert ops["ingestEvents"][:2] == ("post", "/collect/sdk/events")
    for method in METHODS:
        operation_id = "invokeFunction" + method.capitalize()
        assert ops[operation_id][:2] == (method, "/v1/functions/{projectId}/{name}")


def test_special_bodies_and_replies(document: dict[str, Any]) -> None:
    ops = operations(document)
    upload = ops["uploadFiles"][2]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["files"]
    stream = ops["generateTextStream"][2]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
    ingest = ops["ingestEvents"][2]
    assert list(ingest["requestBody"]["content"]) == ["application/x-ndjson"]
    assert ingest["security"] == [{"eventsApiKey": []}]
    assert document["components"]["securitySchemes"]["eventsApiKey"]["name"] == "X-Api-Key"
    reply = ingest["responses"]["200"]["content"]["application/json"]["schema"]
    assert reply == {"$ref": "#/components/schemas/IngestResult"}
    ids = next(p for p in ops["deleteDocuments"][2]["parameters"] if p.get("name") == "ids")
    assert (ids["in"], ids["style"], ids["explode"]) == ("query", "form", True)


def test_every_enveloped_reply_is_an_envelope(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for operation_id, (_method, _path, operation) in operations(document).items():
        if not operation["x-lumi-envelope"]:
            continue
        reply = operation["responses"]["200"]
        reply = responses[reply["$ref"].rsplit("/", 1)[1]] if "$ref" in reply else reply
        schema = reply["content"]["application/json"]["schema"]
        refs = [schema.get("$ref")] + [part.get("$ref") for part in schema.get("allOf", [])]
        assert "#/components/schemas/Envelope" in refs, operation_id


def test_components_of_the_brief_exist_and_are_json_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas) >= COMPONENTS
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema.get("description"), f"{name} has no description"
        for prop, sub in schema.get("properties", {}).items():
            assert sub.get("description"), f"{name}.{prop} has no description"


def test_component_details(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["User"]["properties"]["userRole"]["enum"] == ["ADMIN", "USER"]
    assert schemas["User"]["properties"]["createdTime"]["type"] == ["string", "integer"]
    assert schemas["SendOtpRequest"]["properties"]["emailType"]["enum"] == [
        "register",
        "resetPassword",
    ]
    assert schemas["SignUpRequest"]["required"] == ["projectId", "email", "password", "code"]
    assert schemas["EmailSendRequest"]["properties"]["text"]["default"] == ""
    assert schemas["Message"]["properties"]["role"]["enum"] == ["system", "user", "assistant"]
    assert schemas["Record"]["x-lumi-base"] == "lumi.model.RecordAccess"
    assert schemas["Record"]["properties"]["creator"]["type"] == ["string", "null"]
    secrets = {
        (name, prop)
        for name, schema in schemas.items()
        for prop, sub in schema.get("properties", {}).items()
        if sub.get("x-lumi-secret") is True
    }
    assert secrets == {
        ("UserWithToken", "userToken"),
        ("SignInResult", "accessToken"),
        ("SignInRequest", "password"),
        ("SignUpRequest", "password"),
        ("ResetPasswordRequest", "newPassword"),
        ("ChatRequest", "lumiApiKey"),
        ("ImagePollRequest", "lumiApiKey"),
    }
    status = schemas["GenerateImageResult"]["properties"]["generationStatus"]
    assert status["type"] == "string" and "enum" not in status  # open set of states
    assert {"PROCESSING", "SUCCESS", "FAILED"} <= set(status["x-lumi-known-values"])


def test_component_schemas_accept_and_reject_real_payloads(document: dict[str, Any]) -> None:
    record = component_validator(document, "Record")
    record.validate({"_id": "6939311e8458665713e0b522", "creator": None, "title": "kept"})
    assert not record.is_valid({"_id": "not-an-object-id"})
    assert not record.is_valid({"title": "no id"})
    user = component_validator(document, "UserWithToken")
    user.validate(
        {"userId": "u1", "email": "a@b.c", "userRole": "USER", "createdTime": 1, "userToken": "t"}
    )
    assert not user.is_valid({"userId": "u1", "email": "a@b.c", "userRole": "ROOT"})
    page = component_validator(document, "Page")
    page.validate({"list": [{"_id": "6939311e8458665713e0b522"}], "total": 1})
    sign_in = component_validator(document, "SignInRequest")
    assert not sign_in.is_valid({"projectId": "p", "email": "e", "password": "clear text"})
    assert not sign_in.is_valid(
        {"projectId": "p", "email": "e", "password": "0" * 64, "unknown": 1}
    )
    ingest = component_validator(document, "IngestResult")
    ingest.validate({"accepted": 2, "duplicates": 1, "errors": [{"line": 3, "message": "bad"}]})
    assert not ingest.is_valid({"accepted": 1, "duplicates": 0, "errors": [{"line": 0}]})


def test_the_package_reads_the_one_schema_file() -> None:
    # schema/ is the only copy: the package reads it as lumi._schema (tests/test_packaging.py
    # checks the wheel has it there).
    assert not (REPO / "lumi" / "_schema").exists()
    assert schema_bytes(OPENAPI) == SCHEMA.read_bytes()


def test_ingest_names_the_event_schema_that_exists(document: dict[str, Any]) -> None:
    item_schema = operations(document)["ingestEvents"][2]["x-lumi-item-schema"]
    events = REPO / "schema" / item_schema
    if not events.exists():
        pytest.skip("schema/events.schema.json is not written yet")
    jsonschema.Draft202012Validator.check_schema(json.loads(events.read_text(encoding="utf-8")))
