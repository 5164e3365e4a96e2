"""Extras that match the commands: each optional import names its extra
(``pip install 'lumi-sdk[emulator]'``), and each command works with the extra the README names.
The slow tests install the built wheel into fresh venvs: the base package alone, then one extra."""

from __future__ import annotations

import importlib.metadata
import json
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import lumi
from lumi import _extras, cli
from lumi._extras import EXTRAS, MissingExtraError, optional_imports, require_extra

from .support.dist import REPO, build

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT_EXTRAS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]


def _distribution(requirement: str) -> str:
    return re.split(r"[<>=\[; ]", requirement)[0].lower().replace("_", "-")


# --- the table and the error -------------------------------------------------------------------


def test_the_table_names_the_extras_of_pyproject() -> None:
    assert set(EXTRAS) == set(PYPROJECT_EXTRAS) - {"all", "test", "dev"}
    assert PYPROJECT_EXTRAS["all"] == [f"lumi-sdk[{','.join(EXTRAS)}]"]
    provided_by = importlib.metadata.packages_distributions()
    for extra, modules in EXTRAS.items():
        listed = {_distribution(requirement) for requirement in PYPROJECT_EXTRAS[extra]}
        for module in modules:
            providers = {name.lower() for name in provided_by[module.split(".")[0]]}
            assert providers & listed, f"[{extra}] lists none of {providers} (for {module})"


def test_every_distribution_of_an_extra_is_used_or_said_why() -> None:
    # Each distribution an extra installs is one lumi imports (the table), except these:
    brought_for_users = {("otel", "opentelemetry-sdk")}  # lumi uses the API; users need an SDK
    provided_by = importlib.metadata.packages_distributions()
    for extra, modules in EXTRAS.items():
        used = {name.lower() for module in modules for name in provided_by[module.split(".")[0]]}
        for requirement in PYPROJECT_EXTRAS[extra]:
            name = _distribution(requirement)
            assert name in used or (extra, name) in brought_for_users, (extra, name)


def test_no_hint_names_the_old_distribution() -> None:
    # `lumi` on the package index is another project: every hint says lumi-sdk.
    old = re.compile(r"lumi\[")
    paths = [REPO / "README.md", REPO / "pyproject.toml", *REPO.glob("docs/*.md")]
    paths += [
        *REPO.glob("lumi/**/*.py"),
        *REPO.glob("codegen/**/*.py"),
        *REPO.glob("examples/**/*"),
    ]
    found = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in paths
        if path.is_file()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if old.search(line)
    ]
    assert found == []


def test_missing_extra_error() -> None:
    error = MissingExtraError("emulator", "werkzeug.serving", "the lumi emulator")
    assert isinstance(error, lumi.LumiError) and isinstance(error, ModuleNotFoundError)
    assert error.message == (
        "the lumi emulator needs the 'werkzeug' package, which is not installed: "
        "pip install 'lumi-sdk[emulator]'"
    )
    assert error.extra == "emulator" and error.name == "werkzeug.serving"
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.extra, again.name) == (error.message, "emulator", error.name)
    with pytest.raises(ValueError, match="no extra 'everything'"):
        _extras.install_command("everything")


def test_require_extra_names_the_first_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    require_extra("cli", "x")  # installed here
    monkeypatch.setitem(EXTRAS, "cli", ("click", "lumi_no_such_module", "also.missing"))
    with pytest.raises(MissingExtraError) as raised:
        require_extra("cli", "'lumi entities'")
    assert raised.value.name == "lumi_no_such_module"
    assert "pip install 'lumi-sdk[cli]'" in raised.value.message
    monkeypatch.setitem(sys.modules, "click", None)  # a module blocked like this is missing too
    monkeypatch.setitem(EXTRAS, "cli", ("click",))
    with pytest.raises(MissingExtraError, match="'click' package"):
        require_extra("cli", "x")


def test_optional_imports_turns_a_missing_dependency_into_the_extra() -> None:
    with (
        pytest.raises(MissingExtraError) as raised,
        optional_imports("flask", "lumi.contrib.flask"),
    ):
        import lumi_test_no_such_dependency  # noqa: F401
    assert raised.value.extra == "flask" and raised.value.name == "lumi_test_no_such_dependency"
    with pytest.raises(ModuleNotFoundError) as own, optional_imports("flask", "x"):
        import lumi.no_such_module  # noqa: F401  (lumi's own: a broken install, not an extra)
    assert not isinstance(own.value, MissingExtraError)
    with pytest.raises(ValueError, match="unrelated"), optional_imports("flask", "x"):
        raise ValueError("unrelated")


def test_a_command_without_its_extra_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EXTRAS, "emulator", ("werkzeug", "lumi_test_missing"))
    listing = CliRunner().invoke(cli.cli, ["--help"])
    assert (
        listing.exit_code == 0
        and "(not installed: pip install 'lumi-sdk[emulator]')" in listing.output
    )
    result = CliRunner().invoke(cli.cli, ["emulator", "--help"])
    assert result.exit_code == 1
    assert "'lumi emulator' needs the 'lumi_test_missing' package" in result.output
    assert "pip install 'lumi-sdk[emulator]'" in result.output
    ok = CliRunner().invoke(cli.cli, ["--version"])
    assert ok.exit_code == 0 and lumi.__version__ in ok.output


