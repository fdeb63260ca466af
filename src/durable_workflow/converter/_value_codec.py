"""The 2.x payload codec: the fixed ``durable_workflow.protocol.Value`` schema, framed.

A 2.x server accepts one payload codec, ``avro``, meaning this frame::

    C3 01 || CRC-64-AVRO fingerprint e2a33dff55802237 || Avro binary datum of Value

(then base64 on the wire). ``Value`` is a record whose only field is a union of
null, boolean, long, double, bytes, string, array of Value and map of Value, so
the layout is fixed and a hand-written encoder beats a general Avro library,
which spends most of a small value's time interpreting the schema. Output is
byte-identical to upstream SDK 2.12.0 (fastavro) on everything it accepts;
tests cross-check both.

Python values map to the union as upstream 2.12.0 maps them: ``None``; ``bool``;
``int`` (and subclasses such as ``IntEnum``) within signed 64 bits; finite
``float``; ``bytes`` (not ``bytearray``/``memoryview``); ``str``; ``list`` (not
``tuple``); ``dict`` with ``str`` keys, written in iteration order. Anything
else is a :class:`ValueEncodeError` whose ``reason`` is upstream's
(``integer_overflow``, ``non_finite_float``, ``invalid_map_key``,
``unsupported_value_type``) and whose ``path`` names the offending element.
Where upstream crashes instead (a lone surrogate in a string: ``invalid_string``;
a value nested past the interpreter's recursion limit or containing itself:
``nesting_too_deep``) the error is typed the same way.

Decoding is strict and fails with :class:`PayloadFramingError` carrying the
server's reason names: ``unsupported_payload_schema`` for another fingerprint,
``invalid_payload_framing`` for everything else. It accepts what upstream
accepts except non-canonical Avro that no writer produces, which upstream's
library lets through: a boolean byte other than 0/1, a varint longer than ten
bytes or beyond 64 bits, a union index spread over more than one byte, a map
repeating a key, a negative block count whose byte size disagrees with its items.
The 0.4.53 generic wrapper (prefix ``0x00``) decodes too, so histories written
by either server generation replay.
"""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

from durable_workflow._avro_wrapper import _varint as _uvarint
from durable_workflow._avro_wrapper import b64decode_strict, decode_wrapper
from durable_workflow.converter._value_errors import (
    INT64_MAX,
    INT64_MIN,
    PayloadFramingError,
    UnsupportedValueTypeError,
    ValueEncodeError,
    diagnose,
)

__all__ = [
    "SINGLE_OBJECT_MAGIC",
    "VALUE_FRAME_HEADER",
    "VALUE_SCHEMA_FINGERPRINT",
    "PayloadFramingError",
    "UnsupportedValueTypeError",
    "ValueEncodeError",
    "decode_value",
    "decode_value_blob",
    "encode_value",
    "encode_value_blob",
    "is_single_object_framed",
]

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
VALUE_SCHEMA_FINGERPRINT = bytes.fromhex("e2a33dff55802237")
VALUE_FRAME_HEADER = SINGLE_OBJECT_MAGIC + VALUE_SCHEMA_FINGERPRINT
_HEADER_LEN = len(VALUE_FRAME_HEADER)
_LEGACY_PREFIX = 0x00

INVALID_PAYLOAD_FRAMING = "invalid_payload_framing"
UNSUPPORTED_PAYLOAD_SCHEMA = "unsupported_payload_schema"


# Union branch tags: zig-zag of the branch index, one byte each.
_NULL, _BOOLEAN, _LONG, _DOUBLE, _BYTES, _STRING, _ARRAY, _MAP = range(0, 16, 2)
_TRUE = bytes((_BOOLEAN, 1))
_FALSE = bytes((_BOOLEAN, 0))
_DOUBLE_TAG = bytes((_DOUBLE,))
_LONG_TAG = bytes((_LONG,))
_ARRAY_TAG = bytes((_ARRAY,))
_MAP_TAG = bytes((_MAP,))
_STRING_TAG = bytes((_STRING,))
_BYTES_TAG = bytes((_BYTES,))
_END = b"\x00"  # null tag; also the zero count that closes an array or map

_double = struct.Struct("<d")
_pack_double = _double.pack
_unpack_double = _double.unpack_from


# Precomputed prefixes for the sizes and numbers nearly every value uses.
_TABLE = 4096
_SIZE = [_uvarint(n << 1) for n in range(_TABLE)]  # a length or item count
_STRING_HEAD = [_STRING_TAG + size for size in _SIZE]
_BYTES_HEAD = [_BYTES_TAG + size for size in _SIZE]
_SMALL_LONG = {n: _LONG_TAG + _uvarint((n << 1) ^ (n >> 63)) for n in range(-_TABLE, _TABLE)}


