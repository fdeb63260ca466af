"""Tolerant response -> field coercions, the parse rules the generated result classes name.

Servers add keys over time and PHP encodes empty objects as ``[]``; results
therefore copy the keys they know by name, coerce the typed ones with these
functions, and keep the whole object in ``raw`` where upstream does, instead of
rejecting a response. Which field uses which rule is data (``codegen/results.json``,
kinds in ``codegen/results.py``); the rules differ where upstream's classes differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from durable_workflow.external_storage import ExternalPayloadStoragePolicy

__all__ = [
    "PayloadDecoder",
    "as_bool_or_none",
    "as_dict",
    "as_dict_list_or_none",
    "as_dict_or_none",
    "as_dict_unless_null",
    "as_int",
    "as_int_unsigned_text",
    "as_list",
    "as_list_or_none",
    "as_storage_policy",
    "as_str",
    "as_str_list_or_none",
    "count_objects",
    "decoded_envelope",
    "decoded_payload",
    "key_of",
    "present_or",
]

T = TypeVar("T")

# Decodes a payload envelope with the run's codec (the client's converter).
PayloadDecoder = Callable[[Mapping[str, Any], str | None], Any]


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


def as_int_unsigned_text(value: Any) -> int | None:
    """Like :func:`as_int`, but a string must be bare digits: upstream's run parser."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object, with the PHP empty-array form (``[]``) and junk read as ``{}``."""
    return dict(value) if isinstance(value, dict) else {}


def as_dict_or_none(value: Any) -> dict[str, Any] | None:
    """A JSON object, anything else (the PHP ``[]`` too) read as ``None``."""
    return dict(value) if isinstance(value, dict) else None


def as_dict_unless_null(value: Any) -> dict[str, Any] | None:
    """``None`` for null or a missing key, else :func:`as_dict` (PHP ``[]`` is ``{}``)."""
    return as_dict(value) if value is not None else None


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def as_list_or_none(value: Any) -> list[Any] | None:
    return list(value) if isinstance(value, list) else None


def as_str_list_or_none(value: Any) -> list[str] | None:
    return [str(item) for item in value] if isinstance(value, list) else None


def as_dict_list_or_none(value: Any) -> list[dict[str, str]] | None:
    """The objects of a list (other items dropped); ``None`` when it is not a list."""
    if not isinstance(value, list):
        return None
    return [dict(item) for item in value if isinstance(item, dict)]


def count_objects(value: Any) -> int:
    """How many objects a list holds: a page's count when the server omits it."""
    return sum(1 for item in as_list(value) if isinstance(item, dict))


def key_of(data: Any, key: str) -> Any:
    """``data[key]`` when present, else ``None``: the copy-all parser's reading of a key."""
    return data[key] if key in data and data[key] is not None else None


def present_or(value: T | None, fallback: T | None) -> T | None:
    """``value`` unless it is ``None`` (a key the answer omits), then ``fallback``."""
    return value if value is not None else fallback


def as_storage_policy(value: Any) -> ExternalPayloadStoragePolicy | None:
    """The namespace's policy; a malformed one is dropped rather than failing the describe."""
    if not isinstance(value, dict):
        return None
    try:
        return ExternalPayloadStoragePolicy.from_dict(value)
    except ValueError:
        return None


def decoded_envelope(data: Mapping[str, Any], key: str, decode: PayloadDecoder | None) -> Any:
    """``data[key]``, replaced by the decoded ``<key>_envelope`` when the server sent one."""
    envelope = data.get(f"{key}_envelope")
    if decode is not None and isinstance(envelope, dict) and "codec" in envelope:
        return decode(envelope, as_str(data.get("payload_codec")))
    return data.get(key)


def decoded_payload(data: Mapping[str, Any], key: str, decode: PayloadDecoder | None) -> Any:
    """``data[key]``, decoded when it is itself an envelope (``{"codec": ...}``)."""
    value = data.get(key)
    if decode is not None and isinstance(value, dict) and "codec" in value:
        return decode(value, as_str(data.get("payload_codec")))
    return value
