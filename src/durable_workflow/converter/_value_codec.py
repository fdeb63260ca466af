"""The 2.x payload codec: the fixed ``durable_workflow.protocol.Value`` schema, single-object framed.

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
repeating a key, a negative block count whose byte size disagrees with its items. The 0.4.53 generic wrapper (prefix ``0x00``)
decodes too, so histories written by either server generation replay.
"""

from __future__ import annotations

import binascii
import json
import struct
import sys
from typing import Any

from durable_workflow._avro_wrapper import b64decode_strict, decode_wrapper
from durable_workflow.errors import DurableWorkflowError

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

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

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


def _uvarint(value: int) -> bytes:
    """Little-endian base-128 groups of a non-negative int, high bit = more to come."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# Precomputed prefixes for the sizes and numbers nearly every value uses.
_TABLE = 4096
_SIZE = [_uvarint(n << 1) for n in range(_TABLE)]  # a length or item count
_STRING_HEAD = [_STRING_TAG + size for size in _SIZE]
_BYTES_HEAD = [_BYTES_TAG + size for size in _SIZE]
_SMALL_LONG = {n: _LONG_TAG + _uvarint((n << 1) ^ (n >> 63)) for n in range(-_TABLE, _TABLE)}


class PayloadFramingError(DurableWorkflowError, ValueError):
    """A payload is not a well-formed frame; ``reason`` is the server's reason name."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ValueEncodeError(DurableWorkflowError, ValueError):
    """A value has no Value encoding; ``path`` (``$``, ``$[0]["key"]``) names the element."""

    def __init__(self, reason: str, path: str, detail: str) -> None:
        self.reason = reason
        self.path = path
        self.detail = detail
        super().__init__(f"{reason}: {detail} (at {path})")


class UnsupportedValueTypeError(ValueEncodeError, TypeError):
    """A value of a type the Value union has no branch for (a ``TypeError`` as upstream's)."""


class _Unencodable(Exception):
    """Raised by the fast encoder; :func:`_diagnose` then names the reason and path."""


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
            if value < _INT64_MIN or value > _INT64_MAX:
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
        raise _diagnose(value, _reachable_depth()) from None
    return bytes(out)


def encode_value_blob(value: Any) -> str:
    """:func:`encode_value` as the base64 text a 2.x server takes as the ``avro`` blob."""
    return binascii.b2a_base64(encode_value(value), newline=False).decode("ascii")


def _reachable_depth() -> int:
    """How many levels the recursive encoder can descend from the current call stack."""
    frame, used = sys._getframe(), 0
    while frame is not None:
        frame, used = frame.f_back, used + 1  # type: ignore[assignment]
    return sys.getrecursionlimit() - used - 2


def _diagnose(value: Any, max_depth: int) -> ValueEncodeError:
    """The typed error for what :func:`_write` refused, found by walking ``value`` again.

    Only runs after the fast encoder failed, so its cost does not matter. As
    upstream checks kinds, ranges and keys over the whole value before its
    library meets a string, an unencodable string is only reported when
    nothing else is wrong.
    """
    error = _walk(value, max_depth, texts=False) or _walk(value, max_depth, texts=True)
    if error is None:
        raise AssertionError(f"the encoder refused {value!r:.200} but no problem was found")
    return error


def _walk(value: Any, max_depth: int, *, texts: bool) -> ValueEncodeError | None:
    """The first problem in encoding order, strings included when ``texts``.

    Walks without recursion, depth first, keeping the ids of the containers
    above the current element to tell a cycle from depth.
    """
    ancestors: list[int] = []
    pending: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while pending:
        item, path, depth = pending.pop()
        del ancestors[depth:]
        problem = _scalar_problem(item, path, texts)
        if problem is not None:
            return problem
        if not isinstance(item, (list, dict)):
            continue
        if id(item) in ancestors:
            return ValueEncodeError(
                "nesting_too_deep", _short(path), "value contains itself (a reference cycle)"
            )
        if depth >= max_depth:
            return ValueEncodeError(
                "nesting_too_deep",
                _short(path),
                f"value is nested deeper than the {max_depth} levels the encoder can reach here",
            )
        ancestors.append(id(item))
        children: list[tuple[Any, str, int]] = []
        if isinstance(item, list):
            children = [(child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item)]
        else:
            for key, child in item.items():
                if not isinstance(key, str):
                    return ValueEncodeError(
                        "invalid_map_key",
                        path,
                        f"Avro Value maps require string keys, got {type(key).__name__} "
                        f"{key!r}; keys are never stringified",
                    )
                key_path = f"{path}[{_quoted(key)}]"
                problem = _text_problem(key, key_path) if texts else None
                if problem is not None:
                    return problem
                children.append((child, key_path, depth + 1))
        pending.extend(reversed(children))
    return None


def _scalar_problem(value: Any, path: str, texts: bool) -> ValueEncodeError | None:
    if value is None or isinstance(value, (bool, bytes, list, dict)):
        return None
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return None
        return ValueEncodeError(
            "integer_overflow", path, "Avro Value long must be within signed 64-bit range"
        )
    if isinstance(value, float):
        if value - value == 0.0:
            return None
        return ValueEncodeError("non_finite_float", path, "Avro Value doubles must be finite")
    if isinstance(value, str):
        return _text_problem(value, path) if texts else None
    return UnsupportedValueTypeError(
        "unsupported_value_type",
        path,
        f"adapt {type(value).__name__} to a canonical Avro Value kind before encoding",
    )


def _text_problem(text: str, path: str) -> ValueEncodeError | None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        return ValueEncodeError(
            "invalid_string", path, f"string is not encodable as UTF-8 ({exc.reason})"
        )
    return None


def _quoted(key: str) -> str:
    """A map key as a path step: JSON-quoted, non-ASCII kept unless it is a lone surrogate."""
    step = json.dumps(key, ensure_ascii=False)
    return step if _text_problem(step, "") is None else json.dumps(key)


_STEPS_SHOWN = 8


def _short(path: str) -> str:
    """A deep path cut to its first few steps."""
    steps = path.split("[")
    if len(steps) <= _STEPS_SHOWN + 1:
        return path
    return "[".join(steps[: _STEPS_SHOWN + 1]) + f"…({len(steps) - 1} levels)"


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
    """Whether ``data`` starts like a single-object frame: magic ``C3 01`` and a full fingerprint."""
    return len(data) >= _HEADER_LEN and bytes(data[:2]) == SINGLE_OBJECT_MAGIC
