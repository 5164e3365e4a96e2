"""Structure and unstructure functions written for each wire class and compiled at run time.

Reading a record through per-field closures costs a Python call per field; here each class gets
one function whose source has a branch per field, with the checks of the common case inlined
(``v.__class__ is str``, a ``frozenset`` for a ``Literal``, one set test for a list of scalars).
Anything unusual in a field goes to that field's full reader (:func:`lumi.serde.reader_for`),
which converts it or raises the :class:`SchemaError` that names it. cattrs builds its functions
the same way (``make_dict_structure_fn``), but it has no place for what this contract needs:
unknown keys gathered into ``extra``, lenient records, ``UNSET`` left out when writing.

The functions are compiled on first use rather than emitted by ``lumi codegen`` into the
generated module: they run at the same speed (the same bytecode), compiling one takes about a
millisecond once per class, and generated modules stay plain classes that depend on no private
helper, so an upgrade of ``lumi`` never needs a regeneration (``benchmarks/entities_structure.py``
measures both).
"""

from __future__ import annotations

import datetime as _dt
import linecache
import logging
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._unset import UNSET
from ._wire import ID_ALIAS, ID_WIRE, WireClass, is_wire_class, wire_class
from .errors import SchemaError, ValidationError

logger = logging.getLogger("lumi")

Fn = Callable[[Any], Any]

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()
_SCALARS = (str, int, bool)
#: The types written to JSON as they are.
JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


