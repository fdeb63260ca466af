"""The 2.x Value codec on upstream's vendored vectors, its Python mapping, and strict decoding.

Bytes must equal upstream SDK 2.12.0's (the golden vectors are its output) and
fastavro's with the vendored ``.avsc``; malformed frames fail with the server's
reason names; the 0.4.53 wrapper still decodes.
"""

from __future__ import annotations

import base64
import collections
import enum
import math
import sys
from typing import Any

import pytest
from value_codec_support import FastavroValue, load_json

from durable_workflow import serializer
from durable_workflow.converter._value_codec import (
    VALUE_FRAME_HEADER,
    PayloadFramingError,
    UnsupportedValueTypeError,
    ValueEncodeError,
    decode_value,
    decode_value_blob,
    encode_value,
    encode_value_blob,
    is_single_object_framed,
)

GOLDEN = "schema/avro-value-v1-golden.json"
REGRESSIONS = [
    "avro-value-v1-long-zero.json",
    "batch-envelope-codecs-rejected-before-grouping.json",
    "json-tagged-null-payload-codec-rejected.json",
    "json-tagged-payload-codec-rejected.json",
    "missing-null-root-task-codecs-rejected.json",
    "runtime-external-payload-reference-rejected-before-decode.json",
]


@pytest.fixture(scope="module")
def fastavro_value() -> FastavroValue:
    return FastavroValue()


