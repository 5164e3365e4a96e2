"""The emulator console: web pages at ``/_emulator/ui/`` that show what an app did.

Entities, users and one-time codes, sent mail, uploaded files and the AI-conversation events,
each a view of the navigation bar. Pages are rendered on the server (Jinja2, autoescaped: every
value an app stored is text, never markup) with charts as inline SVG; one small script
(``static/console.js``) refreshes a view when the emulator's state changes and asks before a
delete. Nothing is loaded from anywhere but the emulator, and a strict Content-Security-Policy
says so to the browser.

The console sits behind the private routes' protection (:mod:`lumi.emulator.access`): the
per-run token, as the cookie that ``Emulator.console_url`` (``/_emulator/login?token=...&next=
/_emulator/ui/``) sets; a change (a form POST) must also carry the emulator's own ``Origin``.

This module stays free of imports so that :mod:`lumi.emulator.server` reads the path cheaply.
"""

from __future__ import annotations

#: Where the console is served.
CONSOLE_PATH = "/_emulator/ui/"
