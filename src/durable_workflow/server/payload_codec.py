"""Payload encoding as the server needs it, on the SDK's one codec implementation.

The server encodes plain JSON start input and plain activity results with the
run codec (payloads.md §2, §4) and decodes blobs for read views. It uses
``durable_workflow.serializer`` (a core module) so the bytes it writes are
exactly the bytes the SDK writes. What differs from the SDK is envelope
recognition: the engine treats an object as an envelope only when its key set
is exactly ``{codec, blob}`` or ``{codec, external_storage}`` (payloads.md §4.1).
"""

from __future__ import annotations

from typing import Any

from durable_workflow import serializer

AVRO = serializer.AVRO_CODEC


def encode_avro(value: Any) -> str:
    """Encode a JSON-compatible value as an ``avro`` blob (no SDK size warning)."""
    return serializer.encode(value, AVRO, size_warning=None)


def decode_avro(blob: str | None) -> Any:
    """Decode an ``avro`` blob back to its JSON value (empty/None -> None)."""
    return serializer.decode(blob, AVRO)


def is_inline_envelope(value: Any) -> bool:
    """True for an object whose keys are exactly ``{codec, blob}`` (payloads.md §4.1)."""
    return isinstance(value, dict) and set(value) == {"codec", "blob"}


def is_external_envelope(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"codec", "external_storage"}


def try_decode(codec: str | None, blob: str | None) -> Any:
    """Best-effort decode for read views; unknown codecs give None."""
    if codec != AVRO or blob is None:
        return None
    try:
        return decode_avro(blob)
    except (ValueError, UnicodeDecodeError):
        return None