def _golden(section: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = load_json(GOLDEN)[section]
    return cases


def _expected(case: dict[str, Any]) -> Any:
    """A golden case's value from its string form (``kind`` says how to read it)."""
    if case["kind"] == "long":
        return int(case["value"])
    if case["kind"] == "double":
        return float(case["value"])
    if case["kind"] == "bytes":
        return base64.b64decode(case["value_base64"])
    return case.get("value")


def test_golden_file_is_the_one_described() -> None:
    golden = load_json(GOLDEN)
    assert golden["fingerprint"] == VALUE_FRAME_HEADER[2:].hex()
    assert golden["magic_hex"] == VALUE_FRAME_HEADER[:2].hex()
    counts = [len(golden[key]) for key in ("cases", "alternate_map_orders", "malformed_frames")]
    assert counts == [16, 1, 18]


@pytest.mark.parametrize("index", range(16))
def test_golden_case_decodes_and_reencodes_byte_for_byte(index: int) -> None:
    case = _golden("cases")[index]
    value = decode_value_blob(case["wire_base64"])
    assert encode_value_blob(value) == case["wire_base64"], case["name"]
    if "value" in case or "value_base64" in case or case["kind"] == "null":
        expected = _expected(case)
        assert value == expected and type(value) is type(expected)
        if case["name"] == "negative_zero":
            assert math.copysign(1.0, value) == -1.0


def test_alternate_map_orders_are_one_value_written_in_insertion_order() -> None:
    for case in _golden("alternate_map_orders"):
        first, second = (decode_value_blob(wire) for wire in case["wire_base64"])
        assert first == second
        assert [encode_value_blob(first), encode_value_blob(second)] == case["wire_base64"]


@pytest.mark.parametrize("index", range(18))
def test_golden_malformed_frame_is_refused_with_the_servers_reason(index: int) -> None:
    case = _golden("malformed_frames")[index]
    with pytest.raises(PayloadFramingError) as caught:
        decode_value_blob(case["wire_base64"])
    assert caught.value.reason == case["error"], case["name"]
    assert str(caught.value).startswith(case["error"] + ": ")
    assert isinstance(caught.value, ValueError)


def _typed(node: dict[str, Any]) -> Any:
    """A regression fixture's ``{"type": ..., "value": ...}`` tree as a Python value."""
    kind = node["type"]
    if kind == "null":
        return None
    if kind == "long":
        return int(node["value"])
    if kind == "array":
        return [_typed(item) for item in node["items"]]
    if kind == "map":
        return {entry["key"]: _typed(entry["value"]) for entry in node["entries"]}
    return node["value"]


@pytest.mark.parametrize("name", REGRESSIONS)
def test_codec_regression_fixture(name: str) -> None:
    fixture = load_json(f"tests/fixtures/codec_regressions/{name}")
    wire = fixture["framing"]["wire_base64"]
    if fixture["protocol"]["codec"] == "avro":
        assert fixture["failure_policy"] == {"operation": "round_trip", "error": None}
        value = _typed(fixture["value"])
        assert encode_value_blob(value) == wire
        assert decode_value_blob(wire) == value
    else:
        # Not Value frames (JSON text, task or envelope documents): the codec must
        # refuse the bytes; the codec-label reasons belong to the payload layer.
        with pytest.raises(PayloadFramingError) as caught:
            decode_value_blob(wire)
        assert caught.value.reason == "invalid_payload_framing"


@pytest.mark.parametrize(
    "value",
    [
        None, True, False, 0, -1, 63, -64, 64, 4095, -4096, 4096, 2**31, -(2**63), 2**63 - 1,
        0.0, -0.0, 1.5, 5e-324, 1.7976931348623157e308, b"", b"\x00" * 5000, "", "é✓𝄞",
        "x" * 4096, "y" * 70_000, [], {}, list(range(5000)), {str(i): i for i in range(4100)},
        {"": [None, {"a": {"b": [b"\xff", -7.25]}}]},
    ],
)  # fmt: skip
def test_bytes_match_fastavro_and_decode_back(value: Any, fastavro_value: FastavroValue) -> None:
    frame = encode_value(value)
    assert frame == fastavro_value.encode(value)
    assert decode_value(frame) == value
    assert is_single_object_framed(frame)


class Colour(enum.IntEnum):
    RED = 3


class Tag(str, enum.Enum):
    HOT = "hot"


class Ratio(float):
    pass


class Record(dict):  # type: ignore[type-arg]
    pass


class Items(list):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize(
    ("subclass_value", "plain"),
    [
        (Colour.RED, 3),
        (Tag.HOT, "hot"),
        (Ratio(0.5), 0.5),
        (Record(a=1), {"a": 1}),
        (Items([1]), [1]),
        (collections.OrderedDict([("z", 1), ("a", 2)]), {"z": 1, "a": 2}),
        ({Tag.HOT: 1}, {"hot": 1}),
    ],
)
def test_subclasses_encode_as_their_builtin_base_like_upstream(
    subclass_value: Any, plain: Any
) -> None:
    assert encode_value(subclass_value) == encode_value(plain)


@pytest.mark.parametrize(
    ("value", "reason", "path", "error_type"),
    [
        (2**63, "integer_overflow", "$", ValueEncodeError),
        ([1, -(2**63) - 1], "integer_overflow", "$[1]", ValueEncodeError),
        ({"a": float("nan")}, "non_finite_float", '$["a"]', ValueEncodeError),
        ([float("-inf")], "non_finite_float", "$[0]", ValueEncodeError),
        ({"a": {1: "x"}}, "invalid_map_key", '$["a"]', ValueEncodeError),
        ({"k": [(1, 2)]}, "unsupported_value_type", '$["k"][0]', UnsupportedValueTypeError),
        (bytearray(b"x"), "unsupported_value_type", "$", UnsupportedValueTypeError),
        ({1, 2}, "unsupported_value_type", "$", UnsupportedValueTypeError),
        (["ok", "bad \ud800"], "invalid_string", "$[1]", ValueEncodeError),
        ({"é": {"\udfff": 1}}, "invalid_string", '$["é"]["\\udfff"]', ValueEncodeError),
        # upstream checks kinds over the whole value before its library meets a string
        (["\ud800", {"b": (1,)}], "unsupported_value_type", '$[1]["b"]', UnsupportedValueTypeError),
    ],
)
def test_unencodable_values_name_reason_and_path(
    value: Any, reason: str, path: str, error_type: type[Exception]
) -> None:
    with pytest.raises(error_type) as caught:
        encode_value(value)
    error = caught.value
    assert isinstance(error, ValueEncodeError)
    assert (error.reason, error.path) == (reason, path)
    assert str(error).startswith(f"{reason}: ") and str(error).endswith(f"(at {path})")


def test_unsupported_type_is_both_a_type_error_as_upstream_and_a_value_error() -> None:
    with pytest.raises(TypeError):
        encode_value((1,))
    with pytest.raises(ValueError):
        encode_value((1,))


def test_a_value_containing_itself_names_where_the_cycle_closes() -> None:
    loop: list[Any] = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueEncodeError) as caught:
        encode_value({"start": loop})
    assert caught.value.reason == "nesting_too_deep"
    assert caught.value.path == '$["start"][1]["again"]'
    assert "cycle" in str(caught.value)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_past_the_recursion_limit_is_a_typed_error_with_a_short_path() -> None:
    with pytest.raises(ValueEncodeError) as caught:
        encode_value(_nested(20_000))
    assert caught.value.reason == "nesting_too_deep"
    assert caught.value.path.startswith("$[0][0][0][0][0][0][0][0]…(")


def test_nested_subclassed_containers_past_the_stack_are_a_typed_error() -> None:
    # Deeper than the interpreter's current limit, whatever another test or library set it to.
    value: Any = []
    for _ in range(2 * sys.getrecursionlimit() + 1000):
        value = Items([value])
    with pytest.raises(ValueEncodeError) as caught:
        encode_value(value)
    assert caught.value.reason == "nesting_too_deep"


