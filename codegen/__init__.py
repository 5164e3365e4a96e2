"""Code generation for lumi: schema/ -> lumi/_generated/, and app entity schemas -> attrs classes.

In the repository ``python -m codegen`` (``make codegen``) regenerates everything; installed, this
package is ``lumi._codegen`` and drives ``lumi codegen``.
"""

from __future__ import annotations

from lumi._extras import optional_imports

with optional_imports("codegen", "lumi codegen"):
    from ._entities import generate_entities
    from ._models import CodegenError, generate_models
    from ._operations import generate_operations
    from ._project import render_project, write_project

__all__ = [
    "CodegenError",
    "generate_entities",
    "generate_models",
    "generate_operations",
    "render_project",
    "write_project",
]
