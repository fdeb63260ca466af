"""Byte-level tests of the payload codecs against payloads.md and the reference ``avro`` package."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import io
import json
import random
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pydantic
import pytest

from durable_workflow import serializer

# payloads.md §2.3, verbatim.
VECTORS: list[tuple[Any, str, str]] = [
    (None, "00086e756c6c02", "AAhudWxsAg=="),
    ([], "00045b5d02", "AARbXQI="),
    (["Ada"], "000e5b22416461225d02", "AA5bIkFkYSJdAg=="),
    ("hello Ada", "00162268656c6c6f204164612202", "ABYiaGVsbG8gQWRhIgI="),
    (["order-123", {"qty": 2}], None, "AC5bIm9yZGVyLTEyMyIseyJxdHkiOjJ9XQI="),
    (
        {"a": 1.0, "b": "é/x"},
        "00287b2261223a312e302c2262223a22c3a92f78227d02",
        "ACh7ImEiOjEuMCwiYiI6IsOpL3gifQI=",
    ),
]

REFERENCE_SCHEMA = avro.schema.parse(json.dumps(serializer.AVRO_WRAPPER_SCHEMA))


def reference_blob(value: Any) -> str:
    """Encode with the reference avro package, the way upstream's SDK does."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    buffer = io.BytesIO()
    buffer.write(b"\x00")
    avro.io.DatumWriter(REFERENCE_SCHEMA).write(
        {"json": text, "version": 1}, avro.io.BinaryEncoder(buffer)
    )
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.parametrize(("value", "hex_bytes", "blob"), VECTORS)
def test_avro_encoding_matches_protocol_vectors(
    value: Any, hex_bytes: str | None, blob: str
) -> None:
    encoded = serializer.encode(value)
    assert encoded == blob
    if hex_bytes is not None:
        assert base64.b64decode(encoded).hex() == hex_bytes
    assert serializer.decode(blob, "avro") == value


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.uniform(-1e12, 1e12)
    if kind == 4:
        alphabet = "abcXYZ /\\\"'\n\t\u00e9\u4e2d\u0394\U0001f600\u0000"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
    if kind == 5:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64, 1.5, -0.0, 1e-300, 1e300])
    if kind in (6, 7):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {f"k{i}\u00e9": _random_value(rng, depth + 1) for i in range(rng.randrange(0, 5))}


HAND_PICKED: list[Any] = [
    0,
    -1,
    2**63,
    -(2**200),
    3.14,
    1e-7,
    "",
    "x" * 63,
    "y" * 64,
    "z" * 200_000,
    "\u00e9\u00e8\u4e2d\u6587\U0001f600",
    {"nested": {"deep": [1, [2, [3, {"x": None}]]]}},
    [True, False, None],
]


@pytest.mark.parametrize("seed", range(40))
def test_avro_blobs_are_byte_identical_to_reference_package(seed: int) -> None:
    rng = random.Random(seed)
    values = [_random_value(rng) for _ in range(10)]
    if seed == 0:
        values += HAND_PICKED
    for value in values:
        expected = reference_blob(value)
        assert serializer.encode(value) == expected
        assert serializer.decode(expected, "avro") == value


def test_json_codec_is_compact_raw_utf8_text() -> None:
    blob = serializer.encode({"a": [1, "é"]}, "json")
    assert blob == '{"a":[1,"é"]}'
    assert serializer.decode(blob, "json") == {"a": [1, "é"]}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [float("-inf")]])
@pytest.mark.parametrize("codec", ["avro", "json"])
def test_non_finite_floats_are_refused(bad: Any, codec: str) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        serializer.encode(bad, codec)


def test_unknown_codec_is_refused_both_ways() -> None:
    with pytest.raises(ValueError, match="unsupported payload codec 'msgpack'"):
        serializer.encode(1, "msgpack")
    with pytest.raises(ValueError, match="unsupported payload codec"):
        serializer.decode("AAhudWxsAg==", "workflow-serializer-y")


