"""Headless Chromium for the console tests: the system's browser and chromedriver (Debian packages
``chromium`` and ``chromium-driver``), driven by selenium, with every request the pages make
recorded from the DevTools performance log.

Without the browser the tests skip and say why; with ``CI`` set they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("LUMI_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LUMI_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "console"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
#: Schemes whose URLs never reach the network (the browser's own pages and inline data).
LOCAL_SCHEMES = frozenset({"data", "about", "blob", "chrome", "chrome-untrusted", "devtools"})
NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: Why the browser tests did not run (reported at the end of the session).
SKIPPED: list[str] = []


def missing() -> str | None:
    """What is missing for the browser tests, or None."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        absent.append("the selenium package (pip install 'lumi-sdk[test]')")
    if absent:
        return f"headless Chromium is not available: missing {', '.join(absent)} ({INSTALL_HINT})"
    return None


def require_browser() -> None:
    """Skip (or, under CI, fail) when the browser cannot run."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the console browser tests: {reason}", pytrace=False)
    SKIPPED.append(reason)
    pytest.skip(f"console browser tests skipped: {reason}")


@dataclass
class Traffic:
    """The requests the browser made, from the DevTools performance log."""

    sent: dict[str, str] = field(default_factory=dict)  # request id -> URL
    blocked: dict[str, str] = field(default_factory=dict)  # request id -> why (csp, ...)

    def take(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                self.sent[params["requestId"]] = params["request"]["url"]
            elif message.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
                self.blocked[params["requestId"]] = params["blockedReason"]

    def made(self) -> list[str]:
        """URLs of the requests that went out (the browser's own blocks left out)."""
        return [url for rid, url in self.sent.items() if rid not in self.blocked]

    def off_machine(self) -> list[str]:
        """Requests that left the loopback interface: any URL of a network scheme to another
        host, and any URL of a scheme not known to stay inside the browser."""
        out = []
        for url in self.made():
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.scheme not in NETWORK_SCHEMES or parts.hostname not in LOOPBACK:
                out.append(url)
        return out


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium session with a fresh profile; ``driver.traffic`` records requests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # selenium never looks for a driver online
    profile = tempfile.mkdtemp(prefix="lumi-console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    options.unhandled_prompt_behavior = "ignore"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.traffic = Traffic()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def collect(driver: Any) -> Traffic:
    """Read the performance log into ``driver.traffic`` (the log empties on each read)."""
    traffic: Traffic = driver.traffic
    traffic.take(driver.get_log("performance"))
    return traffic


def drain(driver: Any) -> None:
    """Forget what earlier tests left in the logs."""
    driver.get_log("browser")
    driver.traffic = Traffic()
    driver.get_log("performance")


def console_errors(driver: Any) -> list[str]:
    """Messages the pages logged at error level (a CSP violation is one)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
