"""Property: any JSON value survives each codec, inline and offloaded, chained or not.

The second property follows the worker's own path: a workflow result encoded
by ``commands_to_server_commands`` (offloaded when above a random threshold),
stored in history as the server keeps it, and read back by replay.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_strategies import json_values

from durable_workflow import serializer, workflow
from durable_workflow.codecs import AesGcmCodec, CodecChain, GzipCodec, PayloadCodec
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    LocalFilesystemExternalStorage,
    decode_payload,
    envelope_for_blob,
)

_CHAINS: dict[str, PayloadCodec | None] = {
    "none": None,
    "gzip+aes": CodecChain([GzipCodec(min_bytes=0), AesGcmCodec(bytes(32))]),
}


def _same(a: Any, b: Any) -> bool:
    """Equality that also compares types, so ``True`` never passes for ``1`` or ``1.0``."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LocalFilesystemExternalStorage:
    return LocalFilesystemExternalStorage(tmp_path_factory.mktemp("roundtrip-store"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=json_values,
    codec=st.sampled_from(["avro", "json"]),
    offloaded=st.booleans(),
    chain=st.sampled_from(sorted(_CHAINS)),
)
def test_json_values_round_trip(
    store: LocalFilesystemExternalStorage, value: Any, codec: str, offloaded: bool, chain: str
) -> None:
    payload_codec = _CHAINS[chain]
    blob = serializer.encode(value, codec, size_warning=None)
    envelope = envelope_for_blob(
        blob,
        codec=codec,
        external_storage=store if offloaded else None,
        threshold_bytes=1 if offloaded else None,
        payload_codec=payload_codec,
    )
    assert ("external_storage" in envelope) == offloaded
    decoded = decode_payload(
        envelope,
        external_storage=store,
        external_storage_cache=ExternalPayloadCache(),
        payload_codec=payload_codec,
    )
    assert _same(decoded, value)


@workflow.defn(name="roundtrip-echo")
class Echo:
    """Returns whatever its one activity returned."""

    def run(self, ctx: Any) -> Any:
        value = yield ctx.schedule_activity("roundtrip-value", [])
        return value


def _history(stored: Any, codec: str) -> list[dict[str, Any]]:
    ids = {"activity_type": "roundtrip-value", "sequence": 2, "activity_execution_id": "a-1"}
    return [
        {"sequence": 1, "event_type": "WorkflowStarted", "payload": {}},
        {"sequence": 2, "event_type": "ActivityScheduled", "payload": ids},
        {
            "sequence": 3,
            "event_type": "ActivityCompleted",
            "payload": {**ids, "result": stored, "payload_codec": codec},
        },
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=json_values,
    codec=st.sampled_from(["avro", "json"]),
    threshold=st.none() | st.integers(min_value=1, max_value=160),
)
def test_worker_payloads_round_trip_through_commands_and_history(
    store: LocalFilesystemExternalStorage, value: Any, codec: str, threshold: int | None
) -> None:
    (command,) = workflow.commands_to_server_commands(
        [workflow.CompleteWorkflow(value)],
        "q",
        payload_codec=codec,
        size_warning=None,
        external_storage=store,
        external_storage_threshold_bytes=threshold,
    )
    envelope = command["result"]
    size = len(serializer.encode(value, codec, size_warning=None).encode("utf-8"))
    offloaded = threshold is not None and size > threshold
    assert ("external_storage" in envelope) == offloaded
    # History keeps a reference object as is, an inline value as its bare blob.
    stored = envelope if offloaded else envelope["blob"]
    outcome = workflow.replay(
        Echo,
        _history(stored, codec),
        [],
        payload_codec=codec,
        external_storage=store,
        external_storage_cache=ExternalPayloadCache(),
    )
    (completion,) = outcome.commands
    assert isinstance(completion, workflow.CompleteWorkflow)
    assert _same(completion.result, value)
