"""``lumi.new_id()``: document ids made by the client, in the server's own format.

A create that carries its own ``_id`` can be repeated safely: the second copy is refused as a
duplicate instead of being stored twice, so the client retries such creates (see
:mod:`lumi.retry`). The ids look like MongoDB ObjectIds: 24 lower-case hex digits made of the
Unix time in seconds (4 bytes), a random value per process (5 bytes) and a counter (3 bytes)
starting at a random value, so they sort roughly by creation time and never repeat within a
process, nor across processes and forks in practice.
"""

from __future__ import annotations

import itertools
import os
import time


class _IdSource:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._process = os.urandom(5)
        # next() on itertools.count is atomic under the GIL: no lock needed between threads.
        self._counter = itertools.count(int.from_bytes(os.urandom(3), "big"))

    def new(self) -> str:
        counter = next(self._counter) & 0xFFFFFF
        seconds = int(time.time()) & 0xFFFFFFFF
        return (seconds.to_bytes(4, "big") + self._process + counter.to_bytes(3, "big")).hex()


_source = _IdSource()
if hasattr(os, "register_at_fork"):  # a forked child must not repeat its parent's ids
    os.register_at_fork(after_in_child=_source._reset)


def new_id() -> str:
    """A fresh 24-hex ObjectId-style id for ``_id``: ``posts.create({"_id": lumi.new_id(), ...})``."""
    return _source.new()
