"""The external payload reference object (payloads.md §5.1) and its validation."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from durable_workflow._generated.manifest import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA as EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
)
from durable_workflow.external_storage._errors import ExternalPayloadReferenceError

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def validate_sha256(value: Any, *, field: str = "sha256") -> str:
    """Return ``value`` when it is exactly 64 hex characters, else raise naming ``field``."""
    if not isinstance(value, str) or _SHA256.fullmatch(value) is None:
        raise ExternalPayloadReferenceError(field, "must be exactly 64 hexadecimal characters")
    return value


_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def validate_rfc3339(value: Any, *, field: str = "expires_at") -> str:
    """Return ``value`` when it is an RFC 3339 date-time with a zone (``Z`` accepted).

    Parsed by pattern rather than ``fromisoformat`` alone, whose accepted
    fraction lengths differ between Python versions.
    """
    if not isinstance(value, str) or not value:
        raise ExternalPayloadReferenceError(field, "must be a non-empty RFC 3339 string")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ExternalPayloadReferenceError(
            field, f"must be an RFC 3339 date-time with a time zone: {value!r}"
        )
    date, time, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    micros = (fraction or "0")[:6].ljust(6, "0")
    try:
        _dt.datetime.fromisoformat(f"{date}T{time}.{micros}{zone}")
    except ValueError as exc:
        raise ExternalPayloadReferenceError(field, f"is not a valid date-time: {value!r}") from exc
    return value


@dataclasses.dataclass(frozen=True)
class ExternalPayloadReference:
    """Where an offloaded blob lives and how to verify it (the ``external_storage`` object)."""

    uri: str
    sha256: str
    size_bytes: int
    codec: str
    expires_at: str | None = None
    schema: str = EXTERNAL_PAYLOAD_REFERENCE_SCHEMA

    def to_dict(self) -> dict[str, str | int]:
        """The wire object; ``expires_at`` only when set (the engine never writes it)."""
        data: dict[str, str | int] = {
            "schema": self.schema,
            "uri": self.uri,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "codec": self.codec,
        }
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at
        return data

    @classmethod
    def from_dict(cls, data: object) -> ExternalPayloadReference:
        """Validate a wire reference; a bad field raises an error naming it."""
        if not isinstance(data, Mapping):
            raise ExternalPayloadReferenceError(
                "external_storage", f"must be an object, got {type(data).__name__}"
            )
        schema = data.get("schema")
        if schema != EXTERNAL_PAYLOAD_REFERENCE_SCHEMA:
            raise ExternalPayloadReferenceError(
                "schema", f"must be {EXTERNAL_PAYLOAD_REFERENCE_SCHEMA!r}, got {schema!r}"
            )
        uri = data.get("uri")
        if not isinstance(uri, str) or not uri:
            raise ExternalPayloadReferenceError("uri", "must be a non-empty string")
        sha256 = validate_sha256(data.get("sha256"))
        size = data.get("size_bytes")
        if isinstance(size, bool) or not isinstance(size, int):
            raise ExternalPayloadReferenceError(
                "size_bytes", f"must be an integer, got {type(size).__name__}"
            )
        if size < 0:
            raise ExternalPayloadReferenceError("size_bytes", f"must be >= 0, got {size}")
        codec = data.get("codec")
        if not isinstance(codec, str) or not codec:
            raise ExternalPayloadReferenceError("codec", "must be a non-empty string")
        expires_at = data.get("expires_at")
        if expires_at is not None:
            validate_rfc3339(expires_at)
        return cls(
            uri=uri,
            sha256=sha256,
            size_bytes=size,
            codec=codec,
            expires_at=expires_at,
            schema=schema,
        )
