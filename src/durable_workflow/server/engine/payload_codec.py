"""Payload encoding as the server needs it, on the SDK's one codec implementation.

The server encodes plain JSON start input and plain activity results with the
run codec (payloads.md §2, §4) and decodes blobs for read views. It uses
``durable_workflow.serializer`` (a core module) so the bytes it writes are
exactly the bytes the SDK writes. What differs from the SDK is envelope
recognition: the engine treats an object as an envelope only when its key set
is exactly ``{codec, blob}`` or ``{codec, external_storage}`` (payloads.md §4.1).
"""

from __future__ import annotations

import base64
import json
from typing import Any, TypeGuard

from durable_workflow import serializer
from durable_workflow.converter._value_codec import decode_value_blob, encode_value_blob
from durable_workflow.server.store.tx import Tx

AVRO = serializer.AVRO_CODEC
# base64 of C3 01 E2: every single-object Value frame starts with these four characters.
_VALUE_FRAME_B64 = "wwHi"


def encode_avro(value: Any) -> str:
    """Encode a JSON-compatible value as an ``avro`` blob, 0.4.53 wrapper (no size warning)."""
    return serializer.encode(value, AVRO, size_warning=None)


def encode_payload(tx: Tx, value: Any) -> str:
    """An ``avro`` blob in the framing of the server's generation (``tx.payload_framing``)."""
    if tx.payload_framing == "value":
        return encode_value_blob(value)
    return encode_avro(value)


def decode_avro(blob: str | None) -> Any:
    """Decode an ``avro`` blob back to its JSON value (empty/None -> None); either framing."""
    if isinstance(blob, str) and blob.startswith(_VALUE_FRAME_B64):
        return decode_value_blob(blob)
    return serializer.decode(blob, AVRO)


def is_inline_envelope(value: Any) -> bool:
    """True for an object whose keys are exactly ``{codec, blob}`` (payloads.md §4.1)."""
    return isinstance(value, dict) and set(value) == {"codec", "blob"}


def is_external_envelope(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and set(value) == {"codec", "external_storage"}


def try_decode(codec: str | None, blob: str | None) -> Any:
    """Best-effort decode for read views; unknown codecs give None.

    An offloaded value (a marker) shows as its external envelope: read views
    never fetch from external storage (docs/external-storage.md, "Dev server").
    """
    external = envelope_from_marker(blob)
    if external is not None:
        return external
    if codec != AVRO or blob is None:
        return None
    try:
        value = decode_avro(blob)
    except (ValueError, UnicodeDecodeError):
        return None
    # A Value frame may carry bytes, which a JSON read view cannot show: such a value is
    # left to the encoded envelope the view also returns.
    return value if _json_safe(value) else None


def _json_safe(value: Any) -> bool:
    """Whether ``value`` (a decoded payload) has only JSON types, checked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, bytes | bytearray):
            return False
    return True


# -- offloaded payloads: the internal marker and what the wire shows ------------------------

EXTERNAL_MARKER_PREFIX = "dw-external-payload:v1:"


def marker_for(envelope: dict[str, Any]) -> str:
    """The string stored where the blob would go for an offloaded payload (payloads.md §4.3).

    Storing a string keeps every blob column and history value one type; only
    the reference is kept, never the bytes.
    """
    text = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
    return EXTERNAL_MARKER_PREFIX + base64.b64encode(text.encode("utf-8")).decode("ascii")


def is_marker(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(EXTERNAL_MARKER_PREFIX)


def envelope_from_marker(value: Any) -> dict[str, Any] | None:
    """The ``{codec, external_storage}`` envelope a marker holds, else None."""
    if not is_marker(value):
        return None
    try:
        raw = base64.b64decode(value[len(EXTERNAL_MARKER_PREFIX) :], validate=True)
        decoded = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if is_external_envelope(decoded) else None


def wire_envelope(codec: str | None, blob: str | None) -> dict[str, Any] | None:
    """A stored blob as an envelope: ``{codec, blob}``, the external envelope, or None."""
    if blob is None:
        return None
    return envelope_from_marker(blob) or {"codec": codec, "blob": blob}


def expose_external(value: Any) -> Any:
    """Replace every marker in a JSON value with its external envelope, in place of the blob.

    ``{codec, blob: <marker>}`` becomes the external envelope; a bare marker
    string (history values such as ``ActivityCompleted.result``) becomes the
    envelope object, as [HEAD] places offloaded values in history.
    """
    if isinstance(value, str):
        return envelope_from_marker(value) or value
    if isinstance(value, list):
        return [expose_external(item) for item in value]
    if isinstance(value, dict):
        if is_inline_envelope(value):
            found = envelope_from_marker(value["blob"])
            if found is not None:
                return found
        return {key: expose_external(item) for key, item in value.items()}
    return value


def load_exposed(text: str | None) -> Any:
    """``json.loads`` of stored JSON with markers exposed (skips the walk when none occur)."""
    value = None if text is None else json.loads(text)
    if text is not None and EXTERNAL_MARKER_PREFIX in text:
        return expose_external(value)
    return value