def test_empty_and_missing_blobs_decode_to_none() -> None:
    assert serializer.decode(None) is None
    assert serializer.decode("") is None
    assert serializer.decode("", "json") is None


def test_json_text_labelled_avro_gets_specific_diagnostic() -> None:
    with pytest.raises(ValueError, match="looks like JSON, not base64-encoded Avro"):
        serializer.decode('"hello Ada"', "avro")
    with pytest.raises(ValueError, match="looks like JSON"):
        serializer.decode("[1,2]", "avro")


def test_typed_framing_and_unknown_prefixes_are_rejected() -> None:
    typed = base64.b64encode(b"\x01\x00\x00\x00\x02{}").decode()
    with pytest.raises(ValueError, match="typed-schema framing"):
        serializer.decode(typed, "avro")
    other = base64.b64encode(b"\x07\x08null\x02").decode()
    with pytest.raises(ValueError, match="prefix 0x07"):
        serializer.decode(other, "avro")


def test_base64_decoding_is_strict() -> None:
    with pytest.raises(ValueError, match="not valid base64"):
        serializer.decode("AAhudWxsAg", "avro")  # missing padding
    with pytest.raises(ValueError, match="not valid base64"):
        serializer.decode("AAhu\ndWxsAg==", "avro")


def test_truncated_avro_record_is_rejected() -> None:
    truncated = base64.b64encode(b'\x00\x16"hel').decode()
    with pytest.raises(ValueError, match=r"not a valid durable_workflow\.Payload"):
        serializer.decode(truncated, "avro")


def test_envelope_round_trip_and_codec_precedence() -> None:
    env = serializer.envelope(["Ada"])
    assert env == {"codec": "avro", "blob": "AA5bIkFkYSJdAg=="}
    assert serializer.is_envelope(env)
    # The envelope's own codec wins over any default.
    assert serializer.decode_envelope(env, default_codec="json") == ["Ada"]
    assert serializer.decode_envelope({"codec": "json", "blob": "[1]", "size": 3}) == [1]
    assert serializer.decode_envelope('"x"', default_codec=None) == "x"
    assert serializer.decode_envelope("ABYiaGVsbG8gQWRhIgI=", "avro") == "hello Ada"
    # A bare blob with no codec is JSON text, as upstream.
    assert serializer.decode_envelope('"x"') == "x"
    assert serializer.decode_envelope('"x"', "json") == "x"
    assert serializer.decode_envelope(None) is None


def test_is_envelope_rejects_plain_values() -> None:
    assert not serializer.is_envelope(["a"])
    assert not serializer.is_envelope({"blob": "x"})
    assert not serializer.is_envelope({"codec": 1, "blob": "x"})
    assert serializer.is_envelope({"codec": "avro", "external_storage": {}})


def test_external_envelope_without_driver_is_a_clear_error() -> None:
    reference = {
        "schema": "durable-workflow.v2.external-payload-reference.v1",
        "uri": "s3://b/avro/ab/" + "ab" * 32,
        "sha256": "ab" * 32,
        "size_bytes": 3,
        "codec": "avro",
    }
    with pytest.raises(ValueError, match=r"stored externally at s3://b/avro/ab/.*driver") as caught:
        serializer.decode_envelope({"codec": "avro", "external_storage": reference})
    assert getattr(caught.value, "field", None) == "external_storage"


def test_decode_envelope_rejects_non_payload_values() -> None:
    with pytest.raises(ValueError, match="blob string or a"):
        serializer.decode_envelope(42)


def test_batch_helpers() -> None:
    blobs = serializer.encode_many([1, "a"])
    assert serializer.decode_many(blobs, "avro") == [1, "a"]
    assert serializer.decode_envelopes(serializer.envelope_many([None, [2]])) == [None, [2]]


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Line:
    sku: str
    when: dt.date
    color: Color


class Order(pydantic.BaseModel):
    id: uuid.UUID
    total: Decimal
    lines: list[str]


