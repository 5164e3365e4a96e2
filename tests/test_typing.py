"""A project outside the checkout, type-checked against the editable install `make setup` made:
lumi and the classes `lumi codegen` writes resolve for mypy --strict and pyright (strict)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .support.typecheck import BIN, mypy_strict, pyright_strict

REPO = Path(__file__).resolve().parent.parent

PROGRAM = '''\
"""A user's program: the client, lumi's models and the app's generated entity classes."""

from __future__ import annotations

import lumi
from lumi.data import Q, repository
from lumi.model import UNSET

from app.entities import ENTITIES, Posts


def titles(client: lumi.LumiClient) -> list[str]:
    posts = repository(client, Posts, validation="off")
    return [post.title for post in posts.filter(Q(status="published")).order_by("-views")[:5]]


def main() -> None:
    post = lumi.structure({"_id": "6939311e8458665713e0b522", "title": "Hi", "x": 1}, Posts)
    views: int | lumi.Unset = post.views
    assert views is UNSET and post.title == "Hi" and post["x"] == 1
    assert ENTITIES["posts"] is Posts
    user = lumi.structure({"userId": "u1", "email": "a@example.com"}, lumi.User)
    user_id: str = user.user_id
    client = lumi.create_client(project_id="p1", api_base_url="http://127.0.0.1:9")
    print(user_id, post.id, type(client).__name__, titles.__name__)


if __name__ == "__main__":
    main()
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pth = Path(sysconfig.get_path("purelib")) / "lumi-sdk-checkout.pth"
    if not pth.is_file() or pth.read_text().strip() != str(REPO):
        pytest.fail(f"{pth} is missing or names another checkout: run `make setup`")
    root = tmp_path_factory.mktemp("user_project")
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\nversion = '1'\n")
    entities = root / "src" / "entities"
    entities.mkdir(parents=True)
    (entities / "posts.json").write_text(
        '{"name": "posts", "fields": {"title": {"type": "string", "required": true},'
        ' "status": {"type": "string", "enum": ["draft", "published"]},'
        ' "views": {"type": "int"}}}'
    )
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "main.py").write_text(PROGRAM)
    generate = subprocess.run(
        [str(BIN / "lumi"), "codegen", "src/entities", "-o", "app/entities"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generate.returncode == 0, generate.stdout + generate.stderr
    return root


def test_the_program_runs_outside_the_checkout(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-E", "-s", "main.py"],  # no PYTHONPATH, no user site-packages
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["u1", "6939311e8458665713e0b522", "LumiClient", "titles"]


def test_mypy_strict_resolves_lumi_from_the_editable_install(project: Path) -> None:
    assert mypy_strict(project, "main.py", "app") == ""


@pytest.mark.slow
def test_pyright_strict_resolves_lumi_from_the_editable_install(project: Path) -> None:
    assert pyright_strict(project, "main.py", "app") == ""


def test_a_type_error_is_reported_through_the_install(project: Path, tmp_path: Path) -> None:
    # The checks above can fail: the same project with one wrong type does.
    broken = tmp_path / "broken"
    (broken / "app").mkdir(parents=True)
    for name in ("__init__.py", "entities"):
        source = project / "app" / name
        target = broken / "app" / name
        if source.is_dir():
            target.mkdir()
            for file in source.glob("*.py"):
                (target / file.name).write_text(file.read_text())
        else:
            target.write_text(source.read_text())
    (broken / "main.py").write_text(PROGRAM.replace("user_id: str =", "user_id: int ="))
    # Both know lumi.User.user_id is a str: they read lumi from the install.
    assert 'expression has type "str", variable has type "int"' in mypy_strict(broken, "main.py")
    assert 'Type "str" is not assignable to declared type "int"' in pyright_strict(
        broken, "main.py"
    )
