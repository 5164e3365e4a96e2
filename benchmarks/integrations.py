"""What the Flask and Django integrations add to a request whose view does one ``entities.get``.

Each side is the whole WSGI request (the app called with a prepared environ, the body read),
the view fetching one document from the same local server:

- baseline: the framework alone; the view builds ``shared.for_request(Authorization)`` by hand;
- integration: ``Lumi(app)`` / ``LumiMiddleware``; the view uses ``current_lumi()`` /
  ``request.lumi``;
- integration + events: the same with a tracker, so each request also enters and leaves the
  tracker's request scope (no event is recorded by the view).

The loopback HTTP exchange dominates and is noisy on a shared machine, so the same three are also
timed with a view that only takes the request's client (``/client``: no backend call), which
shows the integration's own fixed cost per request.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from werkzeug.test import EnvironBuilder

import lumi
from lumi.contrib.flask import Lumi, current_lumi
from lumi.events import Tracker
from tests.support.recorder import RecordingServer

from ._timing import compare, report

DOC_ID = "6939311e8458665713e0b522"
DOC = {"_id": DOC_ID, "title": "Hello", "views": 3, "tags": ["a", "b"]}
ENVELOPE = json.dumps({"code": 200, "message": "success", "data": DOC}).encode()
AUTHORIZATION = "Bearer tok_benchmark"
ROUNDS = 11
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _respond(_request: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, ENVELOPE


def _caller(app: WSGIApp, path: str) -> Callable[[], object]:
    """One whole WSGI request per call: a fresh copy of a prepared environ, the body read."""
    environ = EnvironBuilder(path=path, headers={"Authorization": AUTHORIZATION}).get_environ()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}")

    def call() -> object:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(b"")
        result = app(env, start_response)
        try:
            return b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    return call


# -- Flask -----------------------------------------------------------------------------------
def _flask_baseline(base_url: str) -> Flask:
    app = Flask("baseline")
    shared = lumi.create_client(project_id="p1", api_base_url=base_url, rate_limit=None)

    @app.get("/doc")
    def doc() -> Any:
        client = shared.for_request(request.headers.get("Authorization"))
        return {"title": client.entities.Notes.get(DOC_ID)["title"]}  # type: ignore[index]

    @app.get("/client")
    def client_only() -> Any:
        client = shared.for_request(request.headers.get("Authorization"))
        return {"project": client.project_id}

    return app


def _flask_integration(base_url: str, tracker: Tracker | None) -> Flask:
    app = Flask("integration")
    app.config.update(
        LUMI_PROJECT_ID="p1",
        LUMI_API_BASE_URL=base_url,
        LUMI_RATE_LIMIT=None,
        LUMI_EVENTS_TRACKER=tracker,
    )
    Lumi(app)

    @app.get("/doc")
    def doc() -> Any:
        return {"title": current_lumi().entities.Notes.get(DOC_ID)["title"]}  # type: ignore[index]

    @app.get("/client")
    def client_only() -> Any:
        return {"project": current_lumi().project_id}

    return app


def flask_rows(base_url: str, tracker: Tracker, calls: int, path: str) -> list[tuple[str, float]]:
    apps = {
        "Flask, shared.for_request by hand": _flask_baseline(base_url),
        "Flask + Lumi(app)": _flask_integration(base_url, None),
        "Flask + Lumi(app) + events scope": _flask_integration(base_url, tracker),
    }
    return compare({name: _caller(app, path) for name, app in apps.items()}, calls, ROUNDS)


# -- Django ----------------------------------------------------------------------------------
_django_shared: list[lumi.LumiClient] = []


def _django_baseline_view(req: Any) -> Any:
    from django.http import JsonResponse

    client = _django_shared[0].for_request(req.META.get("HTTP_AUTHORIZATION"))
    return JsonResponse({"title": client.entities.Notes.get(DOC_ID)["title"]})  # type: ignore[index]


def _django_integration_view(req: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"title": req.lumi.entities.Notes.get(DOC_ID)["title"]})


def _django_baseline_client(req: Any) -> Any:
    from django.http import JsonResponse

    client = _django_shared[0].for_request(req.META.get("HTTP_AUTHORIZATION"))
    return JsonResponse({"project": client.project_id})


def _django_integration_client(req: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"project": req.lumi.project_id})


def _django_urls() -> list[Any]:
    from django.urls import path

    return [
        path("base/doc", _django_baseline_view),
        path("lumi/doc", _django_integration_view),
        path("base/client", _django_baseline_client),
        path("lumi/client", _django_integration_client),
    ]


def django_rows(base_url: str, tracker: Tracker, calls: int, path: str) -> list[tuple[str, float]]:
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="benchmark",
            ALLOWED_HOSTS=["localhost"],
            ROOT_URLCONF=__name__,
            DATABASES={},
            MIDDLEWARE=[],
            LOGGING_CONFIG=None,
        )
        django.setup()
    _django_shared[:] = [
        lumi.create_client(project_id="p1", api_base_url=base_url, rate_limit=None)
    ]
    lumi_settings = {"PROJECT_ID": "p1", "API_BASE_URL": base_url, "RATE_LIMIT": None}
    middleware = ["lumi.contrib.django.middleware.LumiMiddleware"]
    baseline = WSGIHandler()  # built under MIDDLEWARE=[]: no Lumi at all
    with override_settings(MIDDLEWARE=middleware, ROOT_URLCONF=__name__, LUMI=lumi_settings):
        plain = WSGIHandler()
        rows = compare(
            {
                "Django, shared.for_request by hand": _caller(baseline, f"/base{path}"),
                "Django + LumiMiddleware": _caller(plain, f"/lumi{path}"),
            },
            calls,
            ROUNDS,
        )
    with override_settings(
        MIDDLEWARE=middleware,
        ROOT_URLCONF=__name__,
        LUMI={**lumi_settings, "EVENTS_TRACKER": tracker},
    ):
        scoped = WSGIHandler()
        rows += compare(
            {
                "Django, shared.for_request by hand (again)": _caller(baseline, f"/base{path}"),
                "Django + LumiMiddleware + events scope": _caller(scoped, f"/lumi{path}"),
            },
            calls,
            ROUNDS,
        )
    return rows


def __getattr__(name: str) -> Any:
    # Django reads ``urlpatterns`` from the ROOT_URLCONF module (this one) on first request.
    if name == "urlpatterns":
        return _django_urls()
    raise AttributeError(name)


def main(calls: int = 200) -> None:
    with RecordingServer(_respond) as server:
        # A tracker that could send (an endpoint is set) but records nothing here: what is
        # measured is entering and leaving its per-request scope.
        tracker = Tracker(endpoint=server.url, write_key="wk", persist_identity=False)
        try:
            for path, what in (("/doc", "one entities.get"), ("/client", "no backend call")):
                flask = flask_rows(server.url, tracker, calls, path)
                django_ = django_rows(server.url, tracker, calls, path)
                report(f"Flask, {what} per request (whole WSGI request)", flask, flask[0][0])
                report(f"Django, {what} per request", django_[:2], django_[0][0])
                report(f"Django, {what} per request, events", django_[2:], django_[2][0])
        finally:
            tracker.shutdown(timeout=2)


if __name__ == "__main__":
    main()
