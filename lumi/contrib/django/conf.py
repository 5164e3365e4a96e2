"""``settings.LUMI`` -> the process's :class:`~lumi.contrib._common.LumiIntegration`, built on
first use and rebuilt when the setting changes (``override_settings`` in tests)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.http import HttpRequest, JsonResponse

from .._common import ErrorReply, LumiIntegration, LumiSettings, RequestState

if TYPE_CHECKING:
    from lumi._generated.models import User

_lock = threading.Lock()
_integration: LumiIntegration | None = None


def get_integration() -> LumiIntegration:
    """The shared client and tracker built from ``settings.LUMI``."""
    global _integration
    found = _integration
    if found is not None:
        return found
    with _lock:
        if _integration is None:
            values = getattr(settings, "LUMI", {})
            if not isinstance(values, dict):
                raise ImproperlyConfigured("settings.LUMI must be a dict of Lumi settings")
            _integration = LumiIntegration(
                LumiSettings.from_mapping(values, lambda name: f"settings.LUMI[{name!r}]")
            )
        return _integration


def _reset(*, setting: str, **_: Any) -> None:
    global _integration
    if setting != "LUMI":
        return
    with _lock:
        old, _integration = _integration, None
    if old is not None:
        old.close()


setting_changed.connect(_reset, dispatch_uid="lumi.contrib.django.conf")


def request_state(request: HttpRequest) -> RequestState:
    """The Lumi state the middleware attached to ``request``."""
    state = getattr(request, "_lumi_state", None)
    if not isinstance(state, RequestState):
        raise ImproperlyConfigured(
            "request has no Lumi state: add 'lumi.contrib.django.middleware.LumiMiddleware' "
            "to settings.MIDDLEWARE"
        )
    return state


def get_lumi_user(request: HttpRequest) -> User | None:
    """The signed-in user of ``request`` (fetched once), or None: ``request.lumi_user`` without
    the lazy wrapper, for an ``is None`` test."""
    return request_state(request).user()


def json_response(reply: ErrorReply) -> JsonResponse:
    response = JsonResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response