class _Unencodable(Exception):
    """Raised by the fast encoder; :func:`diagnose` then names the reason and path."""


def _write(value: Any, out: bytearray) -> None:
    """Append the Value datum of ``value``; exact built-in types first, the hot path."""
    kind = type(value)
    if kind is str:
        data = value.encode()
        size = len(data)
        out += _STRING_HEAD[size] if size < _TABLE else _STRING_TAG + _uvarint(size << 1)
        out += data
    elif kind is int:
        head = _SMALL_LONG.get(value)
        if head is None:
            if value < INT64_MIN or value > INT64_MAX:
                raise _Unencodable
            head = _LONG_TAG + _uvarint((value << 1) ^ (value >> 63))
        out += head
    elif kind is dict:
        out += _MAP_TAG
        if value:
            size = len(value)
            out += _SIZE[size] if size < _TABLE else _uvarint(size << 1)
            for key, item in value.items():
                if type(key) is not str:
                    if not isinstance(key, str):
                        raise _Unencodable
                    key = str.__str__(key)
                data = key.encode()
                size = len(data)
                out += _SIZE[size] if size < _TABLE else _uvarint(size << 1)
                out += data
                _write(item, out)
        out += _END
    elif kind is list:
        out += _ARRAY_TAG
        if value:
            size = len(value)
            out += _SIZE[size] if size < _TABLE else _uvarint(size << 1)
            for item in value:
                _write(item, out)
        out += _END
    elif kind is bool:
        out += _TRUE if value else _FALSE
    elif kind is float:
        if value - value != 0.0:  # inf - inf and nan - nan are nan
            raise _Unencodable
        out += _DOUBLE_TAG
        out += _pack_double(value)
    elif value is None:
        out += _END
    elif kind is bytes:
        size = len(value)
        out += _BYTES_HEAD[size] if size < _TABLE else _BYTES_TAG + _uvarint(size << 1)
        out += value
    else:
        _write(_builtin(value), out)


