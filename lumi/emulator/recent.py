"""A bounded map that forgets its least recently used entries, safe to share between threads.

Written here rather than taken from a library: ``functools.lru_cache`` memoises a function, and
the emulator's caches (keyset counts, what a find learnt of an entity, plan choices) are maps
their owners fill and check themselves.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

V = TypeVar("V")

#: Characters of text a key may hold as it is; a longer key is kept as its digest.
_LONG_KEY: Final = 4096


def memo_key(*parts: Hashable) -> Hashable:
    """``parts`` as a key of a :class:`Recent`, or their SHA-256 when their text is long (a
    filter with a long ``$in`` is part of the SQL): a full cache then holds its entries'
    digests, not megabytes of filters each."""
    size = 0
    for part in parts:
        if isinstance(part, str):
            size += len(part)
        elif isinstance(part, tuple):
            size += sum(len(item) if isinstance(item, str) else 1 for item in part)
        else:
            size += 1
    if size <= _LONG_KEY:
        return parts
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).digest()


class Recent(Generic[V]):
    """At most ``size`` entries; reading or writing one makes it the most recent."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
