"""Turning pydantic validation errors into the protocol's 422 field map.

Keys are dot paths into the request body (``commands.0.delay_seconds``):
pydantic's location parts that are not real keys of the data (union branch
and discriminator tags) are dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# Engine-side checks report these with the protocol's own messages.
_DEFERRED_TYPES = {"union_tag_invalid"}
_FIELD_MESSAGES = {
    "duplicate_policy": "The duplicate_policy field only supports fail or use-existing.",
}


def _real_path(loc: tuple[Any, ...], data: Any, missing: bool) -> list[str]:
    parts: list[str] = []
    current = data
    for index, item in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict) and isinstance(item, str) and item in current:
            parts.append(item)
            current = current[item]
        elif isinstance(current, list) and isinstance(item, int) and 0 <= item < len(current):
            parts.append(str(item))
            current = current[item]
        elif last and missing and isinstance(current, dict) and isinstance(item, str):
            parts.append(item)
    return parts


def _attribute(key: str) -> str:
    return key.replace("_", " ") if "." not in key else key


def field_errors(exc: ValidationError, data: Any) -> dict[str, list[str]]:
    """The ``errors`` map of a 422 body for a failed request-model validation."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        if error["type"] in _DEFERRED_TYPES:
            continue
        missing = error["type"] == "missing"
        key = ".".join(_real_path(tuple(error["loc"]), data, missing)) or "body"
        if key in _FIELD_MESSAGES:
            message = _FIELD_MESSAGES[key]
        elif missing:
            message = f"The {_attribute(key)} field is required."
        else:
            detail = str(error["msg"])
            message = f"The {_attribute(key)} field is invalid: {detail[:1].lower()}{detail[1:]}."
        bucket = errors.setdefault(key, [])
        if message not in bucket:
            bucket.append(message)
    return errors
