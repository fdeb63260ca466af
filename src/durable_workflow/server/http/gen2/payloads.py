"""Generation 2 accepts one payload codec: ``avro`` meaning the single-object Value frame.

Every payload envelope in a request body (an object whose keys are exactly
``{codec, blob}`` or ``{codec, external_storage}``, the engine's own rule,
payloads.md §4.1) is checked before the engine sees it. The refusals carry the
2.x server's reason names, decided by the SDK's Value codec:

- a codec other than ``avro`` (``json``, a custom codec name, null): ``unsupported_payload_codec``;
- the 0.4.53 ``0x00``-framed wrapper, bad base64, a truncated or malformed datum:
  ``invalid_payload_framing``;
- a single-object frame of another schema (fingerprint): ``unsupported_payload_schema``.

Plain JSON arguments (no envelope) stay accepted; the engine encodes them as Value.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from typing import Any

from durable_workflow._avro_wrapper import b64decode_strict
from durable_workflow.converter._value_codec import decode_value
from durable_workflow.converter._value_errors import PayloadFramingError
from durable_workflow.server.engine.errors import Outcome

AVRO = "avro"
_ENVELOPE_KEYS = ({"codec", "blob"}, {"codec", "external_storage"})
_LEGACY_WRAPPER_PREFIX = 0x00


def _envelopes(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if set(value) in _ENVELOPE_KEYS:
            yield ".".join(path) or "body", value
            return
        for key, item in value.items():
            yield from _envelopes(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _envelopes(item, (*path, str(index)))


def _blob_problem(blob: Any) -> tuple[str, str] | None:
    """(reason, detail) when ``blob`` is not a Value frame this server accepts."""
    if not isinstance(blob, str):
        return "invalid_payload_framing", "the blob must be base64 text"
    try:
        raw = b64decode_strict(blob)
    except (binascii.Error, ValueError, TypeError):
        return "invalid_payload_framing", "the blob is not strict base64"
    if raw[:1] == bytes((_LEGACY_WRAPPER_PREFIX,)):
        return (
            "invalid_payload_framing",
            "the blob uses the 0.x 0x00 Avro wrapper; 2.x accepts only the single-object "
            "Value frame (C3 01 + fingerprint e2a33dff55802237)",
        )
    try:
        decode_value(raw)
    except PayloadFramingError as exc:
        return exc.reason, exc.detail
    return None


def payload_error(body: Any) -> Outcome | None:
    """The 422 for the first payload envelope in ``body`` that 2.x refuses, else None."""
    for field, envelope in _envelopes(body):
        codec = envelope.get("codec")
        if codec != AVRO:
            reason = "unsupported_payload_codec"
            detail = f"payload codec [{codec}] is not supported; this server accepts only avro"
        elif "blob" in envelope:
            problem = _blob_problem(envelope["blob"])
            if problem is None:
                continue
            reason, detail = problem
        else:
            continue
        message = f"The {field} payload is refused: {detail}."
        return 422, {
            "message": message,
            "reason": reason,
            "field": field,
            "errors": {field: [message]},
            "supported_payload_codecs": [AVRO],
        }
    return None
