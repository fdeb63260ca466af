"""The serializer writes either framing of ``avro`` and always reads both."""

from __future__ import annotations

import base64

import pytest

from durable_workflow import serializer
from durable_workflow.converter import DataConverter
from durable_workflow.converter._value_codec import (
    ValueEncodeError,
    encode_value_blob,
)
from durable_workflow.converter._value_errors import PayloadFramingError

VALUE = serializer.VALUE_FRAMING
WRAPPER = serializer.WRAPPER_FRAMING


def test_value_framing_is_the_value_codec_byte_for_byte() -> None:
    value = {"n": [1, -(2**40), 2.5, None, True], "s": "ünï", "b": b"\x00\xff"}
    assert serializer.encode(value, framing=VALUE) == encode_value_blob(value)
    assert base64.b64decode(serializer.encode(1, framing=VALUE))[:2] == b"\xc3\x01"


def test_wrapper_framing_stays_the_default() -> None:
    assert base64.b64decode(serializer.encode([1, "a"]))[0] == 0
    assert serializer.envelope([1]) == serializer.envelope([1], framing=WRAPPER)


@pytest.mark.parametrize("framing", [WRAPPER, VALUE])
def test_both_framings_decode_whatever_the_writer(framing: str) -> None:
    blob = serializer.encode({"k": [1, "two"]}, framing=framing)
    assert serializer.decode(blob, "avro") == {"k": [1, "two"]}
    assert serializer.decode_envelope({"codec": "avro", "blob": blob}) == {"k": [1, "two"]}


def test_tuples_travel_as_lists_as_json_carried_them() -> None:
    blob = serializer.encode({"pair": (1, (2, 3))}, framing=VALUE)
    assert serializer.decode(blob, "avro") == {"pair": [1, [2, 3]]}


def test_a_value_the_value_schema_cannot_hold_names_the_element() -> None:
    with pytest.raises(ValueEncodeError) as caught:
        serializer.encode({"k": [1, 2**70]}, framing=VALUE)
    assert (caught.value.reason, caught.value.path) == ("integer_overflow", '$["k"][1]')
    with pytest.raises(ValueEncodeError, match="invalid_map_key"):
        serializer.encode({1: "x"}, framing=VALUE)
    with pytest.raises(TypeError):
        serializer.encode(object(), framing=VALUE)


def test_json_codec_ignores_the_framing_and_bad_framing_names_are_refused() -> None:
    assert serializer.encode([1], "json", framing=VALUE) == "[1]"
    with pytest.raises(ValueError, match="unknown avro framing"):
        serializer.encode([1], framing="other")


def test_a_value_frame_of_another_schema_is_refused_with_the_servers_reason() -> None:
    raw = b"\xc3\x01" + b"\x00" * 8 + b"\x00"
    with pytest.raises(PayloadFramingError) as caught:
        serializer.decode(base64.b64encode(raw).decode(), "avro")
    assert caught.value.reason == "unsupported_payload_schema"


def test_the_converter_writes_its_framing_everywhere() -> None:
    converter = DataConverter().with_framing(VALUE)
    envelope = converter.encode({"x": 1})
    assert base64.b64decode(envelope["blob"])[:2] == b"\xc3\x01"
    assert base64.b64decode(converter.encode_bare("r"))[:2] == b"\xc3\x01"
    assert converter.decode(envelope) == {"x": 1}
    assert DataConverter().decode(envelope) == {"x": 1}  # a 0.x converter reads it too
    with pytest.raises(ValueError, match="framing"):
        DataConverter(framing="nope")
