"""Tolerant response -> dataclass parsing shared by the result modules.

Servers add keys over time and PHP encodes empty objects as ``[]``; results
therefore copy the keys they know by name, coerce the few typed ones, and keep
the whole object in ``raw`` where upstream does, instead of rejecting a response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["as_dict", "as_int", "as_list", "as_str", "from_fields"]

T = TypeVar("T")


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, with the PHP empty-array form (``[]``) and junk read as ``{}``."""
    return dict(value) if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def from_fields(cls: type[T], data: Mapping[str, Any], **overrides: Any) -> T:
    """Build dataclass ``cls`` from the keys of ``data`` named like its fields.

    Missing keys keep the field default; a ``raw`` field receives the whole
    object; ``overrides`` win over both.
    """
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        if item.name == "raw":
            values["raw"] = dict(data)
        elif item.name in data and data[item.name] is not None:
            values[item.name] = data[item.name]
    values.update(overrides)
    return cls(**values)