def test_nesting_upstream_handles_round_trips() -> None:
    value = _nested(400)
    assert decode_value(encode_value(value)) == value


def test_a_frame_nested_too_deeply_is_refused_not_crashed() -> None:
    frame = VALUE_FRAME_HEADER + b"\x0c\x02" * 50_000 + b"\x00" + b"\x00" * 50_000
    with pytest.raises(PayloadFramingError) as caught:
        decode_value(frame)
    assert caught.value.reason == "invalid_payload_framing"


H = VALUE_FRAME_HEADER


@pytest.mark.parametrize(
    ("datum", "value"),
    [
        (b"\x04\x80\x00", 0),  # non-canonical varint padding: valid Avro, as fastavro reads it
        (b"\x04" + b"\xff" * 9 + b"\x01", -(2**63)),
        (b"\x0c\x01\x02\x00\x00", [None]),  # negative count followed by the block's byte size
        (b"\x0c\x02\x00\x02\x00\x00", [None, None]),  # two blocks
        (b"\x0e\x03\x0e\x02a\x04\x02\x02b\x00\x00", {"a": 1, "b": None}),
    ],
)
def test_valid_but_unusual_avro_decodes(
    datum: bytes, value: Any, fastavro_value: FastavroValue
) -> None:
    assert decode_value(H + datum) == value
    fastavro_value.decode_datum(H + datum)  # fastavro agrees it is one well-formed datum


@pytest.mark.parametrize(
    ("datum", "why"),
    [
        (b"\x02\x02", "boolean byte is 0x02"),
        (b"\x04" + b"\x80" * 10 + b"\x00", "longer than ten bytes"),
        (b"\x04" + b"\xff" * 9 + b"\x7f", "exceeds 64 bits"),
        (b"\x0e\x04\x02a\x02\x01\x02a\x02\x00\x00", "repeats a key"),
        (b"\x0c\x01\x10\x00\x00", "byte size does not match"),
        (b"\x80\x00", "union branch tag 0x80"),
        (b"\x0a\x01", "negative length"),
        (b"\x0c\x01\x01", "negative block byte size"),
    ],
)
def test_non_canonical_input_no_writer_produces_is_refused(datum: bytes, why: str) -> None:
    with pytest.raises(PayloadFramingError, match=why) as caught:
        decode_value(H + datum)
    assert caught.value.reason == "invalid_payload_framing"


@pytest.mark.parametrize("value", [None, "hello Ada", [1, 2.5, {"a": [True, None]}], {"é": "/"}])
def test_the_0_4_53_wrapper_still_decodes(value: Any) -> None:
    blob = serializer.encode(value, size_warning=None)
    assert base64.b64decode(blob)[:1] == b"\x00"
    assert decode_value_blob(blob) == value
    assert not is_single_object_framed(base64.b64decode(blob))


@pytest.mark.parametrize(
    "raw",
    [b"\x00", b"\x00\x08null", b"\x00\x06nul\x02", b"\x00\x08null\x02\x00", b"\x01\x00\x00"],
)
def test_malformed_wrapper_and_typed_framing_are_invalid_framing(raw: bytes) -> None:
    with pytest.raises(PayloadFramingError) as caught:
        decode_value(raw)
    assert caught.value.reason == "invalid_payload_framing"


@pytest.mark.parametrize(
    ("blob", "detail"),
    [
        ('{"a":1}', "looks like JSON"),
        ("[1]", "looks like JSON"),
        ("null", "magic c301"),  # valid base64 (9e e9 65), so it fails on the magic, as upstream
        ("wwE", "not strict base64"),
        (" wwHioz3/VYAiNwA=", "not strict base64"),
        ("wwHioz3/VYAiNwA=\n", "not strict base64"),
        ("wwHioz3_VYAiNwA=", "not strict base64"),
    ],
)
def test_blob_base64_is_strict(blob: str, detail: str) -> None:
    with pytest.raises(PayloadFramingError, match=detail) as caught:
        decode_value_blob(blob)
    assert caught.value.reason == "invalid_payload_framing"


def test_decode_value_takes_any_bytes_like() -> None:
    frame = encode_value({"a": b"\x01"})
    assert decode_value(bytearray(frame)) == decode_value(memoryview(frame)) == {"a": b"\x01"}


@pytest.mark.parametrize(
    ("data", "framed"),
    [
        (VALUE_FRAME_HEADER + b"\x00", True),
        (b"\xc3\x01" + bytes(8), True),  # another schema's fingerprint: still this framing
        (b"\xc3\x01" + bytes(7), False),
        (b"\x00\x08null\x02", False),
        (b"", False),
    ],
)
def test_is_single_object_framed(data: bytes, framed: bool) -> None:
    assert is_single_object_framed(data) is framed
