"""GET /openapi.yaml serves the protocol document, or says clearly that it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from lumi.emulator import private
from lumi.emulator.server import Emulator


def test_serves_the_document(emu: Emulator) -> None:
    response = requests.get(emu.url + "/openapi.yaml", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    document = yaml.safe_load(response.text)
    assert document["openapi"].startswith("3.")
    assert "/lm/user/password/login" in document["paths"]


def test_every_documented_path_is_routed(emu: Emulator) -> None:
    document = yaml.safe_load(requests.get(emu.url + "/openapi.yaml", timeout=10).text)
    router = emu.app.router
    for template, item in document["paths"].items():
        path = template.replace("{projectId}", "p1").replace("{entityName}", "e")
        path = path.replace("{id}", "0123456789abcdef01234567").replace("{name}", "f")
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                router.match(path, method.upper())  # raises when not routed


def test_a_missing_document_is_a_clear_error(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def missing(name: str) -> bytes:
        return (tmp_path / name).read_bytes()  # FileNotFoundError, as from a broken install

    monkeypatch.setattr(private, "schema_bytes", missing)
    response = requests.get(emu.url + "/openapi.yaml", timeout=10)
    assert response.status_code == 404
    reply = response.json()
    assert reply["code"] == 10404 and "OpenAPI document is missing" in reply["message"]
