"""``lumi entities ...`` end to end against the emulator, including an import that crashes
and is re-run (in process with an injected failure, and as a killed subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lumi import LumiClient
from lumi.data import importer as importer_module
from lumi.data.cli import entities

from .conftest import QUESTIONS_SCHEMA


def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
    result = CliRunner().invoke(entities, list(args), input=input)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def question(n: int, **changes: Any) -> dict[str, Any]:
    doc = {
        "code": f"Q{n:04d}",
        "question": f"question {n}",
        "options": ["a", "b"],
        "correct": n % 3,
        "category": "mecanica",
        "difficulty": "facil",
        "createdAt": "2026-03-01T10:00:00.000Z",
        "statistics": {"totalAnswers": n},
        "active": n % 2 == 0,
    }
    doc.update(changes)
    return doc


def write_jsonl(path: Path, docs: list[Any]) -> Path:
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    return path


def stored(client: LumiClient, entity: str = "questions") -> list[dict[str, Any]]:
    from lumi import unstructure

    return [unstructure(r) for r in client.entities[entity].list(sort={"code": 1}).list]


def test_import_list_get_export_delete(
    env: dict[str, str], client: LumiClient, tmp_path: Path
) -> None:
    docs = [question(n) for n in range(12)]
    docs[4]["correct"] = -1  # fails the schema (minimum 0)
    source = write_jsonl(tmp_path / "questions.jsonl", docs)
    with source.open("a", encoding="utf-8") as stream:
        stream.write("{not json\n")
    rejects = tmp_path / "rejects.jsonl"
    result = run(
        "import", "questions", str(source), "--schema", str(QUESTIONS_SCHEMA),
        "--key", "code", "--chunk-size", "5", "--rejects", str(rejects), ok=False,
    )  # fmt: skip
    assert result.exit_code == 3  # some rows were rejected
    assert "created 11, updated 0, skipped 0 existing, rejected 2" in result.stderr
    reports = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reports[0] == {"where": "line 5", "reason": "questions.correct: must be >= 0"}
    assert reports[1]["where"] == "line 13" and "not valid JSON" in reports[1]["reason"]
    assert [d["code"] for d in stored(client)] == [d["code"] for d in docs if d["correct"] >= 0]

    listed = run("list", "questions", "--filter", '{"active": true}', "--sort", "-code")
    codes = [d["code"] for d in json.loads(listed.stdout)]
    assert codes == ["Q0010", "Q0008", "Q0006", "Q0002", "Q0000"]
    paged = run("list", "questions", "--sort", '{"code": 1}', "--limit", "2", "--skip", "3")
    assert [d["code"] for d in json.loads(paged.stdout)] == ["Q0003", "Q0005"]
    assert "2 of 11 record(s)" in paged.stderr

    first = stored(client)[0]
    got = run("get", "questions", first["_id"])
    assert json.loads(got.stdout) == first
    missing = run("get", "questions", "6939311e8458665713e0b522", ok=False)
    assert missing.exit_code == 1 and "no such record" in missing.output

    everything = stored(client)
    for fmt in ("json", "jsonl", "csv"):
        out = tmp_path / f"export.{fmt}"
        exported = run("export", "questions", "-o", str(out), "--sort", "code", "--page-size", "4")
        assert "exported 11 record(s)" in exported.stderr
        assert read_back(out, fmt) == everything, fmt
    to_stdout = run("export", "questions", "--format", "jsonl", "--filter", '{"correct": 0}')
    assert [json.loads(line)["correct"] for line in to_stdout.stdout.splitlines()] == [0] * 4

    deleted = run("delete", "questions", "--filter", '{"active": false}', "--yes")
    assert "deleted 6 record(s)" in deleted.stderr
    ids = [d["_id"] for d in stored(client)][:2]
    run("delete", "questions", *ids, "--chunk-size", "1")
    assert len(stored(client)) == 3
    refused = run("delete", "questions", "--filter", "{}", input="n\n", ok=False)
    assert refused.exit_code == 1 and len(stored(client)) == 3
    assert run("delete", "questions", ok=False).exit_code == 2  # neither ids nor --filter


JSON_COLUMNS = {"options", "correct", "statistics", "active"}


def read_back(path: Path, fmt: str) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        return list(json.loads(text))
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        record: dict[str, Any] = {}
        for column, cell in row.items():
            if cell == "" and column == "creator":
                record[column] = None
            elif cell != "":
                record[column] = json.loads(cell) if column in JSON_COLUMNS else cell
        rows.append(record)
    return rows


def test_csv_export_reimports_with_the_schema_typing_cells(
    env: dict[str, str], client: LumiClient, tmp_path: Path
) -> None:
    client.entities["questions"].create_many([question(n) for n in range(3)])
    out = tmp_path / "q.csv"
    run("export", "questions", "-o", str(out))
    run("delete", "questions", "--filter", "{}", "--yes")
    before = list(csv.DictReader(out.open()))
    assert before[0]["statistics"] == '{"totalAnswers":0}' and before[0]["active"] == "true"
    run("import", "questions", str(out), "--schema", str(QUESTIONS_SCHEMA), "--key", "_id")
    again = stored(client)
    assert [d["statistics"] for d in again] == [{"totalAnswers": n} for n in range(3)]
    assert [d["correct"] for d in again] == [0, 1, 2] and again[0]["active"] is True
    assert [d["_id"] for d in again] == [row["_id"] for row in before]


def test_import_with_a_key_updates_or_skips_existing_records(
    env: dict[str, str], client: LumiClient, tmp_path: Path
) -> None:
    client.entities["questions"].create(question(1, correct=0))
    source = write_jsonl(tmp_path / "in.jsonl", [question(1, correct=2), question(2)])
    skipped = run("import", "questions", str(source), "--key", "code")
    assert "created 1, updated 0, skipped 1 existing" in skipped.stderr
    assert [d["correct"] for d in stored(client)] == [0, 2]
    updated = run("import", "questions", str(source), "--key", "code", "--on-conflict", "update",
                  "--restart")  # fmt: skip
    assert "created 0, updated 2, skipped 0 existing" in updated.stderr
    assert [d["correct"] for d in stored(client)] == [2, 2]
    duplicate = write_jsonl(tmp_path / "dup.jsonl", [question(7), question(7)])
    result = run("import", "questions", str(duplicate), "--key", "code", ok=False)
    assert "rejected line 2: duplicate 'code': the same value as line 1" in result.stderr


class Crash(Exception):
    """Stands for the process dying."""


def test_crash_after_the_server_stored_a_chunk_then_resume(
    env: dict[str, str], client: LumiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst moment: chunk 3 is stored, the journal does not know it yet."""
    docs = [question(n) for n in range(23)]
    source = write_jsonl(tmp_path / "in.jsonl", docs)
    real_save = importer_module.Journal.save
    saves = {"n": 0}

    def crashing_save(self: Any, **kwargs: Any) -> None:
        saves["n"] += 1
        if saves["n"] == 3:
            raise Crash("killed")
        real_save(self, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(importer_module.Journal, "save", crashing_save)
        crashed = run("import", "questions", str(source), "--key", "code", "--chunk-size", "5",
                      ok=False)  # fmt: skip
    assert isinstance(crashed.exception, Crash)
    assert len(stored(client)) == 15  # three chunks stored, two journaled

    resumed = run("import", "questions", str(source), "--key", "code", "--chunk-size", "5")
    assert "created 8, updated 0, skipped 5 existing, rejected 0, resumed after 10" in (
        resumed.stderr
    )
    codes = [d["code"] for d in stored(client)]
    assert codes == [d["code"] for d in docs]  # nothing missing, nothing twice
    again = run("import", "questions", str(source), "--key", "code", "--chunk-size", "5")
    assert "already imported" in again.stderr and len(stored(client)) == 23


def test_without_a_key_the_journal_still_skips_finished_chunks(
    env: dict[str, str], client: LumiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [question(n) for n in range(10)])
    real_create_many = client.entities["questions"].create_many.__func__  # type: ignore[attr-defined]
    calls = {"n": 0}

    def failing_create_many(self: Any, items: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("network down")  # the request never reached the server
        return real_create_many(self, items)

    with monkeypatch.context() as patched:
        patched.setattr("lumi.entities.EntityClient.create_many", failing_create_many)
        result = run("import", "questions", str(source), "--chunk-size", "4", ok=False)
    assert isinstance(result.exception, Crash)
    resumed = run("import", "questions", str(source), "--chunk-size", "4")
    assert "created 6" in resumed.stderr and "resumed after 4" in resumed.stderr
    assert Counter(d["code"] for d in stored(client)) == {f"Q{n:04d}": 1 for n in range(10)}


def test_a_journal_of_another_file_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    journal = tmp_path / "shared.journal"
    one = write_jsonl(tmp_path / "one.jsonl", [question(1)])
    two = write_jsonl(tmp_path / "two.jsonl", [question(2)])
    run("import", "questions", str(one), "--journal", str(journal))
    result = run("import", "questions", str(two), "--journal", str(journal), ok=False)
    assert result.exit_code == 1 and "belongs to another import" in result.output


def test_killed_import_process_resumes_without_duplicates(
    env: dict[str, str], client: LumiClient, tmp_path: Path
) -> None:
    """A real crash: SIGKILL while the import runs, then the same command again."""
    docs = [question(n) for n in range(600)]
    source = write_jsonl(tmp_path / "big.jsonl", docs)
    journal = tmp_path / "big.journal"
    command = [
        sys.executable, "-m", "lumi.data.cli", "import", "questions", str(source),
        "--key", "code", "--chunk-size", "10", "--journal", str(journal),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while process.poll() is None:  # wait for a checkpoint or two, then kill
            if journal.exists() and json.loads(journal.read_text() or "{}").get("committed", 0):
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    state = json.loads(journal.read_text())
    assert 0 < state["committed"] < 600 and not state["done"], state
    resumed = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after" in resumed.stderr
    codes = Counter(d["code"] for d in stored(client))
    assert codes == Counter(d["code"] for d in docs)  # all 600, each once


def test_import_schema_is_read_like_the_generated_classes_read_it(
    env: dict[str, str], client: LumiClient, tmp_path: Path
) -> None:
    # `required: true` inside a nested item, and a type nobody knows (a warning, not an error)
    schema = tmp_path / "guests.json"
    schema.write_text(
        json.dumps(
            {
                "name": "guests",
                "fields": {
                    "list": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"id": {"type": "string", "required": True}},
                        },
                    },
                    "owner": {"type": "belongs_to"},
                },
            }
        ),
        encoding="utf-8",
    )
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"list": [{"id": "a"}], "owner": 1}, {"list": [{"name": "x"}]}]
    )
    result = run("import", "guests", str(source), "--schema", str(schema), ok=False)
    assert result.exit_code == 3
    assert "warning: " in result.stderr and "owner: unknown type 'belongs_to'" in result.stderr
    assert "rejected line 2: guests.list.0.id: is required" in result.stderr
    assert [doc["list"] for doc in stored(client, "guests")] == [[{"id": "a"}]]
