"""Payloads for display: decoded by the package's converter when possible, else shown encoded."""

from __future__ import annotations

import json

from durable_workflow import serializer
from durable_workflow.converter._value_codec import encode_value_blob
from durable_workflow.server.ui.payloads import show_blob, show_value


def test_json_avro_wrapper_and_value_framing_are_decoded() -> None:
    value = {"order": "<script>", "n": [1, 2]}
    for codec, blob in (
        ("json", json.dumps(value)),
        ("avro", serializer.encode(value, "avro")),  # the 0.4.53 generic wrapper
        ("avro", encode_value_blob(value)),  # the 2.x Value frame
    ):
        shown = show_blob(codec, blob)
        assert shown.decoded and json.loads(shown.text) == value, codec


def test_what_cannot_be_decoded_is_shown_encoded_and_says_so() -> None:
    for codec, blob in (("avro", "bm90IGF2cm8="), ("gzip+avro", "H4sIAAAA"), ("json", "{oops")):
        shown = show_blob(codec, blob)
        assert not shown.decoded and shown.text == blob and "cannot decode" in shown.note
    reference = {"codec": "avro", "external_storage": {"uri": "s3://b/k", "sha256": "x"}}
    shown = show_value(reference)
    assert not shown.decoded and "stored externally" in shown.note
    assert json.loads(shown.text) == reference


def test_envelopes_and_plain_values_and_nothing() -> None:
    envelope = {"codec": "avro", "blob": serializer.encode([1], "avro")}
    assert json.loads(show_value(envelope).text) == [1]
    assert json.loads(show_value({"a": 1}).text) == {"a": 1}
    assert show_value(None).empty and show_blob("avro", None).empty
