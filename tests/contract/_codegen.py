"""Import codegen/generate.py (a script, not a package) so tests can call its checks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

GENERATE = Path(__file__).resolve().parents[2] / "codegen" / "generate.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dw_codegen_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dw_codegen_generate", module)
    spec.loader.exec_module(module)
    return module
