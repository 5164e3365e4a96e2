"""Helpers for the console's HTTP tests: a signed-in browser-like session, and an HTML check that
nothing an app stored became markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from lumi.emulator import Emulator

UI = "/_emulator/ui"


class Page(HTMLParser):
    """The tags of a page, and the text of elements by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None

    def link(self, text: str) -> str | None:
        return next((href for href, label in self.links if label == text), None)

    def field(self, name: str) -> str | None:
        for tag, attrs in self.tags:
            if tag == "input" and attrs.get("name") == name:
                return attrs.get("value")
        return None


def assert_inert(html: str) -> Page:
    """No script but the console's own, no event-handler attribute, no foreign resource."""
    page = Page(html)
    for tag, attrs in page.tags:
        if tag == "script":
            assert (attrs.get("src") or "").startswith(UI + "/static/"), attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            if name in ("src", "href", "action") and value:
                assert not re.match(r"(?i)\s*(javascript|vbscript):", value), (tag, attrs)
                assert not re.match(r"(?i)\s*(https?:)?//", value) or value.startswith(
                    "http://127.0.0.1"
                ), (tag, attrs)
    return page


def textarea(html: str, element_id: str) -> str:
    """The text of a textarea (unescaped)."""
    import html as html_module

    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, element_id
    return html_module.unescape(found.group(1))


class Console:
    """A browser-like session: the login cookie, and the emulator's own Origin on changes."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.http = requests.Session()
        reply = self.http.get(emu.console_url, allow_redirects=False, timeout=10)
        assert reply.status_code == 303, reply.text

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), allow_redirects=False, timeout=30, **kwargs)

    def post(
        self, path: str, data: dict[str, str], origin: str | None = "own"
    ) -> requests.Response:
        headers = {} if origin is None else {"Origin": self.emu.url if origin == "own" else origin}
        return self.http.post(
            self.url(path), data=data, headers=headers, allow_redirects=False, timeout=30
        )

    def url(self, path: str) -> str:
        return urljoin(self.emu.url, path if path.startswith("/") else f"{UI}/{path}")
