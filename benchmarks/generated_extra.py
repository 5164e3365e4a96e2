"""The ``extra`` factory of generated classes: ``factory=new_extra`` (typed, what codegen writes)
against ``factory=dict`` (what it wrote before), constructing a small record class."""

from __future__ import annotations

from typing import Any

import attrs

from lumi.model import UNSET, Unset, new_extra

from ._timing import compare, report


@attrs.define(kw_only=True)
class WithDict:
    title: str = attrs.field(metadata={"wire": "title"})
    views: int | Unset = attrs.field(default=UNSET, metadata={"wire": "views"})
    extra: dict[str, Any] = attrs.field(factory=dict, metadata={"extra": True})


@attrs.define(kw_only=True)
class WithNewExtra:
    title: str = attrs.field(metadata={"wire": "title"})
    views: int | Unset = attrs.field(default=UNSET, metadata={"wire": "views"})
    extra: dict[str, Any] = attrs.field(factory=new_extra, metadata={"extra": True})


def main() -> None:
    rows = compare(
        {
            "factory=dict (before)": lambda: WithDict(title="x"),
            "factory=new_extra (generated now)": lambda: WithNewExtra(title="x"),
        },
        calls=100_000,
        rounds=15,
    )
    report("construct a record class with an empty extra", rows, "factory=dict (before)")


if __name__ == "__main__":
    main()
