"""Shared test helpers: Node.js (the official JavaScript client is the reference)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Machines here are shared and noisy: no per-example time limit (example counts stay bounded
# per test), and no failure for a slow data generator.
hypothesis_settings.register_profile(
    "lumi", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("lumi")

REPO = Path(__file__).resolve().parent.parent
JS_CACHE = REPO / ".cache" / "js"
JS_SDK_VERSION = "0.4.3"


def _npm_install() -> Path:
    """Install @lumi.new/sdk into .cache/js (ignored by git) once; return that folder."""
    marker = JS_CACHE / "node_modules" / "@lumi.new" / "sdk" / "package.json"
    if not marker.exists():
        JS_CACHE.mkdir(parents=True, exist_ok=True)
        (JS_CACHE / "package.json").write_text('{"name": "lumi-js-reference", "private": true}')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", f"@lumi.new/sdk@{JS_SDK_VERSION}"],
            cwd=JS_CACHE,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return JS_CACHE


class Node:
    """Runs JavaScript snippets with Node; stdin/stdout carry JSON."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def run(self, script: str, payload: Any = None, env: dict[str, str] | None = None) -> Any:
        result = subprocess.run(
            ["node", "--input-type=module", "-e", script],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=self.cwd,
            timeout=120,
            env={**os.environ, **(env or {})},
        )
        if result.returncode != 0:
            raise AssertionError(f"node failed: {result.stderr[-2000:]}")
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def node() -> Node:
    if shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required in CI (the JavaScript client is the reference)")
        pytest.skip("Node.js is not installed")
    return Node(REPO)


@pytest.fixture(scope="session")
def js_sdk(node: Node) -> Node:
    """Node with @lumi.new/sdk installed (scripts run in .cache/js)."""
    if shutil.which("npm") is None:
        pytest.fail("npm is required to install the JavaScript reference client")
    return Node(_npm_install())
