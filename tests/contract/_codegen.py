"""Import the scripts of codegen/ (not a package) so tests can call their checks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

CODEGEN = Path(__file__).resolve().parents[2] / "codegen"
GENERATE = CODEGEN / "generate.py"


def step(name: str) -> ModuleType:
    """``codegen/<name>.py`` as module ``dw_codegen_<name>`` (its folder on the path)."""
    if str(CODEGEN) not in sys.path:
        sys.path.insert(0, str(CODEGEN))  # the steps import their shared ``_emit``
    spec = importlib.util.spec_from_file_location(f"dw_codegen_{name}", CODEGEN / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(f"dw_codegen_{name}", module)
    spec.loader.exec_module(module)
    return module


def generator() -> ModuleType:
    return step("generate")
