"""``make docs``: the API reference of every public module of lumi, from its docstrings, with pdoc.

``python docs/build_api.py OUTPUT_DIR`` writes ``OUTPUT_DIR/index.html`` and one page per module
(every module under ``lumi/`` whose dotted name has no part starting with ``_``). A warning from
pdoc (a module that does not import, a reference that does not resolve) fails the build.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings
from pathlib import Path

#: pdoc warnings about annotations it cannot evaluate although they are valid (mypy --strict
#: reads them): the page then shows the annotation as written. Each entry names the annotation.
KNOWN_LIMITATIONS = {
    # lumi.data.query: `Fetch = Callable[[...], "TypedPage[T]"]`; typing cannot subscript an
    # alias whose only type variable sits in a forward reference, so `Fetch[T]` fails at run time.
    "Error parsing type annotation Fetch[T] for ",
}


def public_modules() -> list[str]:
    """``lumi`` and every public module under it, each once: pdoc documents a package's
    submodules with it (those in its ``__all__``, when it has one)."""
    from pdoc.extract import walk_specs

    import lumi

    found = pkgutil.walk_packages(lumi.__path__, "lumi.")
    names = [
        info.name for info in found if not any(p.startswith("_") for p in info.name.split("."))
    ]
    specs: list[str] = []
    covered: set[str] = set()
    for name in ["lumi", *sorted(names)]:
        if name not in covered:
            specs.append(name)
            covered.update(walk_specs([name]))
    return specs


def _load_lazy_names(modules: list[str]) -> None:
    # pdoc reads a module's __dict__; a package that loads names on first use (PEP 562
    # __getattr__, as lumi.emulator does) has them loaded here first.
    from pdoc.extract import walk_specs

    for name in walk_specs(modules):
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", ()):
            if attribute not in vars(module):
                setattr(module, attribute, getattr(module, attribute))


def build(output: Path) -> list[str]:
    """Write the reference under ``output``; the warnings pdoc gave (empty: a clean build)."""
    from django.conf import settings

    # lumi.contrib.django reads Django's settings when it is imported to be documented.
    if not settings.configured:
        settings.configure()
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="restructuredtext", footer_text="lumi-sdk", search=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modules = public_modules()
        _load_lazy_names(modules)
        pdoc.pdoc(*modules, output_directory=output)
    messages = [f"{item.category.__name__}: {item.message}" for item in caught]
    return [m for m in messages if not any(known in m for known in KNOWN_LIMITATIONS)]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    problems = build(Path(argv[0]))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"docs: {len(problems)} warning(s); the reference is incomplete", file=sys.stderr)
        return 1
    print(f"docs: {Path(argv[0]) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
