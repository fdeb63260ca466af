"""Worker helpers: argument decoding, definition fingerprints, backoff, error classes."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import errors, serializer
from durable_workflow.converter import DataConverter
from durable_workflow.worker._support import (
    Backoff,
    definition_fingerprint,
    is_fatal,
    is_transient,
    process_metrics,
    reason_of,
)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (None, []),
        (serializer.envelope(["a", 1]), ["a", 1]),
        (serializer.envelope("scalar"), ["scalar"]),
        (serializer.envelope([1], "json"), [1]),
        ({"codec": None, "blob": None}, []),
        (serializer.encode(["bare"]), ["bare"]),
    ],
)
def test_decode_arguments(arguments: Any, expected: list[Any]) -> None:
    assert DataConverter().decode_arguments(arguments, "avro") == expected


def test_decode_arguments_rejects_non_envelopes() -> None:
    with pytest.raises(ValueError):
        DataConverter().decode_arguments({"not": "an envelope"}, "avro")


class One:
    def run(self, ctx: Any) -> int:
        return 1


class Two:
    def run(self, ctx: Any) -> int:
        return 2


def test_fingerprint_is_stable_and_tracks_the_definition() -> None:
    first = definition_fingerprint(One, "t")
    assert first == definition_fingerprint(One, "t")
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64
    assert first != definition_fingerprint(Two, "t")
    assert first != definition_fingerprint(One, "other-name")


def test_backoff_grows_is_capped_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert all(0.05 <= d <= 1.0 for d in delays)
    assert max(delays[-3:]) >= 0.5
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_error_classes() -> None:
    assert is_transient(errors.TransportError("down"))
    assert is_transient(errors.ServerError(503, {}))
    assert is_transient(errors.ServerError(429, {}))
    assert not is_transient(errors.ServerError(409, {"reason": "task_queue_mismatch"}))
    assert is_fatal(errors.Unauthorized())
    assert is_fatal(errors.ServerError(403, {"reason": "forbidden"}))
    assert not is_fatal(errors.ServerError(500, {}))
    assert reason_of(errors.ServerError(412, {"reason": "worker_not_registered"})) == (
        "worker_not_registered"
    )
    assert reason_of(errors.QueryFailed("x", reason="query_rejected")) == "query_rejected"
    assert reason_of(ValueError()) is None


def test_process_metrics_shape() -> None:
    metrics = process_metrics()
    assert {
        "process_uptime_seconds",
        "process_id",
        "process_started_at",
        "cpu_percent",
        "host",
    } <= set(metrics)
    assert metrics["process_uptime_seconds"] >= 0
