"""``lumi entities export``: keyset pages, a checkpoint per page, ``--resume`` after a crash
(injected in process, and SIGKILL of a real process) with every record exactly once in JSONL,
CSV and JSON-array outputs; streaming in bounded memory (export and JSON-array import)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lumi import LumiClient
from lumi.data import checkpoint as checkpoint_module
from lumi.data.cli import entities
from lumi.data.export import checkpoint_path, spool_path
from lumi.testing.plugin import TEST_PROJECT_ID

from .test_cli import read_back


def run(*args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(entities, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def seed(client: LumiClient, count: int, entity: str = "items") -> list[str]:
    docs = [{"code": f"C{n:05d}", "n": n % 7, "name": f"item {n}"} for n in range(count)]
    ids: list[str] = []
    for start in range(0, count, 500):
        ids += [r.id for r in client.entities[entity].create_many(docs[start : start + 500])]
    return ids


class Crash(Exception):
    """Stands for the process dying."""


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_a_crashed_export_resumes_after_its_last_checkpoint(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    ids = seed(client, 47)
    out = tmp_path / f"items.{fmt}"
    real_save = checkpoint_module.save_atomically
    saves = {"n": 0}

    def crashing_save(path: Path, state: dict[str, Any]) -> None:
        saves["n"] += 1
        if saves["n"] == 3:
            raise Crash("killed")
        real_save(path, state)

    with monkeypatch.context() as patched:
        patched.setattr(checkpoint_module, "save_atomically", crashing_save)
        crashed = run(
            "export", "items", "-o", str(out), "--sort", "-n", "--page-size", "5", ok=False
        )
    assert isinstance(crashed.exception, Crash)
    assert not out.exists()  # the output appears only complete
    state = json.loads(checkpoint_path(out).read_text())
    assert state["count"] == 10 and not state["complete"]
    assert spool_path(out).stat().st_size > state["spooled"]  # page 3 written, not checkpointed

    resumed = run("export", "items", "-o", str(out), "--sort", "-n", "--page-size", "5", "--resume")
    assert "exported 47 record(s), resumed after 10" in resumed.stderr
    records = read_back(out, fmt)
    assert sorted(r["_id"] for r in records) == sorted(ids)  # every record, once
    expected = [r.id for r in client.entities.items.list(sort={"n": -1, "_id": 1}).list]
    assert [r["_id"] for r in records] == expected
    assert not checkpoint_path(out).exists() and not spool_path(out).exists()


def test_resume_refuses_the_checkpoint_of_another_export(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(client, 12)
    out = tmp_path / "items.jsonl"

    def crash(path: Path, state: dict[str, Any]) -> None:
        raise Crash("killed")

    with monkeypatch.context() as patched:
        patched.setattr(checkpoint_module, "save_atomically", crash)
        run("export", "items", "-o", str(out), "--page-size", "5", ok=False)
    checkpoint_module.save_atomically(
        checkpoint_path(out),
        {
            "version": 1,
            "export": {
                "entity": "items",
                "project": TEST_PROJECT_ID,
                "api_base_url": env["LUMI_API_BASE_URL"],
                "filter": {},
                "sort": [],
                "format": "jsonl",
            },
            "spooled": 0,
            "count": 0,
            "columns": [],
            "position": {"mode": "keyset", "anchor": None, "offset": 0, "last": None,
                         "yielded": 0, "done": False},
            "complete": False,
        },
    )  # fmt: skip
    for args, differs in [
        (["--filter", '{"n": 1}'], "filter"),
        (["--sort", "name"], "sort"),
        (["--format", "csv"], "format"),
    ]:
        refused = run("export", "items", "-o", str(out), "--resume", *args, ok=False)
        assert refused.exit_code == 1 and f"its {differs} differ" in refused.output
    other = run("export", "others", "-o", str(out), "--resume", ok=False)
    assert "its entity differ" in other.output
    checkpoint_path(out).write_text('{"version": 1, "export": {}, "position": 3}')
    garbage = run("export", "items", "-o", str(out), "--resume", ok=False)
    assert garbage.exit_code == 1 and "differ" in garbage.output
    fresh = run("export", "items", "-o", str(out))  # without --resume: start over
    assert "starting over" in fresh.stderr and len(read_back(out, "jsonl")) == 12
    assert run("export", "items", "--resume", ok=False).exit_code == 2  # needs -o


KILLED_EXPORT_RECORDS = 600


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_killed_export_process_resumes_with_every_record_once(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
    fmt: str,
) -> None:
    """SIGKILL while the export runs; records are inserted and deleted before it resumes."""
    ids = seed(client, KILLED_EXPORT_RECORDS)
    out = tmp_path / f"items.{fmt}"
    marker = checkpoint_path(out)
    command = [
        sys.executable, "-m", "lumi.data.cli", "export", "items", "-o", str(out),
        "--sort", "n,-code", "--page-size", "10",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while process.poll() is None:  # wait for a few checkpoints, then kill
            if marker.exists() and json.loads(marker.read_text() or "{}").get("count", 0) >= 50:
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    state = json.loads(marker.read_text())
    assert 0 < state["count"] < KILLED_EXPORT_RECORDS and not state["complete"], state
    assert not out.exists()

    exported_before = [json.loads(line)["_id"] for line in spool_path(out).read_text().splitlines()]
    gone = exported_before[:5] + ids[-5:]  # some already exported, some not yet
    client.entities.items.delete_many(gone)
    added = seed(client, 20)

    resumed = subprocess.run(
        [*command, "--resume"], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after" in resumed.stderr
    got = [r["_id"] for r in read_back(out, fmt)]
    counts = Counter(got)
    assert max(counts.values()) == 1  # nothing twice
    stable = set(ids) - set(gone)
    assert stable <= set(got)  # nothing that stayed is missing
    assert set(got) <= set(ids) | set(added)
    expected = client.entities.items.list(sort={"n": 1, "code": -1, "_id": 1}).list
    assert [i for i in got if i in stable] == [r.id for r in expected if r.id in stable]
    if fmt == "json":
        json.loads(out.read_text())  # a valid JSON document


# -- bounded memory ----------------------------------------------------------------------------
PEAK = textwrap.dedent(
    """
    import sys, tracemalloc
    from lumi.data.cli import entities
    tracemalloc.start()
    try:
        entities.main(sys.argv[1:], standalone_mode=False)
    finally:
        print("PEAK", tracemalloc.get_traced_memory()[1], file=sys.stderr)
    """
)


def peak_of(env: dict[str, str], *args: str) -> int:
    """Peak Python memory of one ``lumi entities`` command run in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    line = [line for line in done.stderr.splitlines() if line.startswith("PEAK")][-1]
    return int(line.split()[1])


