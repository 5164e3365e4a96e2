"""``lumi_login_required`` / ``lumi_admin_required`` for function views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest

from .conf import json_response, request_state

F = TypeVar("F", bound=Callable[..., Any])


def lumi_login_required(view: F) -> F:
    """Answer 401 (JSON) unless the request carries a valid Lumi token."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        denied = request_state(request).login_required_reply()
        return json_response(denied) if denied is not None else view(request, *args, **kwargs)

    return cast(F, wrapper)


def lumi_admin_required(view: F) -> F:
    """Answer 401 without a valid token, 403 unless the user's role is ADMIN."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        denied = request_state(request).admin_required_reply()
        return json_response(denied) if denied is not None else view(request, *args, **kwargs)

    return cast(F, wrapper)
