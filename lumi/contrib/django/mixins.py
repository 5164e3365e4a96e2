"""Class-based view mixins: put them first, ``class V(LumiLoginRequiredMixin, View)``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from .conf import json_response, request_state


class LumiLoginRequiredMixin:
    """Answer 401 (JSON) unless the request carries a valid Lumi token."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        denied = request_state(request).login_required_reply()
        if denied is not None:
            return json_response(denied)
        parent: Any = super()
        return parent.dispatch(request, *args, **kwargs)


class LumiAdminRequiredMixin:
    """Answer 401 without a valid token, 403 unless the user's role is ADMIN."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        denied = request_state(request).admin_required_reply()
        if denied is not None:
            return json_response(denied)
        parent: Any = super()
        return parent.dispatch(request, *args, **kwargs)