def big(n: int) -> dict[str, Any]:
    return {"code": f"C{n:06d}", "n": n % 13, "text": "x" * 1000, "tags": ["a", "b"]}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_export_memory_does_not_grow_with_the_number_of_records(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
    fmt: str,
) -> None:
    small, large = 1000, 5000
    for start in range(0, large, 500):
        client.entities.small.create_many([big(n) for n in range(start, min(start + 500, small))])
        client.entities.large.create_many([big(n) for n in range(start, start + 500)])
    args = ("--page-size", "100", "--format", fmt)
    peak_small = peak_of(env, "export", "small", "-o", str(tmp_path / f"s.{fmt}"), *args)
    peak_large = peak_of(env, "export", "large", "-o", str(tmp_path / f"l.{fmt}"), *args)
    assert len(read_back(tmp_path / f"l.{fmt}", fmt)) == large
    # 4,000 more records of about 1.1 kB: holding them would add well over 4 MB.
    assert peak_large - peak_small < 1_000_000, (peak_small, peak_large)
    to_stdout = peak_of(env, "export", "large", *args)  # stdout: CSV spools to a temporary file
    assert to_stdout - peak_small < 1_000_000, (peak_small, to_stdout)


def test_json_array_import_memory_does_not_grow_with_the_file(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
) -> None:
    peaks = []
    for name, count in (("small", 1000), ("large", 5000)):
        source = tmp_path / f"{name}.json"
        with source.open("w", encoding="utf-8") as stream:
            stream.write("[\n" + ",\n".join(json.dumps(big(n)) for n in range(count)) + "\n]")
        peaks.append(peak_of(env, "import", name, str(source), "--chunk-size", "100"))
        assert client.entities[name].count() == count
    assert peaks[1] - peaks[0] < 1_000_000, peaks


# -- JSON-array import, streamed -----------------------------------------------------------------
def test_json_array_import_reads_items_one_by_one(
    env: dict[str, str],
    client: LumiClient,
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.json"
    source.write_bytes(
        b'\xef\xbb\xbf  [{"code": "A", "price": 1.5, "big": 9223372036854775807},'
        b' 3, {"code": "B", "nested": {"k": [1, null]}}]'
    )
    result = run("import", "things", str(source), ok=False)
    assert result.exit_code == 3 and "rejected item 2: expected a JSON object, got int" in (
        result.stderr
    )
    stored = {r["code"]: r for r in client.entities.things.list().list}
    assert stored["A"]["price"] == 1.5 and stored["A"]["big"] == 2**63 - 1  # exact, not a float
    assert stored["B"]["nested"] == {"k": [1, None]}

    single = tmp_path / "one.json"
    single.write_text('{"code": "C"}')
    run("import", "things", str(single))
    assert client.entities.things.count(filter={"code": "C"}) == 1

    broken = tmp_path / "broken.json"
    broken.write_text('[{"code": "D"}, {"code": "E",, }]')
    refused = run("import", "things", str(broken), ok=False)
    assert refused.exit_code == 1 and "item 2: not valid JSON" in refused.output
    assert client.entities.things.count(filter={"code": "D"}) == 0  # nothing sent
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    refused = run("import", "things", str(scalar), ok=False)
    assert "must hold an array of objects" in refused.output