class Compiler:
    """Builds (once) and caches the structure/unstructure function of each wire class."""

    def __init__(
        self,
        reader_for: Callable[[Any], Fn],
        unstructure: Fn,
        iso_string: Callable[[_dt.datetime], str],
        from_iso: Callable[[str], _dt.datetime],
        lenient: Callable[[type], bool],
    ) -> None:
        self._reader_for = reader_for
        self._from_iso = from_iso
        self._unstructure = unstructure
        self._iso_string = iso_string
        self._lenient = lenient
        self.structurers: dict[type, Fn] = {}
        self.unstructurers: dict[type, Fn] = {}
        self._lock = threading.RLock()
        self._building: set[tuple[str, type]] = set()

    # -- public ----------------------------------------------------------------------------
    def structurer(self, cls: type) -> Fn:
        """The function reading a wire mapping as ``cls``."""
        return self.structurers.get(cls) or self._function("structure", cls)

    def unstructurer(self, cls: type) -> Fn:
        """The function writing an instance of ``cls`` as a wire dict."""
        return self.unstructurers.get(cls) or self._function("unstructure", cls)

    def building(self, cls: type) -> bool:
        """Whether the structure function of ``cls`` is being built (by any thread)."""
        return ("structure", cls) in self._building

    def source(self, kind: str, cls: type) -> tuple[str, dict[str, Any]]:
        """The Python source of the ``kind`` ("structure" or "unstructure") function of ``cls``
        and the names it uses (for the benchmark that compares compiling at run time with
        emitting the source in a module)."""
        build = self._structure_source if kind == "structure" else self._unstructure_source
        env: dict[str, Any] = {}
        return build(wire_class(cls), env), env

    # -- building --------------------------------------------------------------------------
    def _function(self, kind: str, cls: type) -> Fn:
        table = self.structurers if kind == "structure" else self.unstructurers
        with self._lock:
            found = table.get(cls)
            if found is None:
                self._building.add((kind, cls))
                try:
                    source, env = self.source(kind, cls)
                    name = f"<lumi {kind} {cls.__module__}.{cls.__qualname__}>"
                    found = table[cls] = _compile(source, env, name)
                finally:
                    self._building.discard((kind, cls))
        return found

    def _nested(self, kind: str, cls: type) -> Fn:
        """The function of a nested class; a trampoline while that class is itself being built
        (a class that contains itself, directly or not)."""
        find = self.structurer if kind == "structure" else self.unstructurer
        if (kind, cls) in self._building:
            return lambda value: find(cls)(value)
        return find(cls)

    # -- structure -------------------------------------------------------------------------
    def _structure_source(self, wc: WireClass, env: dict[str, Any]) -> str:
        cls = wc.cls
        name = cls.__name__
        lenient = wc.extra is not None and self._lenient(cls)
        fields = [(index, field) for index, field in enumerate(wc.fields) if field.init]
        env.update(
            cls=cls,
            _new=object.__new__,
            _M=_MISSING,
            UNSET=UNSET,
            SchemaError=SchemaError,
            _Mapping=Mapping,
            KNOWN=frozenset(field.wire for _, field in fields),
            _strict_fail=_strict_failure(wc),
            _finish=_lenient_finish(wc),
            _absent=_MISSING,
        )
        required = sum(1 for _, field in fields if field.required)
        lines = [
            "def structure(data):",
            "    if data.__class__ is not dict:",
            "        if isinstance(data, cls):",
            "            return data",
            "        if not isinstance(data, _Mapping):",
            f"            raise SchemaError({name + ': expected an object, got '!r} + repr(data)[:60])",
            f"    n = {required}",  # the keys of `data` that are typed fields
            "    misfits = missing = None",
        ]
        for index, field in fields:
            var, wire = f"a{index}", field.wire
            by_id = wire == ID_WIRE and wc.id_alias
            if by_id:
                env["_by_id_alias"] = _by_id_alias(self, cls)
            if field.required:  # usually there: a subscript is cheaper than .get()
                lines += ["    try:", f"        v = data[{wire!r}]", "    except KeyError:"]
                if by_id:
                    lines += [
                        f"        if {ID_ALIAS!r} in data:",
                        "            return _by_id_alias(data)",
                    ]
                lines += [
                    "        n -= 1",
                    f"        {var} = UNSET",
                    "        if missing is None:",
                    "            missing = []",
                    f"        missing.append({wire!r})",
                    "    else:",
                ]
            else:
                lines.append(f"    v = data.get({wire!r}, _M)")
                if by_id:
                    lines += [
                        f"    if v is _M and {ID_ALIAS!r} in data:",
                        "        return _by_id_alias(data)",
                    ]
                lines += [
                    "    if v is _M:",
                    f"        {var} = {_default_expression(field.default, index, env)}",
                    "    else:",
                    "        n += 1",
                ]
            lines.append("        try:")
            lines += [
                "            " + line for line in self._read_lines(field.type, var, f"{index}", env)
            ]
            lines.append("        except SchemaError as e:")
            if lenient:
                lines += [
                    f"            {var} = UNSET",
                    "            if misfits is None:",
                    "                misfits = {}",
                    f"            misfits[{wire!r}] = e.message",
                ]
            else:
                prefix = f"{name}.{wire}: "
                lines.append(f"            raise SchemaError({prefix!r} + e.message) from None")
        lines += [
            "    extra = {}",
            "    if n != len(data):",  # a plain loop: cheaper than a comprehension or a set
            "        for k in data:",
            "            if k not in KNOWN:",
            "                extra[k] = data[k]",
        ]
        arguments = [(field.alias, field.name, f"a{index}") for index, field in fields]
        if wc.extra is None:
            lines += [
                "    if missing is not None or extra:",
                "        _strict_fail(missing, extra)",
            ]
        elif not lenient:
            lines += ["    if missing is not None:", "        _strict_fail(missing, extra)"]
        else:
            by_alias = ", ".join(f"{alias!r}: {var}" for alias, _, var in arguments)
            lines += [
                "    if misfits is not None or missing is not None:",
                f"        return _finish(data, misfits, missing, {{{by_alias}}})",
            ]
        if wc.extra is not None and wc.extra_alias is not None:
            arguments.append((wc.extra_alias, wc.extra, "extra"))
        if any("= _absent" in line for line in lines) or not _plain(wc):
            lines.append(f"    return {_call('cls', [(a, v) for a, _, v in arguments])}")
        else:  # what attrs' __init__ would do, without the call: one store per slot
            lines.append("    o = _new(cls)")
            lines += [f"    o.{attribute} = {var}" for _, attribute, var in arguments]
            lines.append("    return o")
        return "\n".join(lines) + "\n"

    def _read_lines(self, tp: Any, var: str, suffix: str, env: dict[str, Any]) -> list[str]:
        """Lines that read ``v`` as ``tp`` into ``var``: the common case inline, anything else
        through the full reader (which raises SchemaError when ``v`` does not fit)."""
        reader = f"r{suffix}"
        env[reader] = self._reader_for(tp)
        slow = f"{reader}(v)"
        if tp is Any or tp is object:
            return [f"{var} = v"]
        if tp in _SCALARS:
            env[f"t{suffix}"] = tp
            return [f"{var} = v if v.__class__ is t{suffix} else {slow}"]
        if tp is float:  # an int goes through the reader, which makes it a float
            env["_float"] = float
            return [f"{var} = v if v.__class__ is _float else {slow}"]
        if tp is _dt.datetime:
            # Inline: what JavaScript writes ("...Z") parses straight to an aware UTC datetime;
            # anything else (another offset, no offset, a date alone) goes to the reader.
            env.update(_from_iso=self._from_iso, _str=str, _UTC=_dt.timezone.utc)
            return [
                "if v.__class__ is _str:",
                "    try:",
                f"        {var} = _from_iso(v)",
                "    except ValueError:",
                f"        {var} = {slow}",
                "    else:",
                f"        if {var}.tzinfo is not _UTC:",
                f"            {var} = {slow}",
                "else:",
                f"    {var} = {slow}",
            ]
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Literal:
            kinds = {type(value) for value in args}
            if len(kinds) == 1 and kinds <= set(_SCALARS):
                env[f"t{suffix}"], env[f"L{suffix}"] = kinds.pop(), frozenset(args)
                test = f"v.__class__ is t{suffix} and v in L{suffix}"
                return [f"{var} = v if {test} else {slow}"]
            return [f"{var} = {slow}"]
        if origin in (typing.Union, types.UnionType):
            others = [a for a in args if a is not type(None)]
            if len(others) == 1 and len(args) == 2:  # T | None
                inner = self._read_lines(others[0], var, suffix + "n", env)
                return ["if v is None:", f"    {var} = None", "else:", *("    " + i for i in inner)]
            return [f"{var} = {slow}"]
        if origin is list or tp is list:
            item = args[0] if args else Any
            is_list = "v.__class__ is list"
            if item is Any or item is object:
                return [f"{var} = list(v) if {is_list} else {slow}"]
            if item in _SCALARS or item is float:
                env[f"S{suffix}"] = frozenset({item})
                return [
                    f"{var} = list(v) if {is_list} and S{suffix}.issuperset(map(type, v)) else {slow}"
                ]
            if typing.get_origin(item) is typing.Literal:
                kinds = {type(value) for value in typing.get_args(item)}
                if len(kinds) == 1 and kinds <= set(_SCALARS):
                    env[f"S{suffix}"] = frozenset(kinds)
                    env[f"L{suffix}"] = frozenset(typing.get_args(item))
                    test = f"{is_list} and S{suffix}.issuperset(map(type, v)) and L{suffix}.issuperset(v)"
                    return [f"{var} = list(v) if {test} else {slow}"]
            if is_wire_class(item):
                env[f"s{suffix}"] = self._nested("structure", item)
                return [
                    f"if {is_list}:",
                    "    try:",
                    f"        {var} = [s{suffix}(x) for x in v]",
                    "    except SchemaError:",  # again through the reader, to name the element
                    f"        {var} = {slow}",
                    "else:",
                    f"    {var} = {slow}",
                ]
            return [f"{var} = {slow}"]
        if origin in (dict, Mapping) and args and args[0] is str and args[1] in (Any, object):
            env["_STR"] = frozenset({str})
            test = "v.__class__ is dict and _STR.issuperset(map(type, v))"
            return [f"{var} = dict(v) if {test} else {slow}"]
        if is_wire_class(tp):
            env[f"s{suffix}"] = self._nested("structure", tp)
            return [f"{var} = s{suffix}(v)"]
        return [f"{var} = {slow}"]

    # -- unstructure -----------------------------------------------------------------------
    def _unstructure_source(self, wc: WireClass, env: dict[str, Any]) -> str:
        env.update(
            UNSET=UNSET,
            _u=self._unstructure,
            _JSON=JSON_SCALARS,
            ValidationError=ValidationError,
            _locate=_locator(wc, self._unstructure),
        )
        lines = ["def unstructure(obj):", "    try:", "        out = {}"]
        for index, field in enumerate(wc.fields):
            expression = self._write_expression(field.type, f"{index}", env)
            lines += [
                f"        v = obj.{field.name}",
                "        if v is not UNSET:",
                f"            out[{field.wire!r}] = {expression}",
            ]
        if wc.extra is not None:
            lines += [
                f"        extra = obj.{wc.extra}",
                "        if extra:",
                "            for k, v in extra.items():",
                "                if k not in out and v is not UNSET:",
                "                    out[k] = v if v.__class__ in _JSON else _u(v)",
            ]
        lines += [
            "        return out",
            "    except ValidationError as e:",  # a naive datetime: name the field
            "        raise _locate(obj, e) from None",
        ]
        return "\n".join(lines) + "\n"

    def _write_expression(self, tp: Any, suffix: str, env: dict[str, Any]) -> str:
        """An expression writing ``v`` (of type ``tp``) as JSON; ``_u`` for anything unusual."""
        if tp in _SCALARS or tp is float or tp is Any or tp is object:
            # JSON scalars are written as they are, whichever the field's type.
            return "v if v.__class__ in _JSON else _u(v)"
        if tp is _dt.datetime:
            env["_datetime"], env["_iso"] = _dt.datetime, self._iso_string
            return "_iso(v) if v.__class__ is _datetime else _u(v)"
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Literal:
            return "v if v.__class__ in _JSON else _u(v)"
        if origin in (typing.Union, types.UnionType):
            others = [a for a in args if a is not type(None)]
            if len(others) == 1 and len(args) == 2:
                inner = self._write_expression(others[0], suffix, env)
                return inner if inner.startswith("v if") else f"None if v is None else ({inner})"
            return "_u(v)"
        if origin is list:
            item = args[0] if args else Any
            if item in _SCALARS or item is float:
                env[f"S{suffix}"] = frozenset({item})
                return f"list(v) if v.__class__ is list and S{suffix}.issuperset(map(type, v)) else _u(v)"
            if is_wire_class(item):
                env[f"C{suffix}"], env[f"u{suffix}"] = item, self._nested("unstructure", item)
                each = f"u{suffix}(x) if x.__class__ is C{suffix} else _u(x)"
                return f"[{each} for x in v] if v.__class__ is list else _u(v)"
            return "_u(v)"
        if is_wire_class(tp):
            env[f"C{suffix}"], env[f"u{suffix}"] = tp, self._nested("unstructure", tp)
            return f"u{suffix}(v) if v.__class__ is C{suffix} else _u(v)"
        return "_u(v)"


