"""``UNSET``: a field that was not given, as distinct from one given as ``null``/``None``.

Generated classes default their optional fields to ``UNSET``; the converter leaves ``UNSET``
fields out of the JSON it writes, the way JavaScript's ``JSON.stringify`` drops ``undefined``.
A single-member enum lets mypy narrow ``if value is not UNSET:``.
"""

from __future__ import annotations

import enum
from typing import Final


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
