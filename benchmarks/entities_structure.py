"""Structuring 10,000 records of a 12-field entity: ``lumi.structure`` into the class
``lumi codegen`` generates vs pydantic v2 validating the same data into an equivalent model.

The entity is a real app's schema (``entities_assets.json``, the ``assets`` entity of a farm
management app: strings, enums, a number, an int, two datetimes, plus ``_id``/``creator`` and
an undeclared key). Both sides parse the datetimes and keep the undeclared key.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

import lumi
from codegen import generate_entities
from lumi.entity_schema import load_entity_schemas

from ._timing import compare, report

SCHEMA = Path(__file__).with_name("entities_assets.json")
RECORDS = 10_000


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
    type: Literal["tractor", "forklift", "motorbike", "generator"]
    fuel_type: Literal["diesel", "petrol", "electric", "hybrid"]
    tank_capacity: float
    status: Literal["active", "maintenance", "retired"]
    created_at: dt.datetime
    id: str | None = Field(default=None, alias="_id")
    creator: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    year: int | None = None
    location: str | None = None
    updated_at: dt.datetime | None = None


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


def main() -> None:
    cls = generated_class()
    data = records(RECORDS)
    adapter = TypeAdapter(list[AssetModel])

    def with_lumi() -> object:
        return [lumi.structure(item, cls) for item in data]

    def with_pydantic() -> object:
        return adapter.validate_python(data)

    sample_lumi, sample_pydantic = with_lumi()[0], with_pydantic()[0]  # type: ignore[index]
    assert sample_lumi.created_at == sample_pydantic.created_at
    assert sample_lumi.extra == {"legacyCode": 0} == sample_pydantic.model_extra
    baseline = "pydantic v2 TypeAdapter(list[Model])"
    rows = compare(
        {baseline: with_pydantic, "lumi.structure (codegen attrs class)": with_lumi}, 1, 5
    )
    report(f"structure {RECORDS:,} records of a 12-field entity (per batch)", rows, baseline)
    per_record = dict(rows)["lumi.structure (codegen attrs class)"] / RECORDS
    print(f"  lumi: {per_record * 1e6:.1f} µs/record")


if __name__ == "__main__":
    main()
