"""Lazy imports of optional cloud SDKs, failing with the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from durable_workflow.external_storage._errors import MissingOptionalDependency


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingOptionalDependency` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingOptionalDependency(module, extra) from exc
