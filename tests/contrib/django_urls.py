"""URLs of the Django tests: the example app under api/, test-only views under t/."""

from django.urls import include, path

from . import django_views

urlpatterns = [
    path("api/", include("django_notes.urls")),
    path("t/raise/<str:kind>", django_views.raise_error),
    path("t/probe", django_views.probe),
    path("t/admin", django_views.admin_only),
    path("t/anonymous", django_views.anonymous),
]
