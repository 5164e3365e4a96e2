"""Optional dependencies: which modules each extra of ``lumi-sdk`` brings, and the one check
that turns a missing one into :class:`MissingExtraError`, naming the extra to install.

``require_extra("emulator", "the lumi emulator")`` gates a feature up front (it only looks the
modules up, importing nothing); ``with optional_imports("flask", "lumi.contrib.flask"):`` wraps
import lines. Both raise ``MissingExtraError`` ("... pip install 'lumi-sdk[flask]'").
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LumiError

DISTRIBUTION = "lumi-sdk"

#: extra -> the modules lumi imports from its distributions (pyproject.toml's
#: [project.optional-dependencies] installs them; tests/test_extras.py keeps the two in step)
EXTRAS: dict[str, tuple[str, ...]] = {
    "cli": ("click", "platformdirs"),
    "codegen": ("datamodel_code_generator", "click", "yaml"),
    "validation": ("jsonschema",),
    "emulator": ("werkzeug", "waitress", "click", "platformdirs", "png", "regex", "jinja2"),
    "events": ("platformdirs", "filelock"),
    "posthog": ("posthog",),
    "otel": ("opentelemetry.trace",),
    "flask": ("flask",),
    "django": ("django",),
}

#: the code of MissingExtraError (no server code applies: nothing was sent)
CODE_MISSING_EXTRA = -3


def install_command(extra: str) -> str:
    """``pip install 'lumi-sdk[extra]'``."""
    if extra not in EXTRAS:
        raise ValueError(f"lumi-sdk has no extra {extra!r}")
    return f"pip install '{DISTRIBUTION}[{extra}]'"


class MissingExtraError(LumiError, ModuleNotFoundError):
    """A feature needs an optional dependency that is not installed. The message names the
    extra that brings it; ``extra`` and ``name`` (the missing module) say it too. Also a
    :class:`ModuleNotFoundError`, so ``except ImportError`` still applies."""

    def __init__(self, extra: str, module: str, feature: str) -> None:
        super().__init__(
            CODE_MISSING_EXTRA,
            f"{feature} needs the {module.split('.')[0]!r} package, which is not installed: "
            f"{install_command(extra)}",
        )
        self.extra = extra
        self.feature = feature
        self.name = module

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.extra, self.name, self.feature))


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package; sys.modules[name] = None
        return False


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported."""
    for module in EXTRAS[extra]:
        if not _importable(module):
            raise MissingExtraError(extra, module, feature)


@contextmanager
def optional_imports(extra: str, feature: str) -> Iterator[None]:
    """Wrap the import lines of an optional feature: :func:`require_extra` first, then any
    module found missing inside (a dependency of a dependency) still names ``extra``."""
    require_extra(extra, feature)
    try:
        yield
    except ModuleNotFoundError as exc:
        if isinstance(exc, MissingExtraError) or (exc.name or "lumi").split(".")[0] == "lumi":
            raise  # lumi's own module missing is a broken install, not a missing extra
        raise MissingExtraError(extra, exc.name or "?", feature) from exc
