"""Compile OpenAPI components or a JSON Schema into one module of attrs classes.

datamodel-code-generator parses the schema and resolves types (its dataclass output); our
template ``templates/dataclass.jinja2`` renders each model as an ``@attrs.define(kw_only=True)``
class through :class:`TemplateHelper`, which applies the contract of ``lumi/_generated``: wire
names in field metadata, ``UNSET`` defaults, an ``extra`` dict for additional properties,
bases named by the ``x-lumi-base`` extension, class variables from ``x-lumi-entity``.
This module then writes the import block and the header and formats the code.
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap
import unicodedata
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from ._format import format_code
from ._naming import BUILTIN_TYPES, FieldNamer, qualifier

TEMPLATES = Path(__file__).parent / "templates"

Kind = Literal["openapi", "jsonschema"]

#: JSON values datamodel-code-generator leaves alone when it reads a field's extra keys
_FIELD_EXTRA_KEYS = {"description", "title", "x-lumi-secret"}

_EXTRA_HINT = "dict[str, Any]"

#: Names datamodel-code-generator would alias module-wide (``list as list_aliased``) when a
#: field bears them; giving it other internal names keeps the hints plain. Our own naming
#: (codegen._naming) decides the rendered attribute names anyway.
_INTERNAL_ALIASES = {
    name: f"{name}_lumi_internal"
    for name in [
        "Any",
        "Decimal",
        "Literal",
        "UUID",
        "bool",
        "bytes",
        "date",
        "datetime",
        "dict",
        "float",
        "int",
        "list",
        "object",
        "set",
        "str",
        "time",
        "timedelta",
        "tuple",
        "type",
    ]
}


class CodegenError(Exception):
    """The schema cannot be compiled; the message names the schema and what is wrong."""


@attrs.frozen
class FieldView:
    """One rendered attribute."""

    name: str
    hint: str
    arguments: str
    docstring: str


@attrs.frozen
class ClassVarView:
    """One rendered class variable."""

    name: str
    hint: str
    value: str


@attrs.frozen
class ModelView:
    """One rendered class."""

    name: str
    bases: tuple[str, ...]
    docstring: str
    class_vars: tuple[ClassVarView, ...]
    fields: tuple[FieldView, ...]
    extra_hint: str
    """The annotation of the ``extra`` field; empty when the class has none."""
    trailing_vars: tuple[ClassVarView, ...]
    """Class variables too long to read before the fields (the entity's schema)."""


def _wrap(text: str, width: int) -> str:
    # Long single lines (JSON descriptions rarely have line breaks) are wrapped; lines that
    # already fit are kept as written, so Markdown lists and code stay intact.
    lines = []
    for line in text.splitlines():
        if len(line) > width:
            lines.append(textwrap.fill(line, width=width, break_on_hyphens=False))
        else:
            lines.append(line)
    return "\n".join(lines)


def docstring(text: str, indent: str = "    ") -> str:
    """``text`` as a triple-quoted docstring literal, indented for a class body."""
    # NFKC turns fullwidth punctuation (common in CJK descriptions) into ASCII, which keeps
    # ruff's ambiguous-character rule quiet; the wire data is not touched.
    cleaned = unicodedata.normalize("NFKC", inspect.cleandoc(text).strip())
    cleaned = _wrap(cleaned, 96 - len(indent))
    cleaned = cleaned.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if cleaned.endswith('"'):
        cleaned += " "
    lines = [line.rstrip() for line in cleaned.splitlines()]
    if len(lines) <= 1:
        return f'"""{cleaned}"""'
    body = "\n".join(indent + line if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{indent}"""'


def union_members(hint: str) -> list[str]:
    """The top-level members of a ``|`` union hint (``"list[int | str] | None"`` -> 2)."""
    members: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(hint):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            members.append(hint[start:index].strip())
            start = index + 1
    members.append(hint[start:].strip())
    return members


def with_unset(hint: str) -> str:
    """``hint`` admitting ``Unset``, with ``None`` kept last (``T | Unset | None``, ruff RUF036)."""
    members = union_members(hint)
    nullable = "None" in members
    members = [member for member in members if member != "None"] + ["Unset"]
    if nullable:
        members.append("None")
    return " | ".join(members)


def _python_literal(value: Any) -> str:
    # ascii() of JSON data is a Python literal (the formatter normalises the quotes); escaping
    # non-ASCII keeps look-alike characters (fullwidth parentheses...) out of the source.
    return ascii(value)


def _is_datetime(data_type: Any) -> bool:
    """Whether a field's type is ``datetime.datetime`` (or a union admitting it; not a list)."""
    if getattr(data_type, "is_list", False) or getattr(data_type, "is_dict", False):
        return False
    for member in [data_type, *getattr(data_type, "data_types", [])]:
        import_ = getattr(member, "import_", None)
        if import_ is not None and (import_.from_, import_.import_) == ("datetime", "datetime"):
            return True
    return False


class TemplateHelper:
    """Passed to the template as ``lumi``; records which names the module must import."""

    def __init__(self, entity_schemas: Mapping[str, Any] | None = None) -> None:
        self.entity_schemas = dict(entity_schemas or {})
        self.typing_names: set[str] = set()
        self.model_names: set[str] = set()
        """Names to import from :mod:`lumi.model` (the public module generated code uses)."""
        self.base_imports: set[tuple[str, str]] = set()
        self.plain_imports: set[str] = set()

    @staticmethod
    def docstring(text: str, indent: str = "    ") -> str:
        """``text`` as a docstring literal (see :func:`docstring`)."""
        return docstring(text, indent)

    def model(
        self,
        *,
        class_name: str,
        fields: Sequence[Any],
        description: str | None,
        additional_properties: Any,
        extensions: Mapping[str, Any] | None,
    ) -> ModelView:
        """The view of one class: datamodel-code-generator's fields in our contract."""
        extensions = extensions or {}
        extra = additional_properties is not False
        class_vars, trailing_vars = self._class_vars(extensions)
        rows = [self._field_row(field) for field in fields]
        namer = FieldNamer()
        names = [namer.name(wire) for wire, *_ in rows]
        # typing.get_type_hints() reads a class's annotations with the class namespace as
        # locals, so a field named `list` would turn `list[...]` into its slot descriptor:
        # builtins that a field shadows are spelt `builtins.list` in this class.
        qualify = qualifier(set(names) & BUILTIN_TYPES)
        views = tuple(
            FieldView(name=name, hint=qualify(hint), arguments=arguments, docstring=doc)
            for name, (_wire, hint, arguments, doc) in zip(names, rows, strict=True)
        )
        class_vars = [attrs.evolve(var, hint=qualify(var.hint)) for var in class_vars]
        trailing_vars = [attrs.evolve(var, hint=qualify(var.hint)) for var in trailing_vars]
        extra_hint = qualify(_EXTRA_HINT) if extra else ""
        hints = [extra_hint, *(view.hint for view in views)]
        hints += [var.hint for var in (*class_vars, *trailing_vars)]
        if any("builtins." in hint for hint in hints):
            self.plain_imports.add("builtins")
        if extra:
            self.typing_names.add("Any")
            self.model_names.add("new_extra")
        bases = self._bases(extensions)
        text = description or f"The ``{class_name}`` object."
        return ModelView(
            name=class_name,
            bases=bases,
            docstring=docstring(text),
            class_vars=tuple(class_vars),
            fields=views,
            extra_hint=extra_hint,
            trailing_vars=tuple(trailing_vars),
        )

    def _bases(self, extensions: Mapping[str, Any]) -> tuple[str, ...]:
        base = extensions.get("x-lumi-base")
        if base is None:
            return ()
        if not isinstance(base, str) or "." not in base:
            raise CodegenError(f"x-lumi-base must be 'module.Class', got {base!r}")
        module, _, name = base.rpartition(".")
        self.base_imports.add((module, name))
        return (name,)

    def _class_vars(
        self, extensions: Mapping[str, Any]
    ) -> tuple[list[ClassVarView], list[ClassVarView]]:
        entity = extensions.get("x-lumi-entity")
        if entity is None:
            return [], []
        self.typing_names.add("ClassVar")
        head = [ClassVarView("__lumi_entity__", "str", _python_literal(str(entity)))]
        schema = self.entity_schemas.get(str(entity))
        if schema is None:
            return head, []
        self.typing_names.add("Any")
        return head, [ClassVarView("__lumi_schema__", "dict[str, Any]", _python_literal(schema))]

    def _field_row(self, field: Any) -> tuple[str, str, str, str]:
        wire: str = field.original_name or field.name
        core: str = field.data_type.type_hint
        extras: Mapping[str, Any] = field.extras or {}
        metadata: dict[str, str] = {"wire": wire}
        if _is_datetime(field.data_type):
            metadata["format"] = "date-time"
        meta = "metadata=" + json.dumps(metadata, ensure_ascii=False)
        if extras.get("x_lumi_secret", extras.get("x-lumi-secret")) is True:
            meta = "repr=False, " + meta  # tokens, passwords and keys stay out of reprs and logs
        if field.required:
            hint = core
            arguments = f"{self._default(field.default)}, {meta}" if field.has_default else meta
        else:
            hint = with_unset(core)
            arguments = f"default=UNSET, {meta}"
            self.model_names.update({"UNSET", "Unset"})
        text = extras.get("description")
        title = extras.get("title")
        if not text and isinstance(title, str) and title.lower() != "datetime":
            text = title
        doc = docstring(str(text)) if text else ""
        return wire, hint, arguments, doc

    @staticmethod
    def _default(value: Any) -> str:
        if value == [] or value == {}:
            return f"factory={type(value).__name__}"
        if isinstance(value, (list, dict)):
            return f"factory=lambda: {_python_literal(value)}"
        return f"default={_python_literal(value)}"


# --- the module around the classes ---------------------------------------------------------


@attrs.define
class _Imports:
    plain: set[str] = attrs.field(factory=set)
    members: dict[str, set[str]] = attrs.field(factory=dict)

    def add(self, module: str, name: str) -> None:
        self.members.setdefault(module, set()).add(name)

    def render(self, first_party: Collection[str]) -> str:
        """isort's layout: future, standard library, third party, first party."""
        sections: dict[int, list[str]] = {0: [], 1: [], 2: []}

        def section(module: str) -> int:
            root = module.split(".")[0]
            return 2 if root in first_party else 1 if root in ("attrs", "lumi") else 0

        for module in sorted(self.plain):
            sections[section(module)].append(f"import {module}")
        for module in sorted(self.members):
            names = ", ".join(sorted(self.members[module], key=_member_order))
            sections[section(module)].append(f"from {module} import {names}")
        blocks = ["from __future__ import annotations"]
        blocks += ["\n".join(lines) for _, lines in sorted(sections.items()) if lines]
        return "\n\n".join(blocks)


def _member_order(name: str) -> tuple[int, str]:
    # isort's order-by-type: CONSTANTS, then Classes, then the rest.
    bare = name.split(" as ")[0]
    kind = 0 if bare.isupper() and len(bare) > 1 else 1 if bare[:1].isupper() else 2
    return kind, bare


_IMPORT_LINE = re.compile(r"^(?:from\s+(\S+)\s+import\s+(.+)|import\s+(.+))$")


def _split_generated(code: str) -> tuple[_Imports, str]:
    """datamodel-code-generator's import lines (minus dataclasses) and the body after them."""
    imports = _Imports()
    lines = code.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not line or line.startswith("#"):
            index += 1
            continue
        match = _IMPORT_LINE.match(line)
        if match is None:
            break
        if line.endswith("("):  # a parenthesised import spread over lines
            while not lines[index].strip().endswith(")"):
                index += 1
                line += " " + lines[index].strip()
            match = _IMPORT_LINE.match(line.replace("(", "").replace(")", ""))
            assert match is not None
        index += 1
        module, names, plain = match.groups()
        if plain is not None:
            imports.plain.update(part.strip() for part in plain.split(","))
        elif module not in ("__future__", "dataclasses"):
            for name in names.split(","):
                if name.strip():
                    imports.add(module, " ".join(name.split()))
    return imports, "\n".join(lines[index:]).strip("\n")


def _dcg_options(kind: Kind, *, skip_root_model: bool, helper: TemplateHelper) -> dict[str, Any]:
    from datamodel_code_generator.enums import DataModelType, InputFileType
    from datamodel_code_generator.format import PythonVersion

    return {
        "input_file_type": InputFileType.OpenAPI if kind == "openapi" else InputFileType.JsonSchema,
        "output_model_type": DataModelType.DataclassesDataclass,
        "target_python_version": PythonVersion.PY_310,
        "custom_template_dir": TEMPLATES,
        "extra_template_data": {"#all#": {"lumi": helper}},
        "use_union_operator": True,
        "use_standard_collections": True,
        "enum_field_as_literal": "all",
        "field_extra_keys": _FIELD_EXTRA_KEYS,
        "aliases": _INTERNAL_ALIASES,
        "use_schema_description": True,
        "parent_scoped_naming": True,
        "output_datetime_class": "datetime",
        "skip_root_model": skip_root_model,
        "disable_timestamp": True,
        "formatters": [],
    }


def generate_models(
    schema_source: str | Mapping[str, Any],
    kind: Kind,
    *,
    source_name: str,
    module_doc: str,
    regenerate_with: str = "make codegen",
    skip_root_model: bool = False,
    entity_schemas: Mapping[str, Any] | None = None,
    first_party: Collection[str] = ("lumi",),
    warnings_out: list[str] | None = None,
) -> str:
    """The code of one module of attrs classes for ``schema_source``.

    ``kind`` is ``"openapi"`` (the classes of ``components.schemas``) or ``"jsonschema"`` (the
    root schema and its ``$defs``). ``schema_source`` is the document's text or its parsed form.
    ``first_party`` names the packages isort counts as first party where the module goes
    (``lumi`` inside this repository, nothing in an app). The generator's warnings are appended
    to ``warnings_out`` (without it, a warning is an error). A schema with ``x-lumi-entity:
    NAME`` gets the class variables ``__lumi_entity__`` and, when ``entity_schemas`` has NAME,
    ``__lumi_schema__``. The result is formatted: the same bytes for the same input.
    """
    from datamodel_code_generator import generate

    helper = TemplateHelper(entity_schemas)
    source = (
        schema_source
        if isinstance(schema_source, str)
        else json.dumps(schema_source, ensure_ascii=False)
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            generated = generate(
                source, **_dcg_options(kind, skip_root_model=skip_root_model, helper=helper)
            )
    except CodegenError:
        raise
    except Exception as exc:  # the generator's own errors are many and untyped
        raise CodegenError(f"cannot compile {source_name}: {exc}") from exc
    if not isinstance(generated, str):  # pragma: no cover - only with several output modules
        raise CodegenError(f"cannot compile {source_name}: expected a single module")
    # A ResourceWarning is the garbage collector reporting something other code left open
    # (collected while the generator ran), never the generator's word on the schema.
    found = [
        f"{source_name}: {item.message}"
        for item in caught
        if not issubclass(item.category, (DeprecationWarning, FutureWarning, ResourceWarning))
    ]
    if warnings_out is not None:
        warnings_out.extend(found)
    elif found:
        raise CodegenError("; ".join(found))
    imports, body = _split_generated(generated)
    imports.plain.add("attrs")
    imports.plain.update(helper.plain_imports)
    for name in helper.typing_names:
        imports.add("typing", name)
    for name in helper.model_names:
        imports.add("lumi.model", name)
    for module, name in helper.base_imports:
        imports.add(module, name)
    header = (
        f"# Generated by lumi codegen from {source_name}.\n"
        f"# DO NOT EDIT; regenerate with `{regenerate_with}`.\n"
    )
    code = header + docstring(module_doc, indent="") + "\n\n" + imports.render(first_party) + "\n\n"
    code += body + "\n"
    return format_code(code)