def test_to_avro_payload_value_converts_rich_values_recursively() -> None:
    order_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    value = {
        "line": Line("s1", dt.date(2026, 1, 2), Color.RED),
        "order": Order(id=order_id, total=Decimal("1.50"), lines=["a"]),
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "t": dt.time(1, 2),
        "ids": (order_id, Decimal("2")),
        "level": Level.HIGH,
    }
    assert serializer.to_avro_payload_value(value) == {
        "line": {"sku": "s1", "when": "2026-01-02", "color": "red"},
        "order": {"id": str(order_id), "total": "1.50", "lines": ["a"]},
        "at": "2026-01-02T03:04:05+00:00",
        "t": "01:02:00",
        "ids": [str(order_id), "2"],
        "level": 3,
    }
    assert serializer.to_avro_payload_values([Color.RED, 1]) == ["red", 1]


def test_to_avro_payload_value_refuses_unconvertible_values() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        serializer.to_avro_payload_value({1: "a"})
    with pytest.raises(TypeError, match="bytes"):
        serializer.to_avro_payload_value(b"raw")
    with pytest.raises(TypeError, match="cannot be converted"):
        serializer.to_avro_payload_value(object())
    with pytest.raises(TypeError, match="cannot be converted"):
        serializer.to_avro_payload_value({"a", "b"})


def test_non_json_value_names_the_helper() -> None:
    with pytest.raises(TypeError, match="to_avro_payload_value"):
        serializer.encode(object())


def test_size_warning_is_logged_with_structured_context(caplog: pytest.LogCaptureFixture) -> None:
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    assert config.threshold_bytes == 50
    context = serializer.PayloadSizeWarningContext(
        "activity_result", workflow_id="wf-1", activity_name="greet"
    )
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        serializer.encode("x" * 10, size_warning=config, warning_context=context)
        assert caplog.records == []
        blob = serializer.encode("é" * 40, "json", size_warning=config, warning_context=context)
    [record] = caplog.records
    assert record.durable_workflow_payload == {  # type: ignore[attr-defined]
        "kind": "activity_result",
        "workflow_id": "wf-1",
        "activity_name": "greet",
        "codec": "json",
        "payload_size": len(blob.encode("utf-8")),
        "threshold_bytes": 50,
        "limit_bytes": 100,
    }


def test_size_warning_context_may_be_a_mapping(caplog: pytest.LogCaptureFixture) -> None:
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        serializer.encode(
            "x" * 60,
            size_warning=config,
            warning_context={"kind": "signal", "signal_name": "go", "attempt": 2, "run_id": None},
        )
        serializer.encode("x" * 60, size_warning=config, warning_context={"workflow_id": "w"})
    first, second = (r.durable_workflow_payload for r in caplog.records)  # type: ignore[attr-defined]
    assert {k: first[k] for k in ("kind", "signal_name", "attempt")} == {
        "kind": "signal",
        "signal_name": "go",
        "attempt": "2",
    }
    assert "run_id" not in first
    assert (second["kind"], second["workflow_id"]) == ("payload", "w")


def test_batch_encoders_take_one_context_per_value(caplog: pytest.LogCaptureFixture) -> None:
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    contexts = [serializer.PayloadSizeWarningContext("a"), {"kind": "b"}]
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        serializer.encode_many(["x" * 60, "y" * 60], size_warning=config, warning_context=contexts)
        serializer.envelope_many(
            ["x" * 60, "y" * 60], size_warning=config, warning_context=contexts
        )
        shared = serializer.PayloadSizeWarningContext("shared")
        serializer.encode_many(["x" * 60, "y" * 60], size_warning=config, warning_context=shared)
    kinds = [r.durable_workflow_payload["kind"] for r in caplog.records]  # type: ignore[attr-defined]
    assert kinds == ["a", "b", "a", "b", "shared", "shared"]
    with pytest.raises(ValueError, match="2 contexts for 3 values"):
        serializer.encode_many([1, 2, 3], warning_context=contexts)


