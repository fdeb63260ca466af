"""The Avro generic-wrapper codec the server uses for payloads it encodes itself.

The server encodes plain JSON start input and plain activity results with the
run codec (payloads.md §2, §4). The wrapper is a record ``{json: string,
version: int = 1}`` in Avro binary after a ``0x00`` prefix, base64 encoded.
It is small enough to write directly, which keeps the server free of the
SDK's serializer module.
"""

from __future__ import annotations

import base64
import json
from typing import Any

AVRO = "avro"


def _zigzag_varint(value: int) -> bytes:
    encoded = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = encoded & 0x7F
        encoded >>= 7
        if encoded:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = 0
    result = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated avro varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return (result >> 1) ^ -(result & 1), pos


def encode_avro(value: Any) -> str:
    """Encode a JSON-compatible value as an ``avro`` blob."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw = b"\x00" + _zigzag_varint(len(text)) + text + _zigzag_varint(1)
    return base64.b64encode(raw).decode("ascii")


def decode_avro(blob: str | None) -> Any:
    """Decode an ``avro`` blob back to its JSON value (empty/None -> None)."""
    if not blob:
        return None
    raw = base64.b64decode(blob, validate=True)
    if not raw or raw[0] != 0:
        raise ValueError("avro blob lacks the generic-wrapper prefix")
    length, pos = _read_varint(raw, 1)
    text = raw[pos : pos + length]
    if len(text) != length:
        raise ValueError("truncated avro string")
    return json.loads(text.decode("utf-8"))


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
