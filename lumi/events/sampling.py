"""Sampling per event kind, deterministic per session.

A session's trace id is hashed to a number u in [0, 1); an event of kind k is kept when
u < rate[k]. Every event of a session sees the same u, so a session is kept or dropped as a
whole, and with nested rates (turn 1.0, span 0.5) the sessions that keep spans are a subset of
those that keep turns. Events without a session (identify) are hashed on their distinct id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def sample_point(key: str) -> float:
    """A stable, uniform number in [0, 1) for ``key`` (same on every machine and run)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Sampler:
    """``keep(kind, key)``; kinds without a configured rate are always kept."""

    def __init__(self, rates: Mapping[str, float]) -> None:
        self._rates = dict(rates)

    def rate(self, kind: str) -> float:
        return self._rates.get(kind, 1.0)

    def keep(self, kind: str, key: str) -> bool:
        rate = self._rates.get(kind, 1.0)
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        return sample_point(key) < rate