# -- helpers the generated code calls (rare paths) ---------------------------------------------
def _compile(source: str, env: dict[str, Any], filename: str) -> Fn:
    # Registered with linecache so that tracebacks and profilers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)
    function: Fn = env[source[4 : source.index("(")]]
    return function


def _call(callee: str, arguments: list[tuple[str, str]]) -> str:
    """The call building the instance through its ``__init__``; arguments that may be
    ``_absent`` (a default attrs computes from the instance) are left out."""
    pairs = ", ".join(f"{alias!r}: {var}" for alias, var in arguments)
    return f"{callee}(**{{k: x for k, x in {{{pairs}}}.items() if x is not _absent}})"


def _plain(wc: WireClass) -> bool:
    """Whether ``__init__`` does nothing but store its arguments: no validators, converters,
    hooks or ``__setattr__`` of the class's own, every attribute an argument (then the
    instance can be filled slot by slot)."""
    cls = wc.cls
    return (
        getattr(cls, "__setattr__", None) is object.__setattr__
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(
            field.init and field.validator is None and field.converter is None
            for field in attrs.fields(cls)
        )
    )


def _default_expression(default: Any, index: int, env: dict[str, Any]) -> str:
    """What an absent optional field is given: its attrs default, as attrs would compute it."""
    if default is UNSET:
        return "UNSET"
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:  # computed from the instance: left to attrs (see _call)
            return "_absent"
        env[f"f{index}"] = default.factory
        return f"f{index}()"
    env[f"d{index}"] = default
    return f"d{index}"