def test_external_storage_batch_takes_one_context_per_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = serializer.ExternalStorageDriver  # upstream's name, resolved from external_storage
    from durable_workflow.external_storage import LocalFilesystemExternalStorage

    assert isinstance(LocalFilesystemExternalStorage(tmp_path), store)
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        envelopes = serializer.external_storage_envelope_many(
            ["x" * 60, "y" * 60],
            external_storage=LocalFilesystemExternalStorage(tmp_path),
            threshold_bytes=1000,
            size_warning=config,
            warning_context=[{"kind": "first"}, {"kind": "second"}],
        )
    assert [e["blob"] for e in envelopes] == serializer.encode_many(["x" * 60, "y" * 60])
    kinds = [r.durable_workflow_payload["kind"] for r in caplog.records]  # type: ignore[attr-defined]
    assert kinds[:2] == ["first", "second"]


def test_storage_names_and_decode_envelope_value_keyword(tmp_path: Path) -> None:
    from durable_workflow import external_storage

    for name in (
        "ExternalPayloadCache",
        "ExternalPayloadReference",
        "ExternalStorageDriver",
        "fetch_external_payload",
        "store_external_payload",
    ):
        assert getattr(serializer, name) is getattr(external_storage, name)
        assert name in dir(serializer)
    with pytest.raises(AttributeError, match="no_such_name"):
        serializer.no_such_name  # noqa: B018
    driver = external_storage.LocalFilesystemExternalStorage(tmp_path)
    reference = serializer.store_external_payload(driver, b'"hi"', codec="json")
    assert isinstance(reference, serializer.ExternalPayloadReference)
    assert serializer.fetch_external_payload(driver, reference) == b'"hi"'
    assert serializer.decode_envelope(value={"codec": "json", "blob": '"hi"'}) == "hi"


def test_size_warning_can_be_disabled_and_validates_its_config(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        serializer.encode("x" * 3_000_000, size_warning=None)
        serializer.warn_if_json_payload_near_limit(["x" * 10], size_warning=None)
        assert caplog.records == []
        serializer.encode("x" * 1_700_000)
        serializer.warn_if_json_payload_near_limit(
            ["y" * 60], size_warning=serializer.PayloadSizeWarningConfig(100, 50)
        )
    assert len(caplog.records) == 2
    assert caplog.records[0].durable_workflow_payload["kind"] == "payload"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="limit_bytes"):
        serializer.PayloadSizeWarningConfig(limit_bytes=0)
    with pytest.raises(ValueError, match="threshold_percent"):
        serializer.PayloadSizeWarningConfig(threshold_percent=101)


def test_external_storage_envelopes_round_trip_through_the_serializer_names(
    tmp_path: Path,
) -> None:
    from durable_workflow.external_storage import LocalFilesystemExternalStorage

    driver = LocalFilesystemExternalStorage(tmp_path)
    small, large = serializer.external_storage_envelope_many(
        ["x", "y" * 200], external_storage=driver, threshold_bytes=64
    )
    assert set(small) == {"codec", "blob"}
    assert set(large) == {"codec", "external_storage"}
    assert large["external_storage"]["size_bytes"] > 64
    assert serializer.decode_envelopes([small, large], external_storage=driver) == [
        "x",
        "y" * 200,
    ]
    with pytest.raises(ValueError, match=r"stored externally at file:.*configure an external"):
        serializer.decode_envelope(large)


def test_warning_context_is_a_frozen_value_with_positional_fields() -> None:
    context = serializer.PayloadSizeWarningContext("signal", "wf-1", "Order", "run-1")
    assert context == serializer.PayloadSizeWarningContext(
        "signal", workflow_id="wf-1", workflow_type="Order", run_id="run-1"
    )
    assert context.to_log_context() == {
        "kind": "signal",
        "workflow_id": "wf-1",
        "workflow_type": "Order",
        "run_id": "run-1",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.kind = "other"  # type: ignore[misc]
