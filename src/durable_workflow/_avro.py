"""The ``avro`` codec's generic-wrapper frame, one value or a batch (upstream's ``_avro``).

``serializer`` sends every wrapper-framed ``avro`` blob through the four functions
here, looked up at call time, so code that replaces one of them (as upstream 0.4.53's
tests and users' own tests do, e.g. to simulate a broken install) sees every call.
The bytes come from the hand-written fixed-layout codec in ``_avro_wrapper``; the
2.x ``Value`` single-object frame is read here too and written by ``converter``.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from durable_workflow._avro_wrapper import (
    GENERIC_PREFIX,
    TYPED_PREFIX,
    b64decode_strict,
    decode_wrapper,
    encode_wrapper,
)

__all__ = ["decode", "decode_many", "encode", "encode_many"]

_JSON_START = frozenset('{["-0123456789tfn')


def encode(value: Any) -> str:
    """One value as a base64 generic-wrapper blob (the value's JSON text inside)."""
    from durable_workflow.serializer import _json_text

    return encode_wrapper(_json_text(value))


def encode_many(values: list[Any]) -> list[str]:
    """Each value as its own blob, in order."""
    return [encode(value) for value in values]


def decode(blob: str) -> Any:
    """The value of one ``avro`` blob: the generic wrapper, or a 2.x ``Value`` frame."""
    if blob[:1] in _JSON_START:
        try:
            json.loads(blob)
        except ValueError:
            pass
        else:
            raise ValueError(
                "Payload bytes look like JSON, not base64-encoded Avro: payload labelled "
                f"'avro' looks like JSON, not base64-encoded Avro: {blob[:40]!r}; it was "
                "probably written with the 'json' codec"
            )
    try:
        raw = b64decode_strict(blob)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"avro payload is not valid base64: {exc}") from exc
    if not raw:
        return None
    prefix = raw[0]
    if prefix != GENERIC_PREFIX:
        from durable_workflow.converter import _value_codec

        if raw[:2] == _value_codec.SINGLE_OBJECT_MAGIC:
            return _value_codec.decode_value(raw)
        if prefix == TYPED_PREFIX:
            raise ValueError(
                "Typed Avro payload (prefix 0x01): avro payload uses typed-schema framing "
                "(prefix 0x01), which is not supported; only the generic wrapper (prefix "
                "0x00) and the Value single-object frame (c3 01) are"
            )
        raise ValueError(
            f"Unknown Avro payload prefix: avro payload has unknown framing prefix "
            f"0x{prefix:02x}; expected 0x00 (generic wrapper) or c3 01 (Value single-object "
            "frame)"
        )
    text = decode_wrapper(raw)
    from durable_workflow.serializer import _loads

    try:
        return _loads(text)
    except ValueError as exc:
        raise ValueError(f"avro payload wraps invalid JSON text: {exc}") from exc


def decode_many(blobs: list[str]) -> list[Any]:
    """Each blob's value, in order; the first bad blob raises."""
    return [decode(blob) for blob in blobs]
