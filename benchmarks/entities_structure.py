"""Structuring and unstructuring 10,000 records of a 12-field entity: the class ``lumi codegen``
generates vs pydantic v2 and msgspec, on the same dicts, in interleaved rounds.

The entity is a real app's schema (``entities_assets.json``, the ``assets`` entity of a farm
management app: strings, three enums, a number, an int, two datetimes, plus ``_id``/``creator``)
and every record has one undeclared key. The work is the same on each side, and checked before
anything is timed:

* structure: datetimes parsed to aware datetimes, enums checked, the number read as a float, the
  undeclared key kept (pydantic ``extra="allow"``; lumi ``extra``); the results agree field by
  field on every record. msgspec is the floor: it drops the undeclared key (it cannot keep one).
* unstructure: back to wire dicts, datetimes written as ISO strings, absent fields left out
  (pydantic ``exclude_unset``), the undeclared key written back; lumi must give back exactly
  the dicts it read.

A third table compares the two ways of generating lumi's per-class functions: compiled at run
time on first use (what lumi does) or emitted as source into a module (what ``lumi codegen``
could do): the same bytecode per call, and their one-time costs.

Run: ``python -m benchmarks.entities_structure`` (``ROUNDS=...`` in the environment for more).
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

import lumi
from codegen import generate_entities
from lumi import serde
from lumi.entity_schema import load_entity_schemas

from ._timing import compare, report

SCHEMA = Path(__file__).with_name("entities_assets.json")
RECORDS = 10_000
ROUNDS = int(os.environ.get("ROUNDS", "15"))
#: CPU time of this thread: what the work costs, not how long other processes on this shared
#: machine kept it waiting.
CLOCK = time.thread_time
AssetType = Literal["tractor", "forklift", "motorbike", "generator"]
FuelType = Literal["diesel", "petrol", "electric", "hybrid"]
Status = Literal["active", "maintenance", "retired"]


def generated_class() -> Any:
    """The ``assets`` class, compiled by the codegen from the schema file and imported."""
    code = generate_entities(
        load_entity_schemas([SCHEMA]), source_name=SCHEMA.name, regenerate_with="benchmark"
    )
    target = Path(tempfile.mkdtemp()) / "bench_assets.py"
    target.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("bench_assets", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_assets"] = module
    spec.loader.exec_module(module)
    return module.ENTITIES["assets"]


class AssetModel(BaseModel):
    """The same entity as a pydantic v2 model (extra keys kept, like lumi's ``extra``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    asset_id: str
    name: str
    type: AssetType
    fuel_type: FuelType
    tank_capacity: float
    status: Status
    created_at: dt.datetime
    id: str | None = Field(default=None, alias="_id")
    creator: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    year: int | None = None
    location: str | None = None
    updated_at: dt.datetime | None = None


class AssetStruct(msgspec.Struct):
    """The same entity as a msgspec Struct (which cannot keep undeclared keys)."""

    asset_id: str
    name: str
    type: AssetType
    fuel_type: FuelType
    tank_capacity: float
    status: Status
    created_at: dt.datetime
    id: str | None = msgspec.field(default=None, name="_id")
    creator: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    year: int | None = None
    location: str | None = None
    updated_at: dt.datetime | None = None


FIELDS = [name for name in AssetModel.model_fields]


def records(count: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for index in range(count):
        when = start + dt.timedelta(minutes=rng.randint(0, 10**6))
        out.append(
            {
                "_id": f"{index:024x}",
                "creator": None,
                "asset_id": f"A-{index}",
                "name": f"Tractor {index}",
                "type": rng.choice(["tractor", "forklift", "motorbike", "generator"]),
                "fuel_type": rng.choice(["diesel", "petrol", "electric", "hybrid"]),
                "tank_capacity": rng.choice([50, 72.5, 120.0]),
                "manufacturer": "Deere",
                "model": "5075E",
                "year": rng.randint(1990, 2025),
                "status": "active",
                "location": "north field",
                "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "updated_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "legacyCode": index,
            }
        )
    return out


def check_same_work(data: list[dict[str, Any]], ours: list[Any], theirs: list[Any]) -> None:
    """Every record reads to the same values on both sides, the undeclared key included."""
    assert len(ours) == len(theirs) == len(data)
    for raw, mine, other in zip(data, ours, theirs, strict=True):
        for name in FIELDS:
            assert getattr(mine, name) == getattr(other, name), (name, raw)
        assert isinstance(mine.tank_capacity, float) and mine.created_at.tzinfo is not None
        assert mine.extra == {"legacyCode": raw["legacyCode"]} == other.model_extra


def table(title: str, candidates: dict[str, Any]) -> list[tuple[str, float]]:
    """Time the candidates in interleaved rounds and print them against the first one.

    The garbage collector is paused while timing, as ``timeit`` does: a full collection walks
    everything alive in this process (the other candidates' results included) and would land
    on whichever side happened to trigger it. Nothing timed here makes reference cycles."""
    gc.collect()
    gc.disable()
    try:
        rows = compare(candidates, 1, ROUNDS, clock=CLOCK)
    finally:
        gc.enable()
    report(title, rows, rows[0][0])
    return rows


def median_seconds(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = CLOCK()
        fn()
        samples.append(CLOCK() - started)
    return statistics.median(samples)


def compiled_vs_emitted(cls: Any, data: list[dict[str, Any]]) -> None:
    """lumi's structure function compiled at run time vs the same source emitted in a module."""
    source, helpers = serde.new_compiler().source("structure", cls)
    path = Path(tempfile.mkdtemp()) / "bench_emitted.py"
    path.write_text("# What `lumi codegen` would emit.\n" + source, encoding="utf-8")

    def import_emitted() -> Any:
        # An emitted module would import lumi's helpers; here they are bound before it runs.
        spec = importlib.util.spec_from_file_location("bench_emitted", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        vars(module).update(helpers)
        spec.loader.exec_module(module)  # from the cached .pyc after the first time
        return module.structure

    emitted = import_emitted()
    compiled = serde.new_compiler().structurer(cls)

    def with_compiled() -> object:
        return [compiled(item) for item in data]

    def with_emitted() -> object:
        return [emitted(item) for item in data]

    assert with_compiled() == with_emitted()
    table(
        f"lumi's structure function, {RECORDS:,} records (per batch)",
        {"emitted in a module": with_emitted, "compiled at run time": with_compiled},
    )

    def compile_once() -> None:
        serde.new_compiler().structurer(cls)

    rows = [
        ("import the emitted module (.pyc)", median_seconds(import_emitted, 200)),
        ("compile at run time", median_seconds(compile_once, 200)),
    ]
    report("one-time cost per class", rows, rows[0][0])


def main() -> None:
    cls = generated_class()
    data = records(RECORDS)
    adapter = TypeAdapter(list[AssetModel])
    many = list[cls]  # type: ignore[valid-type]
    structs = list[AssetStruct]

    def lumi_structure() -> Any:
        return lumi.structure(data, many)

    def pydantic_structure() -> Any:
        return adapter.validate_python(data)

    def msgspec_structure() -> Any:
        return msgspec.convert(data, structs)

    ours, models, floor = lumi_structure(), pydantic_structure(), msgspec_structure()
    check_same_work(data, ours, models)
    assert [s.created_at for s in floor] == [o.created_at for o in ours]
    rows = table(
        f"structure {RECORDS:,} records of a 12-field entity (per batch)",
        {
            "pydantic v2 TypeAdapter(list[Model])": pydantic_structure,
            "lumi.structure(list[Assets]) (codegen class)": lumi_structure,
            "msgspec.convert (floor; drops the extra key)": msgspec_structure,
        },
    )
    structure_ratio = rows[1][1] / rows[0][1]

    def lumi_unstructure() -> Any:
        return lumi.unstructure(ours)

    def pydantic_unstructure() -> Any:
        return adapter.dump_python(models, mode="json", by_alias=True, exclude_unset=True)

    def msgspec_unstructure() -> Any:
        return msgspec.to_builtins(floor)

    assert lumi_unstructure() == data  # exactly what was read, undeclared key included
    assert [set(d) for d in pydantic_unstructure()] == [set(d) for d in data]
    rows = table(
        f"unstructure {RECORDS:,} records (per batch)",
        {
            "pydantic v2 dump_python(mode='json')": pydantic_unstructure,
            "lumi.unstructure (codegen class)": lumi_unstructure,
            "msgspec.to_builtins (floor)": msgspec_unstructure,
        },
    )
    print(
        f"  lumi: structure x{structure_ratio:.2f}, unstructure x{rows[1][1] / rows[0][1]:.2f} "
        f"of pydantic; {dict(rows)['lumi.unstructure (codegen class)'] / RECORDS * 1e6:.1f} "
        "µs/record to write"
    )
    compiled_vs_emitted(cls, data)


if __name__ == "__main__":
    main()
