"""``LumiMiddleware``: a client per request, the lazy user, event scoping, LumiError -> JSON."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from lumi.errors import LumiError

from .._common import error_reply
from .conf import get_integration, json_response


class LumiMiddleware:
    """Sets ``request.lumi`` (the request's client, bound to its ``Authorization`` header and
    sharing the app's connection pool), ``request.lumi_user`` (lazy: the user, or None) and
    ``request.lumi_session`` (lazy: the request's events session). Handles the view in the
    tracker's request scope, echoes the ``traceparent``, and answers a ``LumiError`` raised by a
    view as JSON (``settings.LUMI["HANDLE_ERRORS"]``)."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = get_integration().request_state(
            request.META.get("HTTP_AUTHORIZATION"), request.META.get("HTTP_TRACEPARENT")
        )
        request._lumi_state = state
        request.lumi = state.client
        request.lumi_user = SimpleLazyObject(state.user)
        request.lumi_session = SimpleLazyObject(state.events_session)
        state.open_events()
        try:
            response = self.get_response(request)
            traceparent = state.response_traceparent()
            if traceparent is not None and not response.has_header("traceparent"):
                response["traceparent"] = traceparent
            return response
        finally:
            state.close_events()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, LumiError):
            return None
        if not get_integration().settings.handle_errors:
            return None
        return json_response(error_reply(exception))