def _builtin(value: Any) -> Any:
    """A subclass instance as its built-in base, checked in upstream's order."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    raise _Unencodable


def encode_value(value: Any) -> bytes:
    """The single-object frame (``C3 01`` + fingerprint + datum) of ``value``."""
    out = bytearray(VALUE_FRAME_HEADER)
    try:
        _write(value, out)
    except (_Unencodable, UnicodeEncodeError, RecursionError):
        raise diagnose(value) from None
    return bytes(out)


def encode_value_blob(value: Any) -> str:
    """:func:`encode_value` as the base64 text a 2.x server takes as the ``avro`` blob."""
    return binascii.b2a_base64(encode_value(value), newline=False).decode("ascii")


class _Malformed(Exception):
    """Raised inside the decoder; :func:`decode_value` turns it into a framing error."""


def _long(data: bytes, pos: int) -> tuple[int, int]:
    """Zig-zag varint at ``pos``: (value, position after it); at most ten bytes, 64 bits."""
    shift = 0
    accumulated = 0
    while True:
        byte = data[pos]
        pos += 1
        accumulated |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift >= 70:
            raise _Malformed("varint is longer than ten bytes")
    if accumulated >> 64:
        raise _Malformed("varint exceeds 64 bits")
    return (accumulated >> 1) ^ -(accumulated & 1), pos


def _size(data: bytes, pos: int) -> tuple[int, int]:
    """A non-negative length at ``pos`` that fits in what is left of ``data``."""
    byte = data[pos]
    if byte < 0x80 and not byte & 1:
        size, pos = byte >> 1, pos + 1
    else:
        size, pos = _long(data, pos)
        if size < 0:
            raise _Malformed(f"negative length {size}")
    if pos + size > len(data):
        raise IndexError
    return size, pos


def _count(data: bytes, pos: int) -> tuple[int, int, int]:
    """A block header: (item count, byte size or -1 when not given, position after it)."""
    byte = data[pos]
    if byte < 0x80 and not byte & 1:
        return byte >> 1, -1, pos + 1
    count, pos = _long(data, pos)
    if count >= 0:
        return count, -1, pos
    block_size, pos = _long(data, pos)
    if block_size < 0:
        raise _Malformed(f"negative block byte size {block_size}")
    return -count, pos + block_size, pos


def _read(data: bytes, pos: int) -> tuple[Any, int]:
    """The Value datum at ``pos``: (Python value, position after it)."""
    tag = data[pos]
    pos += 1
    if tag == _STRING:
        size, pos = _size(data, pos)
        end = pos + size
        return data[pos:end].decode(), end
    if tag == _LONG:
        byte = data[pos]
        if byte < 0x80:
            return (byte >> 1) ^ -(byte & 1), pos + 1
        return _long(data, pos)
    if tag == _MAP:
        result: dict[str, Any] = {}
        expected = 0
        count, block_end, pos = _count(data, pos)
        while count:
            expected += count
            for _ in range(count):
                size, pos = _size(data, pos)
                end = pos + size
                key = data[pos:end].decode()
                result[key], pos = _read(data, end)
            if block_end >= 0 and pos != block_end:
                raise _Malformed("map block byte size does not match its entries")
            count, block_end, pos = _count(data, pos)
        if len(result) != expected:
            raise _Malformed("map repeats a key")
        return result, pos
    if tag == _ARRAY:
        items: list[Any] = []
        count, block_end, pos = _count(data, pos)
        while count:
            append = items.append
            for _ in range(count):
                item, pos = _read(data, pos)
                append(item)
            if block_end >= 0 and pos != block_end:
                raise _Malformed("array block byte size does not match its items")
            count, block_end, pos = _count(data, pos)
        return items, pos
    if tag == _BOOLEAN:
        byte = data[pos]
        if byte > 1:
            raise _Malformed(f"boolean byte is 0x{byte:02x}, not 0 or 1")
        return byte == 1, pos + 1
    if tag == _NULL:
        return None, pos
    if tag == _DOUBLE:
        (number,) = _unpack_double(data, pos)
        if number - number != 0.0:
            raise _Malformed(f"double is not finite ({number})")
        return number, pos + 8
    if tag == _BYTES:
        size, pos = _size(data, pos)
        end = pos + size
        return data[pos:end], end
    raise _Malformed(f"union branch tag 0x{tag:02x} is not a Value branch")


def decode_value(data: bytes | bytearray | memoryview) -> Any:
    """The value in a frame: single-object Value (``C3 01``) or the 0.4.53 wrapper (``00``)."""
    raw = bytes(data)
    if not raw:
        raise PayloadFramingError(INVALID_PAYLOAD_FRAMING, "payload is empty")
    if raw[0] == _LEGACY_PREFIX:
        return _decode_legacy(raw)
    if raw[:2] != SINGLE_OBJECT_MAGIC:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING,
            f"expected Avro single-object magic c301 (or the 0x00 wrapper), got {raw[:2].hex()}",
        )
    if len(raw) <= _HEADER_LEN:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING,
            f"single-object frame of {len(raw)} bytes has no datum after its fingerprint",
        )
    if raw[2:_HEADER_LEN] != VALUE_SCHEMA_FINGERPRINT:
        raise PayloadFramingError(
            UNSUPPORTED_PAYLOAD_SCHEMA,
            f"unknown CRC-64-AVRO fingerprint {raw[2:_HEADER_LEN].hex()}",
        )
    try:
        value, end = _read(raw, _HEADER_LEN)
    except (IndexError, struct.error):
        raise PayloadFramingError(INVALID_PAYLOAD_FRAMING, "truncated Avro Value datum") from None
    except UnicodeDecodeError as exc:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING, f"string is not UTF-8 ({exc.reason})"
        ) from None
    except RecursionError:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING, "Avro Value datum is nested too deeply to decode"
        ) from None
    except _Malformed as exc:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING, f"malformed Avro Value datum: {exc}"
        ) from None
    if end != len(raw):
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING, f"{len(raw) - end} trailing bytes after the Avro Value datum"
        )
    return value


def _decode_legacy(raw: bytes) -> Any:
    """The JSON value inside a 0.4.53 generic wrapper (``00`` + record {json, version})."""
    try:
        return json.loads(decode_wrapper(raw))
    except ValueError as exc:
        raise PayloadFramingError(
            INVALID_PAYLOAD_FRAMING, f"0x00 generic wrapper is malformed: {exc}"
        ) from None


_JSON_START = frozenset('{["-0123456789tfn')


def decode_value_blob(blob: str) -> Any:
    """:func:`decode_value` of a base64 blob (strict: standard alphabet, padding, no spaces)."""
    try:
        raw = b64decode_strict(blob)
    except (binascii.Error, ValueError, TypeError):
        if isinstance(blob, str) and blob.lstrip()[:1] in _JSON_START:
            detail = "payload looks like JSON, not base64-encoded Avro"
        else:
            detail = "payload is not strict base64"
        raise PayloadFramingError(INVALID_PAYLOAD_FRAMING, detail) from None
    return decode_value(raw)


def is_single_object_framed(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` starts like a single-object frame: magic ``C3 01``, a whole fingerprint."""
    return len(data) >= _HEADER_LEN and bytes(data[:2]) == SINGLE_OBJECT_MAGIC