def _locator(wc: WireClass, unstructure: Fn) -> Callable[[Any, ValidationError], Exception]:
    """The error of a value that cannot be written, its message prefixed with the field."""

    def locate(obj: Any, error: ValidationError) -> Exception:
        values = [(field.name, getattr(obj, field.name)) for field in wc.fields]
        if wc.extra is not None:
            values += [(f"{wc.extra}[{key!r}]", v) for key, v in getattr(obj, wc.extra).items()]
        for name, value in values:
            try:
                unstructure(value)
            except ValidationError as exc:
                return type(exc)(f"{wc.cls.__name__}.{name}: {exc.message}", exc.code)
        return error

    return locate


def _by_id_alias(compiler: Compiler, cls: type) -> Fn:
    """A record written with ``id`` instead of ``_id``: read as if it were ``_id``."""
    extra = wire_class(cls).extra

    def read(data: Mapping[str, Any]) -> Any:
        renamed = {(ID_WIRE if key == ID_ALIAS else key): value for key, value in data.items()}
        obj = compiler.structurer(cls)(renamed)
        kept = getattr(obj, extra) if extra is not None else None
        if kept and ID_WIRE in kept:  # it did not fit: keep it under the key it came with
            items = [(ID_ALIAS if key == ID_WIRE else key, value) for key, value in kept.items()]
            kept.clear()
            kept.update(items)
        return obj

    return read


