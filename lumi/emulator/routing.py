"""Matching a request path and method to a route of the emulator's table.

Paths are literal segments and ``<name>`` segments (one non-empty segment, no ``/``), and may
end with one ``<path:name>`` (the rest of the path, slashes included, a trailing one too). One
trailing slash is tolerated, two where the route is written with one; a ``GET`` route answers
``HEAD`` too; where a literal and a ``<name>`` segment could both match, the literal wins. These
are the rules the emulator had with Werkzeug's ``Map(strict_slashes=False,
merge_slashes=False)``, and a differential test holds the two together.

Written here rather than kept on Werkzeug's router: its state machine walks the path segment
by segment in Python and was about a tenth of the emulator's CPU per ``get`` by id; this
compiles the whole table, per method, into one regular expression (one call into the ``re``
engine per request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["MethodNotAllowed", "NoRoute", "Router"]

_VARIABLE = re.compile(r"<(path:)?([A-Za-z_][A-Za-z0-9_]*)>")


class NoRoute(LookupError):
    """No route has this path."""


class MethodNotAllowed(LookupError):
    """Routes have this path, none this method; ``allowed`` are the methods they take."""

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = list(allowed)


class _Route(Generic[T]):
    __slots__ = ("group", "groups", "methods", "order", "pattern", "target")

    def __init__(self, index: int, path: str, methods: Iterable[str], target: T) -> None:
        segments = [segment for segment in path.strip("/").split("/") if segment]
        self.target = target
        self.group = f"r{index}"
        self.methods = frozenset(method.upper() for method in methods)
        if "GET" in self.methods:
            self.methods |= {"HEAD"}
        names: list[str] = []
        parts = []
        rest_last = False
        for number, segment in enumerate(segments, 1):
            variable = _VARIABLE.fullmatch(segment)
            if variable is None:
                if "<" in segment or ">" in segment:
                    raise ValueError(f"route {path!r}: a segment is a literal or one <name>")
                parts.append(re.escape(segment))
                continue
            rest, name = variable.groups()
            if rest and number != len(segments):
                raise ValueError(f"route {path!r}: only the last segment may be a <path:name>")
            names.append(name)
            rest_last = bool(rest)
            parts.append(f"(?P<{self.group}_{name}>{'[^/].*' if rest else '[^/]+'})")
        if len(set(names)) != len(names):
            raise ValueError(f"route {path!r} names a value twice")
        #: (value name, its group in the pattern)
        self.groups = tuple((name, f"{self.group}_{name}") for name in names)
        #: Literal segments before variable ones, segment by segment; a rest-of-path last.
        self.order = tuple(
            0 if found is None else 2 if found.group(1) else 1
            for found in map(_VARIABLE.fullmatch, segments)
        )
        # A rest-of-path keeps trailing slashes; a path written with one takes one more.
        tail = "" if rest_last else "/?/?" if path.endswith("/") else "/?"
        body = f"/{'/'.join(parts)}{tail}" if parts else "/"
        self.pattern = f"(?P<{self.group}>{body})"


class Router(Generic[T]):
    """A route table: ``(path, methods, target)`` in any order."""

    def __init__(self, routes: Iterable[tuple[str, Iterable[str], T]]) -> None:
        self._routes = [
            _Route(index, path, methods, target)
            for index, (path, methods, target) in enumerate(routes)
        ]
        ranked = sorted(self._routes, key=lambda route: (len(route.order), route.order))
        self._by_group = {route.group: route for route in ranked}
        self._by_method = {
            method: re.compile("|".join(r.pattern for r in ranked if method in r.methods))
            for method in {method for route in ranked for method in route.methods}
        }
        self._any = [(re.compile(route.pattern), route) for route in ranked]

    def match(self, path: str, method: str) -> tuple[T, dict[str, str]]:
        """The target and the ``<name>`` values of the route for ``path`` and ``method``;
        :class:`NoRoute` or :class:`MethodNotAllowed` when there is none."""
        pattern = self._by_method.get(method)
        found = None if pattern is None else pattern.fullmatch(path)
        if found is None:
            return self._explain(path)
        route = self._by_group[str(found.lastgroup)]  # every alternative is one named group
        return route.target, _values(route, found)

    def first(self, path: str) -> tuple[T, dict[str, str]]:
        """The route that ``path`` would reach with the first of its methods (a CORS preflight
        asks about a path, not about one method); :class:`NoRoute` when there is none."""
        for pattern, route in self._any:
            found = pattern.fullmatch(path)
            if found is not None:
                return route.target, _values(route, found)
        raise NoRoute(path)

    def _explain(self, path: str) -> tuple[T, dict[str, str]]:
        allowed = {
            m for pattern, route in self._any if pattern.fullmatch(path) for m in route.methods
        }
        if not allowed:
            raise NoRoute(path)
        raise MethodNotAllowed(sorted(allowed))


def _values(route: _Route[T], found: re.Match[str]) -> dict[str, str]:
    return {name: found[group] for name, group in route.groups}
