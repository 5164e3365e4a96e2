"""The OPERATIONS table: one row per operation of the OpenAPI paths, from its ``x-lumi-*``
extensions (see the description of schema/lumi.openapi.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._format import format_code
from ._models import CodegenError

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_PREAMBLE = '''
from __future__ import annotations

from typing import Literal

import attrs


@attrs.frozen
class RetryWhen:
    """The body of one request makes an ``unsafe`` operation safe to repeat (``x-lumi-retry-when``).

    ``documents-have-id``: the body (a document or an array of them) gives every document a
    non-empty string ``_id``. ``idempotent-update``: the body's member ``field`` is an object whose
    ``$``-keys are all in ``operators`` (a plain field merge has none).
    """

    rule: Literal["documents-have-id", "idempotent-update"]
    field: str | None = None
    operators: tuple[str, ...] = ()


@attrs.frozen
class Operation:
    """One HTTP operation of the Lumi protocol."""

    operation_id: str
    """The OpenAPI ``operationId``, e.g. ``listDocuments``."""
    method: str
    """The HTTP method, upper case."""
    path: str
    """The path template, e.g. ``/lm/{projectId}/{entityName}/documents/list``."""
    retry: Literal["safe", "unsafe"]
    """``safe``: may be repeated after a transport failure; ``unsafe``: only when the request
    provably never reached the server (``x-lumi-retry``)."""
    enveloped: bool
    """The JSON reply is a ``{code, message, data}`` envelope (``x-lumi-envelope``)."""
    signed: bool
    """The request carries the X-Timestamp/X-Nonce/X-Sign headers (``x-lumi-signed``)."""
    streaming: bool
    """The success reply is a ``text/event-stream``."""
    retry_when: RetryWhen | None = None
    """When ``retry`` is ``unsafe``: the body rule that makes one request safe to repeat."""
'''

_RETRY_RULES = {"documents-have-id": (), "idempotent-update": ("field", "operators")}


def _flag(operation: Mapping[str, Any], key: str, where: str) -> bool:
    value = operation.get(key)
    if not isinstance(value, bool):
        raise CodegenError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _streaming(operation: Mapping[str, Any]) -> bool:
    for status, response in (operation.get("responses") or {}).items():
        if str(status).startswith("2") and "text/event-stream" in (response.get("content") or {}):
            return True
    return False


def _retry_when(operation: Mapping[str, Any], retry: str, where: str) -> str | None:
    """The ``RetryWhen(...)`` expression for ``x-lumi-retry-when``, or None when absent."""
    rule = operation.get("x-lumi-retry-when")
    if rule is None:
        return None
    if retry != "unsafe":
        raise CodegenError(f"{where}: x-lumi-retry-when only applies to x-lumi-retry: unsafe")
    if not isinstance(rule, Mapping) or rule.get("rule") not in _RETRY_RULES:
        raise CodegenError(
            f"{where}: x-lumi-retry-when must be {{rule: {' | '.join(_RETRY_RULES)}, ...}}, "
            f"got {rule!r}"
        )
    needed = _RETRY_RULES[rule["rule"]]
    unknown = set(rule) - {"rule", *needed}
    if unknown:
        raise CodegenError(f"{where}: x-lumi-retry-when has unknown keys {sorted(unknown)}")
    arguments = [f"rule={rule['rule']!r}"]
    if "field" in needed:
        field = rule.get("field")
        if not isinstance(field, str) or not field:
            raise CodegenError(f"{where}: x-lumi-retry-when needs field: <body member>")
        arguments.append(f"field={field!r}")
    if "operators" in needed:
        operators = rule.get("operators")
        if not isinstance(operators, list) or not all(
            isinstance(op, str) and op.startswith("$") for op in operators
        ):
            raise CodegenError(f"{where}: x-lumi-retry-when operators must be a list of $-names")
        arguments.append(f"operators={tuple(operators)!r}")
    return f"RetryWhen({', '.join(arguments)})"


def operation_rows(openapi: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every operation of ``openapi["paths"]`` as a dict of Operation fields, in document order
    (``retry_when`` as the code of its ``RetryWhen``, or None)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path, item in (openapi.get("paths") or {}).items():
        for method in (key for key in item if key in _METHODS):
            operation = item[method]
            where = f"{method.upper()} {path}"
            operation_id = operation.get("operationId")
            if not isinstance(operation_id, str) or not operation_id:
                raise CodegenError(f"{where}: operationId is missing")
            if operation_id in seen:
                raise CodegenError(f"{where}: operationId {operation_id!r} is used twice")
            seen.add(operation_id)
            retry = operation.get("x-lumi-retry")
            if retry not in ("safe", "unsafe"):
                raise CodegenError(f"{where}: x-lumi-retry must be safe or unsafe, got {retry!r}")
            rows.append(
                {
                    "operation_id": operation_id,
                    "method": method.upper(),
                    "path": path,
                    "retry": retry,
                    "enveloped": _flag(operation, "x-lumi-envelope", where),
                    "signed": _flag(operation, "x-lumi-signed", where),
                    "streaming": _streaming(operation),
                    "retry_when": _retry_when(operation, retry, where),
                }
            )
    return rows


def generate_operations(openapi: Mapping[str, Any], *, source_name: str) -> str:
    """The code of ``lumi/_generated/operations.py`` for the parsed OpenAPI document."""
    lines = [
        f"# Generated by lumi codegen from {source_name}.",
        "# DO NOT EDIT; regenerate with `make codegen`.",
        f'"""The operations of the Lumi protocol, read off the paths of {source_name}."""',
        _PREAMBLE,
        "",
        "OPERATIONS: dict[str, Operation] = {",
    ]
    for row in operation_rows(openapi):
        arguments = ", ".join(
            f"{key}={value}" if key == "retry_when" else f"{key}={value!r}"
            for key, value in row.items()
            if not (key == "retry_when" and value is None)
        )
        lines.append(f"    {row['operation_id']!r}: Operation({arguments}),")
    lines.append("}")
    lines.append('"""Every operation by ``operationId``."""')
    return format_code("\n".join(lines) + "\n")