# --- fresh venvs from the built wheel ----------------------------------------------------------

ENTITY = {
    "name": "tasks",
    "fields": {
        "title": {"type": "string", "required": True},
        "owner": {"type": "string", "required": True},
        "due": {"type": "string", "title": "datetime"},
    },
}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``venv("emulator")``: the bin folder of a venv with lumi-sdk[emulator] from the wheel
    (``venv(None)``: the base package); ``more`` are other requirements."""
    wheel = build().wheel
    made: dict[tuple[str | None, tuple[str, ...]], Path] = {}

    def make(extra: str | None, *more: str) -> Path:
        key = (extra, more)
        if key not in made:
            root = tmp_path_factory.mktemp(f"venv_{extra or 'base'}")
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
            requirement = f"lumi-sdk{f'[{extra}]' if extra else ''} @ {wheel.as_uri()}"
            install = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(root / "bin" / "python"),
                    "install",
                    "--quiet",
                    requirement,
                    *more,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            assert install.returncode == 0, install.stderr[-3000:]
            made[key] = root / "bin"
        return made[key]

    return make


def run(bin_dir: Path, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` or ``lumi ARGS...`` of the venv, run outside the checkout (where
    ``python -c`` would import this repository's lumi/ instead of the installed one)."""
    if command[0] == "lumi":
        program = [str(bin_dir / "lumi"), *command[1:]]
    else:
        program = [str(bin_dir / "python"), "-c", command[0]]
    return subprocess.run(
        program,
        cwd=cwd or bin_dir.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def installed(bin_dir: Path) -> set[str]:
    listing = run(
        bin_dir,
        "import importlib.metadata as m, json; print(json.dumps("
        "sorted(d.metadata['Name'].lower() for d in m.distributions())))",
    )
    return set(json.loads(listing.stdout))


@pytest.fixture(scope="module")
def entity_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``tasks_models.py``, generated by this checkout's `lumi codegen`."""
    folder = tmp_path_factory.mktemp("entity_module")
    (folder / "tasks.json").write_text(json.dumps(ENTITY))
    from codegen.cli import codegen

    result = CliRunner().invoke(
        codegen, [str(folder / "tasks.json"), "-o", str(folder / "tasks_models.py")]
    )
    assert result.exit_code == 0, result.output
    return folder


BASE_CHECKS = """
import json, sys, importlib
sys.path.insert(0, {folder!r})
import lumi, lumi.data
out = {{}}
def failure(action):
    try:
        action()
    except lumi.MissingExtraError as exc:
        assert isinstance(exc, ModuleNotFoundError)
        return exc.message
    except Exception as exc:
        return "unexpected " + type(exc).__name__ + ": " + str(exc)
    return "no error"
out["emulator"] = failure(lambda: __import__("lumi.emulator", fromlist=["Emulator"]).Emulator)
out["lazy emulator"] = failure(lambda: lumi.emulator)
out["flask"] = failure(lambda: importlib.import_module("lumi.contrib.flask"))
out["django"] = failure(lambda: importlib.import_module("lumi.contrib.django.middleware"))
out["otel"] = failure(lambda: importlib.import_module("lumi.events.providers.otel"))
from lumi.events.providers.posthog import PostHogProvider
out["posthog"] = failure(lambda: PostHogProvider(api_key="phc_x"))
out["codegen"] = failure(lambda: importlib.import_module("lumi._codegen"))
from lumi._resources import OPENAPI, schema_bytes
out["schema"] = schema_bytes(OPENAPI)[:8].decode()
from tasks_models import Tasks
client = lumi.create_client(project_id="p1", api_base_url="http://127.0.0.1:9")
off = client.repository(Tasks, validation="off")
try:
    off.create({{"title": "no owner"}})
except lumi.ConnectionError:
    out["off"] = "sent"
out["jsonschema imported"] = "jsonschema" in sys.modules
out["raise"] = failure(lambda: lumi.data.repository(client, Tasks, validation="raise").create({{}}))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_base_package_alone(
    venv: Callable[..., Path], entity_module: Path, tmp_path: Path
) -> None:
    bin_dir = venv(None, "pytest")
    assert {"werkzeug", "click", "jsonschema", "platformdirs"}.isdisjoint(installed(bin_dir))
    result = run(bin_dir, BASE_CHECKS.format(folder=str(entity_module)))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    def names(extra: str) -> str:
        return f"pip install 'lumi-sdk[{extra}]'"

    assert names("emulator") in out["emulator"] and "the lumi emulator" in out["emulator"]
    assert names("emulator") in out["lazy emulator"]
    assert names("flask") in out["flask"] and names("django") in out["django"]
    assert names("otel") in out["otel"] and names("posthog") in out["posthog"]
    assert names("codegen") in out["codegen"]
    assert out["schema"] == "openapi:"
    assert out["off"] == "sent" and out["jsonschema imported"] is False
    assert names("validation") in out["raise"]
    # the README's example prints what the README says it prints
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = readme.split("<!-- section: install -->")[1].split("<!-- /section: install -->")[0]
    (block,) = re.findall(r"```python\n(.*?)```", install, re.S)
    said = re.search(r"prints, without the extra, `(.*?)`\.", install, re.S)
    assert said is not None
    example = run(bin_dir, block)
    assert example.returncode == 0, example.stderr
    assert example.stdout.split() == said.group(1).split()
    # the command: no click in the base package
    command = run(bin_dir, "lumi", "--help")
    assert command.returncode == 2
    assert command.stderr.strip() == "The lumi command needs click: " + names("cli")
    # the pytest plugin loads; its emulator fixture names the extra
    (tmp_path / "test_app.py").write_text(
        "def test_plain():\n    assert True\n\ndef test_emulator(lumi_emulator):\n    pass\n"
    )
    tests = run(
        bin_dir,
        "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '.']))",
        cwd=tmp_path,
    )
    assert "1 passed, 1 error" in tests.stdout, tests.stdout[-3000:]
    assert names("emulator") in tests.stdout


@pytest.mark.slow
def test_the_cli_extra(venv: Callable[..., Path]) -> None:
    bin_dir = venv("cli")
    assert "werkzeug" not in installed(bin_dir)
    listing = run(bin_dir, "lumi", "--help")
    assert listing.returncode == 0, listing.stderr
    for name in ("codegen", "emulator", "entities", "events", "login", "logout"):
        assert re.search(rf"^\s+{name}\b", listing.stdout, re.M), name
    assert "emulator  (not installed: pip install 'lumi-sdk[emulator]')" in listing.stdout
    for command in ("entities", "events", "login", "logout"):
        result = run(bin_dir, "lumi", command, "--help")
        assert result.returncode == 0, (command, result.stderr)
    for command, extra in (("emulator", "emulator"), ("codegen", "codegen")):
        result = run(bin_dir, "lumi", command, "--help")
        assert result.returncode == 1
        assert f"'lumi {command}' needs" in result.stderr
        assert f"pip install 'lumi-sdk[{extra}]'" in result.stderr
    version = run(bin_dir, "lumi", "--version")
    assert version.returncode == 0 and lumi.__version__ in version.stdout


@pytest.mark.slow
def test_the_emulator_extra(venv: Callable[..., Path]) -> None:
    bin_dir = venv("emulator")
    assert {"jsonschema", "pyyaml"}.isdisjoint(installed(bin_dir))
    assert run(bin_dir, "lumi", "emulator", "--help").returncode == 0
    session = run(
        bin_dir,
        "import lumi\n"
        "from lumi.emulator import Emulator\n"
        "with Emulator() as emu:\n"
        "    client = lumi.create_client(project_id='p1', api_base_url=emu.url)\n"
        "    note = client.entities.Notes.create({'text': 'hi'})\n"
        "    print(client.entities.Notes.get(note.id).text)\n",
    )
    assert session.returncode == 0 and session.stdout.strip() == "hi", session.stderr
    codegen = run(bin_dir, "lumi", "codegen", "--help")
    assert codegen.returncode == 1 and "pip install 'lumi-sdk[codegen]'" in codegen.stderr


@pytest.mark.slow
def test_the_codegen_extra(venv: Callable[..., Path], tmp_path: Path) -> None:
    bin_dir = venv("codegen")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "tasks.json").write_text(json.dumps(ENTITY))
    result = run(bin_dir, "lumi", "codegen", "entities", "-o", "app_models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    imported = run(bin_dir, "import app_models; print(sorted(app_models.ENTITIES))", cwd=tmp_path)
    assert imported.stdout.strip() == "['tasks']", imported.stderr
    check = run(bin_dir, "lumi", "codegen", "entities", "-o", "app_models", "--check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    emulator = run(bin_dir, "lumi", "emulator", "--help")
    assert emulator.returncode == 1 and "pip install 'lumi-sdk[emulator]'" in emulator.stderr


@pytest.mark.slow
def test_the_validation_extra(venv: Callable[..., Path], entity_module: Path) -> None:
    bin_dir = venv("validation")
    result = run(
        bin_dir,
        f"import sys; sys.path.insert(0, {str(entity_module)!r})\n"
        "import lumi, lumi.data\n"
        "from tasks_models import Tasks\n"
        "client = lumi.create_client(project_id='p1', api_base_url='http://127.0.0.1:9')\n"
        "try:\n"
        "    lumi.data.repository(client, Tasks, validation='raise').create({'due': 'soon'})\n"
        "except lumi.ValidationError as exc:\n"
        "    print(exc.message)\n",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "tasks.title: is required" in result.stdout and "tasks.owner: is required" in result.stdout
    )
    assert "tasks.due: must be a" in result.stdout
