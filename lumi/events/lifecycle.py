"""Process life cycle of the trackers: a bounded flush at interpreter exit, and a fresh start in
a child after ``os.fork()`` (e.g. gunicorn ``--preload``)."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger("lumi.events")

#: Strong references: a tracker dropped by its owner must still flush at exit (its worker may
#: hold events); ``forget`` removes it. Values: (at exit, after fork in the child).
_HOOKS: dict[int, tuple[Callable[[], None], Callable[[], None]]] = {}
_INSTALLED = False
_LOCK = threading.Lock()


def remember(key: object, at_exit: Callable[[], None], after_fork: Callable[[], None]) -> None:
    """Run ``at_exit`` at interpreter exit and ``after_fork`` in a forked child, until
    :func:`forget`."""
    global _INSTALLED
    with _LOCK:
        _HOOKS[id(key)] = (at_exit, after_fork)
        if not _INSTALLED:
            atexit.register(_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_after_fork_in_child)
            _INSTALLED = True


def forget(key: object) -> None:
    with _LOCK:
        _HOOKS.pop(id(key), None)


def _at_exit() -> None:
    for at_exit, _ in list(_HOOKS.values()):
        try:
            at_exit()
        except Exception:  # the exit hook must never raise
            logger.exception("lumi.events: exit flush failed")


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # it may have been held by another thread at fork() time
    for _, after_fork in list(_HOOKS.values()):
        after_fork()
