"""`make docs` builds the API reference without warnings; docs/protocol.md holds the protocol
facts, and every citation of it in the code names a section it has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROTOCOL = REPO / "docs" / "protocol.md"


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    output = tmp_path_factory.mktemp("api")
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "build_api.py"), str(output)],
        cwd=output,  # outside the checkout: the installed lumi is documented
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return output, result


@pytest.mark.slow
def test_the_reference_builds_without_warnings(
    reference: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    output, result = reference
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stderr == ""
    assert (output / "index.html").is_file()


@pytest.mark.slow
def test_every_public_module_has_a_page_with_its_docstrings(
    reference: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    output, _ = reference
    public = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "lumi").rglob("*.py")
    ]
    public = [name for name in public if not any(p.startswith("_") for p in name.split("."))]
    assert len(public) > 40
    missing = [
        name for name in public if not (output / (name.replace(".", "/") + ".html")).is_file()
    ]
    assert missing == []
    top = (output / "lumi.html").read_text(encoding="utf-8")
    for name in ("create_client", "MissingExtraError", "LumiError", "structure"):
        assert f'id="{name}"' in top, name
    model = (output / "lumi" / "model.html").read_text(encoding="utf-8")
    assert "What generated classes are built from" in model and 'id="new_extra"' in model
    emulator = (output / "lumi" / "emulator.html").read_text(encoding="utf-8")
    assert 'id="Emulator"' in emulator  # loaded lazily by the package, documented all the same


def test_make_docs_is_the_target() -> None:
    result = subprocess.run(
        ["make", "-n", "docs"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "docs/build_api.py build/api" in result.stdout


def test_protocol_citations_name_sections_that_exist() -> None:
    sections = set(re.findall(r"^## §(\w+)\.", PROTOCOL.read_text(encoding="utf-8"), re.M))
    assert {"1", "2", "3", "4", "4b", "5", "6", "7", "8"} <= sections
    cited: list[tuple[str, str]] = []
    for path in [
        *REPO.glob("lumi/**/*.py"),
        *REPO.glob("codegen/**/*.py"),
        *REPO.glob("tests/**/*.py"),
    ]:
        if path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        assert "PROTOCOL §" not in text and "PROTOCOL.md" not in text, path  # not in the repository
        for match in re.finditer(
            r"docs/protocol\.md \(?((?:§\w+(?:-§\w+)?(?:,? and |, )?)+)", text
        ):
            for section in re.findall(r"§(\w+)", match.group(1)):
                cited.append((str(path.relative_to(REPO)), section))
    assert len(cited) >= 8
    assert [c for c in cited if c[1] not in sections] == []
