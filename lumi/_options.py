"""The JavaScript client's options object at the Python call boundary, handled once.

``@lumi.new/sdk`` passes options as one object: ``signInWithPassword({email, password})``,
``invoke('f', {method, body})``, ``createClient({projectId, apiBaseUrl})``. Python takes them as
keyword arguments. :func:`js_options` lets a function also take that object, as one mapping in the
place of the keywords, with keys in the JavaScript spelling (``userName``) or the Python one
(``user_name``); :func:`options_object` is the check under it (``list``/``iterate`` call it
directly). Anything else in that place is refused with a :class:`ValidationError` that shows the
keyword form: an options object is never read as something else, and nothing is guessed.

Written by hand (no library maps a JavaScript options object onto a Python signature): one
decorator, so that every method follows the same rule and says the same things.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from ._js import a_json_type
from ._record import RecordAccess
from .errors import ValidationError

P = ParamSpec("P")
R = TypeVar("R")

_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def camel_case(name: str) -> str:
    """``user_name`` -> ``userName``: how the JavaScript client spells an option."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def keyword_form(call: str, names: Sequence[str], lead: Sequence[str] = ()) -> str:
    """``call(lead, name=..., ...)``: the Python form of a call, for messages."""
    return f"{call}({', '.join([*lead, *(f'{name}=...' for name in names)])})"


def options_object(
    call: str,
    value: Any,
    names: Sequence[str],
    *,
    lead: Sequence[str] = (),
    keywords: Collection[str] = (),
    required: Collection[str] = (),
) -> dict[str, Any]:
    """The keyword arguments that the JavaScript options object ``value`` stands for.

    ``names`` are the options (Python names); a key may be one of them or its camelCase. A value
    that is not a mapping, an unknown key, an option given twice, a ``required`` option missing,
    or ``keywords`` given beside the object are refused, naming the keyword form.
    """
    form = keyword_form(call, names, lead)
    # The common slip in list() & co. is a bare filter where the options object goes.
    hint = f"; a filter goes in filter=: {call}(filter={{...}})" if "filter" in names else ""
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{call}() takes keyword arguments: {form}; it got {a_json_type(value)} "
            f"positionally (the JavaScript options object works too, as one mapping){hint}"
        )
    by_key = {name: name for name in names}
    by_key.update((camel_case(name), name) for name in names)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = by_key.get(key) if isinstance(key, str) else None
        if name is None:
            known = ", ".join(camel_case(name) for name in names)
            if any(camel_case(name) != name for name in names):
                known += ", or their Python names"
            raise ValidationError(
                f"{call}(): the options object has the unknown key {key!r:.40} (known: {known}); "
                f"the Python form is {form}{hint}"
            )
        if name in out:
            raise ValidationError(
                f"{call}(): the options object gives {name} twice "
                f"(as {camel_case(name)!r} and as {name!r})"
            )
        out[name] = item
    if keywords:
        raise ValidationError(
            f"{call}(): give the options as one mapping or as keywords ({form}), not both"
        )
    missing = [name for name in required if name not in out]
    if missing:
        raise ValidationError(
            f"{call}(): the options object lacks {', '.join(map(repr, missing))}: {form}"
        )
    return out


def js_options(function: Callable[P, R]) -> Callable[P, R]:
    """Let ``function`` also take the JavaScript options object in place of its keywords.

    The object goes where the first optional parameter is (after ``self`` and the required
    positional ones: ``invoke(name, {...})``, ``create_client({...})``); its keys are the
    parameters from there on. When that place holds something that is not a mapping, a
    positional parameter takes it as usual; a keyword-only one refuses it, showing the keyword
    form. Type checkers see the keyword form only, which is the Python one.
    """
    parameters = list(inspect.signature(function).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    empty = inspect.Parameter.empty
    slot = 0
    while (
        slot < len(parameters)
        and parameters[slot].kind in positional
        and parameters[slot].default is empty
    ):
        slot += 1
    rest = [p for p in parameters[slot:] if p.kind in _BY_KEYWORD]
    lead = [p.name for p in parameters[:slot] if p.name != "self"]
    names = [p.name for p in rest]
    required = [p.name for p in rest if p.default is empty]
    takes_positional = slot < len(parameters) and parameters[slot].kind in positional
    call = function.__name__

    @functools.wraps(function)
    def accepting(*args: P.args, **kwargs: P.kwargs) -> R:
        if len(args) <= slot or (takes_positional and not isinstance(args[slot], Mapping)):
            return function(*args, **kwargs)
        if len(args) > slot + 1:
            raise ValidationError(
                f"{call}() takes one options mapping or keyword arguments "
                f"({keyword_form(call, names, lead)}); it got {len(args) - slot} arguments "
                "in their place"
            )
        given = options_object(
            call, args[slot], names, lead=lead, keywords=list(kwargs), required=required
        )
        return function(*args[:slot], **given)  # type: ignore[arg-type]

    return accepting


def as_list(subject: str, value: Any, what: str, example: str) -> list[Any]:
    """``value``, a list (or other iterable) of ``what``, as a list.

    A string, bytes, a mapping, a record or a file also iterate (as characters, keys or lines),
    so each is refused with a message showing ``example`` instead of being read item by item.
    """
    if (
        isinstance(value, (str, bytes, bytearray, memoryview, Mapping, RecordAccess))
        or hasattr(value, "read")
        or not isinstance(value, Iterable)
    ):
        raise ValidationError(
            f"{subject} takes a list of {what}, e.g. {example}; got {a_json_type(value)}"
        )
    return list(value)
