"""Store, fetch-and-verify, and delete one blob by reference (payloads.md §5.2)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from durable_workflow.external_storage._cache import ExternalPayloadCache
from durable_workflow.external_storage._driver import ExternalStorageDriver
from durable_workflow.external_storage._errors import ExternalPayloadIntegrityError
from durable_workflow.external_storage._keys import codec_segment
from durable_workflow.external_storage._reference import ExternalPayloadReference, validate_rfc3339


def _as_reference(
    reference: ExternalPayloadReference | Mapping[str, Any],
) -> ExternalPayloadReference:
    if isinstance(reference, ExternalPayloadReference):
        return reference
    return ExternalPayloadReference.from_dict(reference)


def store_external_payload(
    driver: ExternalStorageDriver,
    data: bytes,
    *,
    codec: str,
    expires_at: str | None = None,
) -> ExternalPayloadReference:
    """Hash ``data`` (the encoded blob's UTF-8 bytes), store it, and return its reference."""
    codec_segment(codec)
    if expires_at is not None:
        validate_rfc3339(expires_at)
    payload = bytes(data)
    digest = hashlib.sha256(payload).hexdigest()
    uri = driver.put(payload, sha256=digest, codec=codec)
    return ExternalPayloadReference(
        uri=uri, sha256=digest, size_bytes=len(payload), codec=codec, expires_at=expires_at
    )


def fetch_external_payload(
    driver: ExternalStorageDriver,
    reference: ExternalPayloadReference | Mapping[str, Any],
    *,
    cache: ExternalPayloadCache | None = None,
) -> bytes:
    """Read the referenced bytes, verifying length then SHA-256; never a silent fallback."""
    ref = _as_reference(reference)
    if cache is not None:
        cached = cache.get(ref)
        if cached is not None:
            return cached
    data = driver.get(ref.uri)
    if len(data) != ref.size_bytes:
        raise ExternalPayloadIntegrityError(
            f"external payload size does not match its reference: external payload "
            f"{ref.uri} is {len(data)} bytes, its reference says {ref.size_bytes}",
            field="size_bytes",
        )
    actual = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(actual, ref.sha256.lower()):
        raise ExternalPayloadIntegrityError(
            f"external payload hash does not match its reference: external payload "
            f"{ref.uri} has sha256 {actual}, its reference says {ref.sha256.lower()}",
            field="sha256",
        )
    if cache is not None:
        cache.put(ref, data)
    return data


def delete_external_payload(
    driver: ExternalStorageDriver,
    reference: ExternalPayloadReference | Mapping[str, Any],
    *,
    cache: ExternalPayloadCache | None = None,
) -> None:
    """Delete the object and evict its verified bytes from ``cache``."""
    ref = _as_reference(reference)
    if cache is not None:
        cache.discard(ref)
    driver.delete(ref.uri)
