"""Settings of the Django notes example. Lumi is configured from the environment here so that
``run.py`` can point it at the emulator it starts; a real project writes its values."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-key-for-the-local-example-only")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = ["lumi.contrib.django", "django_notes"]
MIDDLEWARE = ["lumi.contrib.django.middleware.LumiMiddleware"]
ROOT_URLCONF = "django_notes_site.urls"
WSGI_APPLICATION = "django_notes_site.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}  # the notes are Lumi documents
USE_TZ = True

LUMI = {
    "PROJECT_ID": os.environ.get("LUMI_PROJECT_ID", "p_notes"),
    "API_BASE_URL": os.environ.get("LUMI_API_BASE_URL", "http://127.0.0.1:8787"),
    "API_KEY": os.environ.get("LUMI_API_KEY"),
    "EVENTS_ENDPOINT": os.environ.get("LUMI_EVENTS_ENDPOINT"),
    "EVENTS_WRITE_KEY": os.environ.get("LUMI_EVENTS_WRITE_KEY"),
}
