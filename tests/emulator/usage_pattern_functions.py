"""Server functions of the apps in USAGE-PATTERNS.md #50/#51, served by the emulator of
tests/emulator/test_usage_patterns.py (loaded with ``functions=``). The names are the apps' own
(camelCase), as the URL names the function."""

from __future__ import annotations

from typing import Any

import lumi
from lumi.emulator.functions import FunctionRequest


def sendQuoteEmail(request: FunctionRequest) -> Any:
    """Mails a quote through the Lumi client (back into the emulator) and answers ``{success}``."""
    body = request.json if isinstance(request.json, dict) else {}
    email = body.get("email")
    if not isinstance(email, str) or not email:
        return 400, {"error": "email is required"}
    client = lumi.create_client(project_id=request.project_id, api_base_url=request.api_base_url)
    try:
        client.tools.email.send(
            to=email, subject="Your quote", html=f"<p>Quote for {body.get('service')}</p>"
        )
    finally:
        client.close()
    return {"success": True}


def updateIntervenantPassword(request: FunctionRequest) -> Any:
    """Admins only: the caller is the user of the request's own Authorization header."""
    if request.user is None:
        return 401, {"error": "not signed in"}
    if request.user["userRole"] != "ADMIN":
        return 403, {"error": "admins only"}
    body = request.json if isinstance(request.json, dict) else {}
    return {"updatedBy": request.user["email"], "intervenantId": body.get("intervenantId")}
