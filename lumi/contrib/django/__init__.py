"""Django integration: add ``"lumi.contrib.django"`` to ``INSTALLED_APPS`` (for the ``lumi``
management command) and ``"lumi.contrib.django.middleware.LumiMiddleware"`` to ``MIDDLEWARE``.

Settings: ``LUMI = {"PROJECT_ID": ..., "API_BASE_URL": ..., "AUTH_ORIGIN": ..., "API_KEY": ...,
"TIMEOUT": ..., "RETRY": ..., "RATE_LIMIT": ..., "EVENTS_ENDPOINT": ..., "EVENTS_WRITE_KEY": ...,
"EVENTS_OPTIONS": {...} or "EVENTS_TRACKER": tracker, "ECHO_TRACEPARENT": True,
"HANDLE_ERRORS": True}``. The middleware gives each request ``request.lumi`` (its client),
``request.lumi_user`` and ``request.lumi_session`` (both lazy). Sync views only.
"""

from __future__ import annotations

from lumi._extras import optional_imports

with optional_imports("django", "lumi.contrib.django"):
    from .conf import get_integration, get_lumi_user
    from .decorators import lumi_admin_required, lumi_login_required
    from .mixins import LumiAdminRequiredMixin, LumiLoginRequiredMixin

__all__ = [
    "LumiAdminRequiredMixin",
    "LumiLoginRequiredMixin",
    "get_integration",
    "get_lumi_user",
    "lumi_admin_required",
    "lumi_login_required",
]