def _strict_failure(wc: WireClass) -> Callable[[list[str] | None, dict[str, Any]], None]:
    name = wc.cls.__name__

    def fail(missing: list[str] | None, extra: dict[str, Any]) -> None:
        if missing:
            raise SchemaError(f"{name}: missing required field(s) {', '.join(missing)}")
        raise SchemaError(f"{name}: unexpected field(s) {', '.join(map(str, extra))}")

    return fail


def _lenient_finish(wc: WireClass) -> Callable[..., Any]:
    """Documents (Record and entity classes) are only validated with "warn" by the service, so
    stored data may not fit its class: such values are kept raw in ``extra`` (and written back
    as they were), a missing required field reads as UNSET, and a warning names them."""
    known = frozenset(f.wire for f in wc.fields if f.init)

    def finish(
        data: Mapping[str, Any],
        misfits: dict[str, str] | None,
        missing: list[str] | None,
        kwargs: dict[str, Any],
    ) -> Any:
        misfits = misfits or {}
        kwargs = {alias: value for alias, value in kwargs.items() if value is not _MISSING}
        kwargs[wc.extra_alias or ""] = {
            key: value for key, value in data.items() if key in misfits or key not in known
        }
        parts = []
        if misfits:
            kept = "; ".join(f"{key} ({misfits[key]})" for key in data if key in misfits)
            parts.append("kept raw in .extra: " + kept)
        if missing:
            parts.append("missing required (read as UNSET): " + ", ".join(missing))
        logger.warning(
            "lumi: a stored %s does not fit its class: %s", wc.cls.__name__, " / ".join(parts)
        )
        return _build_partial(wc.cls, kwargs)

    return finish


def _build_partial(cls: type, kwargs: dict[str, Any]) -> Any:
    """An instance whose missing fields are UNSET (or their default), bypassing required args."""
    obj: Any = object.__new__(cls)
    for field in attrs.fields(cls):
        if field.alias in kwargs:
            value = kwargs[field.alias]
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            factory = field.default.factory
            value = factory(obj) if field.default.takes_self else factory()
        elif field.default is attrs.NOTHING:
            value = UNSET
        else:
            value = field.default
        object.__setattr__(obj, field.name, value)
    return obj
