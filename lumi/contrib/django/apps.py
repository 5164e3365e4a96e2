"""The Django app ``lumi.contrib.django`` (its ``lumi`` management command)."""

from __future__ import annotations

from django.apps import AppConfig


class LumiConfig(AppConfig):  # type: ignore[misc]  # Django ships no type hints
    name = "lumi.contrib.django"
    label = "lumi"
    verbose_name = "Lumi"
