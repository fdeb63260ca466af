"""Hand-written Avro binary codec for the one fixed record every ``avro`` blob carries.

The generic wrapper (payloads.md §2.2) is always ``0x00`` + Avro string (zig-zag
varint byte length, UTF-8 JSON text) + Avro int ``1`` (byte ``0x02``), then
base64. A general Avro library spends most of a small payload's round trip
interpreting the schema; this fixed layout needs a few byte operations. The
output is byte-identical to the reference ``avro`` package and fastavro
(tests cross-check both). Decoding is strict: anything but exactly one
well-formed record is a ``ValueError`` naming the problem.
"""

from __future__ import annotations

import base64
import binascii
import sys

__all__ = [
    "GENERIC_PREFIX",
    "TYPED_PREFIX",
    "b64decode_strict",
    "decode_wrapper",
    "encode_wrapper",
]

GENERIC_PREFIX = 0x00
TYPED_PREFIX = 0x01
_VERSION = b"\x02"  # Avro int 1, zig-zag encoded
_RECORD_ERROR = "avro payload is not a valid durable_workflow.Payload record"
# Avro ``long`` (a string length) is at most 10 varint bytes, ``int`` at most 5.
_MAX_LONG_BYTES = 10
_MAX_INT_BYTES = 5


def _varint(value: int) -> bytes:
    """Little-endian base-128 groups of a non-negative int, high bit = more to come."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_wrapper(text: str) -> str:
    """The base64 blob of the wrapper record around ``text`` (compact JSON)."""
    data = text.encode("utf-8")
    doubled = len(data) << 1  # zig-zag of a non-negative n is 2n
    if doubled < 0x80:
        header = bytes((GENERIC_PREFIX, doubled))
    elif doubled < 0x4000:
        header = bytes((GENERIC_PREFIX, (doubled & 0x7F) | 0x80, doubled >> 7))
    else:
        header = b"\x00" + _varint(doubled)
    return binascii.b2a_base64(header + data + _VERSION, newline=False).decode("ascii")


# Strict base64 (standard alphabet, correct padding, nothing else). Both
# branches refuse the same inputs; strict_mode (3.11+) skips b64decode's regex pass.
if sys.version_info >= (3, 11):

    def b64decode_strict(blob: str) -> bytes:
        return binascii.a2b_base64(blob, strict_mode=True)

else:  # pragma: no cover - exercised on Python 3.10 only

    def b64decode_strict(blob: str) -> bytes:
        return base64.b64decode(blob, validate=True)


def _read_varint(raw: bytes, pos: int, max_bytes: int, what: str) -> tuple[int, int]:
    """Zig-zag varint at ``pos``: (decoded value, position after it)."""
    shift = 0
    accumulated = 0
    for index in range(pos, min(len(raw), pos + max_bytes)):
        byte = raw[index]
        accumulated |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (accumulated >> 1) ^ -(accumulated & 1), index + 1
        shift += 7
    if len(raw) < pos + max_bytes:
        raise ValueError(f"{_RECORD_ERROR}: truncated {what} varint")
    raise ValueError(f"{_RECORD_ERROR}: {what} varint is longer than {max_bytes} bytes")


def decode_wrapper(raw: bytes) -> str:
    """The JSON text inside the wrapper record ``raw`` (base64 already undone, prefix 0x00).

    ``version`` is read and ignored, as upstream does; a missing or malformed
    one, or any byte after it, is an error.
    """
    end_of_raw = len(raw)
    # Fast paths for one- and two-byte lengths (JSON text under 8 KiB).
    first = raw[1] if end_of_raw > 1 else 0x80
    if first < 0x80:
        zigzag, start = first, 2
    elif end_of_raw > 2 and raw[2] < 0x80:
        zigzag, start = (first & 0x7F) | (raw[2] << 7), 3
    else:
        zigzag, start = -1, 1
    if zigzag >= 0:
        length = (zigzag >> 1) ^ -(zigzag & 1)
    else:
        length, start = _read_varint(raw, 1, _MAX_LONG_BYTES, "string length")
    if length < 0:
        raise ValueError(f"{_RECORD_ERROR}: negative string length {length}")
    end = start + length
    if end > end_of_raw:
        raise ValueError(
            f"{_RECORD_ERROR}: truncated json string (declares {length} bytes, "
            f"{end_of_raw - start} present)"
        )
    if end_of_raw == end + 1 and raw[end] < 0x80:  # the usual one-byte version
        after = end + 1
    else:
        if end == end_of_raw:
            raise ValueError(f"{_RECORD_ERROR}: truncated, the version field is missing")
        _, after = _read_varint(raw, end, _MAX_INT_BYTES, "version")
    if after != end_of_raw:
        raise ValueError(f"{_RECORD_ERROR}: {end_of_raw - after} trailing bytes after the record")
    try:
        return raw[start:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{_RECORD_ERROR}: json string is not UTF-8: {exc}") from exc
