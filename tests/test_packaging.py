"""The distribution `lumi-sdk`: pyproject's package list, and the wheel and sdist as built
(contents, metadata, entry points, no build warnings)."""

from __future__ import annotations

import re
import tarfile
import zipfile
from email.parser import Parser

import pytest

from lumi._extras import EXTRAS
from lumi._version import __version__

from .support.dist import REPO, build

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (the package itself supports 3.10)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
EXTRA_NAMES = set(EXTRAS) | {"all", "test", "dev"}


def test_every_package_is_listed() -> None:
    config = PYPROJECT["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in (REPO / "lumi").rglob("__init__.py")
    }
    found |= {"lumi._codegen", "lumi._codegen.templates", "lumi._schema"}
    found |= {"lumi.emulator.console.static", "lumi.emulator.console.templates"}  # data only
    assert found == listed, f"pyproject [tool.setuptools] packages: {sorted(found ^ listed)}"
    assert config["package-dir"] == {"lumi._codegen": "codegen", "lumi._schema": "schema"}


def test_one_version_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "lumi._version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|(a|b|rc)\d+)?", __version__)


@pytest.fixture(scope="module")
def wheel() -> zipfile.ZipFile:
    return zipfile.ZipFile(build().wheel)


@pytest.fixture(scope="module")
def sdist() -> list[str]:
    with tarfile.open(build().sdist) as archive:
        return [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]


def test_the_build_prints_no_warning() -> None:
    noisy = [
        line
        for line in build().log.splitlines()
        if re.search(r"warn|deprecat|!!|no (previously-included )?(files|directories)", line, re.I)
    ]
    assert noisy == []


def test_wheel_name_and_metadata(wheel: zipfile.ZipFile) -> None:
    assert build().wheel.name == f"lumi_sdk-{__version__}-py3-none-any.whl"
    info = f"lumi_sdk-{__version__}.dist-info"
    metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
    assert metadata["Name"] == "lumi-sdk" and metadata["Version"] == __version__
    assert metadata["License-Expression"] == "MIT" and metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().startswith("# lumi")  # the README
    assert "Homepage, https://lumi.new" in metadata.get_all("Project-URL")
    classifiers = metadata.get_all("Classifier")
    assert (
        "Typing :: Typed" in classifiers and "Programming Language :: Python :: 3.10" in classifiers
    )
    assert not any(c.startswith("License ::") for c in classifiers)  # the SPDX expression says it
    assert set(metadata.get_all("Provides-Extra")) == EXTRA_NAMES
    requires = metadata.get_all("Requires-Dist")
    base = sorted(r.split(">")[0] for r in requires if "extra ==" not in r)
    assert base == ["attrs", "cattrs", "requests"]
    by_extra: dict[str, set[str]] = {}
    for requirement in requires:
        found = re.search(r'extra == "([a-z]+)"', requirement)
        if found:
            name = re.split(r"[<>=\[; ]", requirement)[0]
            by_extra.setdefault(found.group(1), set()).add(name)
    assert by_extra["emulator"] == {
        "werkzeug",
        "waitress",
        "click",
        "platformdirs",
        "pypng",
        "regex",
        "jinja2",
    }
    assert by_extra["cli"] == {"click", "platformdirs"}
    assert by_extra["all"] == {"lumi-sdk"}  # lumi-sdk[cli,codegen,...]
    assert f"{info}/licenses/LICENSE" in wheel.namelist()
    assert wheel.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    assert wheel.read(f"{info}/top_level.txt").decode().split() == ["lumi"]


def test_wheel_entry_points(wheel: zipfile.ZipFile) -> None:
    text = wheel.read(f"lumi_sdk-{__version__}.dist-info/entry_points.txt").decode()
    sections = dict(re.findall(r"\[([^\]]+)\]\n([^\[]*)", text))
    assert sections["console_scripts"].strip() == "lumi = lumi.cli:main"
    assert sections["pytest11"].strip() == "lumi = lumi.testing.plugin"


def test_wheel_contents(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    packaged = {name for name in names if not name.startswith(f"lumi_sdk-{__version__}.")}
    assert all(name.startswith("lumi/") for name in packaged), sorted(packaged)[:5]
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    sources = {
        "lumi/" + path.relative_to(REPO / "lumi").as_posix()
        for path in (REPO / "lumi").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    sources |= {
        "lumi/_codegen/" + path.relative_to(REPO / "codegen").as_posix()
        for path in (REPO / "codegen").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    sources |= {"lumi/_schema/" + path.name for path in (REPO / "schema").iterdir()}
    assert packaged == sources
    for name in ("lumi/py.typed", "lumi/_codegen/templates/dataclass.jinja2"):
        assert name in names
    # The emulator console's pages, script and style (package data, not Python modules).
    console = REPO / "lumi" / "emulator" / "console"
    assets = {p for folder in ("templates", "static") for p in (console / folder).iterdir()}
    assert {p.name for p in assets} >= {"base.html", "events.html", "console.js", "console.css"}
    for path in assets:
        name = "lumi/" + path.relative_to(REPO / "lumi").as_posix()
        assert wheel.read(name) == path.read_bytes(), name
    for schema in ("lumi.openapi.yaml", "events.schema.json"):
        assert wheel.read(f"lumi/_schema/{schema}") == (REPO / "schema" / schema).read_bytes()


def test_sdist_contents(sdist: list[str]) -> None:
    files = set(sdist)
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "MANIFEST.in"):
        assert name in files
    for folder in ("lumi/", "codegen/templates/", "schema/", "docs/", "tests/support/"):
        assert any(name.startswith(folder) for name in files), folder
    for unwanted in (".venv", ".git/", ".cache/", "build/", "dist/"):
        assert not any(name.startswith(unwanted) for name in files), unwanted
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    tests = {p.relative_to(REPO).as_posix() for p in (REPO / "tests").rglob("*.py")}
    assert tests <= files  # the whole suite, not only tests/test*.py
    assert "lumi/_schema/lumi.openapi.yaml" not in files  # one copy: schema/
