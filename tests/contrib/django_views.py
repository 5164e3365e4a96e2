"""Test-only Django views: raise each LumiError; a probe of the per-request state."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from lumi.contrib.django import (
    get_integration,
    get_lumi_user,
    lumi_admin_required,
    lumi_login_required,
)

from .error_cases import ERROR_CASES


def raise_error(request: HttpRequest, kind: str) -> JsonResponse:
    raise ERROR_CASES[kind][0]()


@lumi_login_required
def probe(request: HttpRequest) -> JsonResponse:
    """Who the request is: the user (asked three times: fetched once), the client's token, the
    events identity; records one turn whose content is the caller's claimed name."""
    for _ in range(3):
        user = get_lumi_user(request)
    assert user is not None and request.lumi_user.user_id == user.user_id
    tracker = get_integration().tracker
    assert tracker is not None
    with request.lumi_session.turn() as turn:
        turn.set_messages([{"role": "user", "content": request.GET.get("who", "")}])
    header = request.headers.get("Authorization", "")
    return JsonResponse(
        {
            "user_id": user.user_id,
            "email": user.email,
            "token_matches": request.lumi.auth.access_token == header.removeprefix("Bearer "),
            "distinct_id": tracker.get_distinct_id(),
            "session_id": turn.session.session_id,
        }
    )


@lumi_admin_required
def admin_only(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"admin": True})


def anonymous(request: HttpRequest) -> JsonResponse:
    """No login needed: the user is None and the client has no token."""
    return JsonResponse(
        {
            "user_is_none": get_lumi_user(request) is None,
            "lazy_user_falsy": not request.lumi_user,
            "authenticated": request.lumi.auth.is_authenticated,
        }
    )
