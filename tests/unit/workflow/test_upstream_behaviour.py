"""Replay, queries, payloads and the harness where upstream 0.4.53's own tests pin behaviour."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from durable_workflow import _avro, serializer, workflow
from durable_workflow.client import ScheduleSpec
from durable_workflow.errors import QueryFailed, WorkflowPayloadDecodeError
from durable_workflow.replay_verify import verify_replay
from durable_workflow.testing import WorkflowEnvironment
from durable_workflow.worker._query_history import with_export_signal_arguments
from durable_workflow.workflow import query_state, replay


@workflow.defn(name="upstream.counter")
class Counter:
    def __init__(self) -> None:
        self.count = 0

    @workflow.signal("add")
    def add(self, amount: int) -> None:
        self.count += amount

    @workflow.query("count")
    def current(self) -> int:
        return self.count

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.schedule_activity("wait", [])
        return self.count


def signal(amount: int) -> dict[str, Any]:
    return {
        "event_type": "SignalReceived",
        "payload": {"signal_name": "add", "value": serializer.envelope([amount], codec="json")},
    }


ACTIVITY_DONE = {"event_type": "ActivityCompleted", "payload": {"result": '"ok"'}}


def test_handler_marks_carry_upstreams_attribute_names() -> None:
    assert Counter.add.__signal_name__ == "add"  # type: ignore[attr-defined]
    assert Counter.current.__query_name__ == "count"  # type: ignore[attr-defined]


def test_a_query_sees_messages_recorded_after_the_last_step_reached() -> None:
    history = [signal(3), ACTIVITY_DONE, signal(4)]
    assert query_state(Counter, history, [], "count") == 7
    with pytest.raises(QueryFailed, match="unknown query 'nope'"):
        query_state(Counter, history, [], "nope")


def test_a_query_refuses_a_state_whose_code_failed_where_history_did_not() -> None:
    @workflow.defn(name="upstream.broken")
    class Broken:
        @workflow.query("status")
        def status(self) -> str:
            return "unreachable"

        def run(self, ctx: workflow.WorkflowContext) -> Any:
            raise RuntimeError("not ready")

    with pytest.raises(QueryFailed, match="workflow replay failed") as caught:
        query_state(Broken, [], [], "status")
    assert caught.value.reason == "query_workflow_state_unavailable"


def test_export_signal_arguments_fill_compact_signal_rows() -> None:
    rows = [{"event_type": "SignalReceived", "payload": {"signal_id": "s1", "signal_name": "add"}}]
    export = {"payloads": {"codec": "json"}, "signals": [{"id": "s1", "arguments": "[5]"}]}
    filled = with_export_signal_arguments(rows, export, "avro")
    assert filled[0]["payload"]["arguments"] == {"codec": "json", "blob": "[5]"}
    assert query_state(Counter, filled, [], "count") == 5
    assert with_export_signal_arguments(rows, None, "avro") is rows


def test_a_decode_failure_logs_one_structured_record(caplog: pytest.LogCaptureFixture) -> None:
    bad = {
        "event_type": "SignalReceived",
        "event_id": "e7",
        "payload": {"signal_name": "add", "value": "{x"},
    }
    with (
        caplog.at_level(logging.ERROR, logger="durable_workflow.workflow.replay"),
        pytest.raises(WorkflowPayloadDecodeError, match="signal 'add' payload decode failed"),
    ):
        replay(Counter, [bad], [], workflow_id="wf", run_id="r", payload_codec="json")
    (record,) = caplog.records
    facts = record.durable_workflow_payload_decode  # type: ignore[attr-defined]
    assert facts["signal_name"] == "add" and facts["workflow_id"] == "wf"
    assert facts["exception_type"] == "ValueError"


def test_avro_blobs_go_through_the_swappable_avro_module(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    original = _avro.decode_many

    def spy(blobs: list[str]) -> list[Any]:
        calls.append(list(blobs))
        return original(blobs)

    monkeypatch.setattr(_avro, "decode_many", spy)
    a, b = serializer.encode_many(["a", "b"], codec="avro")
    envelopes = [{"codec": "avro", "blob": a}, None, {"codec": "json", "blob": '"j"'}, b]
    assert serializer.decode_envelopes(envelopes, codec="avro") == ["a", None, "j", "b"]
    assert calls == [[a, b]]
    with pytest.raises(ValueError, match="look like JSON"):
        serializer.decode('{"x":1}', "avro")
    with pytest.raises(ValueError, match="Cannot decode payload with codec 'zstd'"):
        serializer.decode("x", "zstd")


def test_schedule_spec_reads_and_compares_as_upstreams_dict() -> None:
    spec = ScheduleSpec(cron_expressions=["0 * * * *"], timezone="UTC")
    assert spec == {"cron_expressions": ["0 * * * *"], "timezone": "UTC"}
    assert spec["timezone"] == "UTC" and spec.get("intervals") is None and "intervals" not in spec
    assert spec == ScheduleSpec(cron_expressions=["0 * * * *"], timezone="UTC")
    assert spec != ScheduleSpec(timezone="UTC")


def test_an_expectation_mismatch_reports_upstreams_error_shape() -> None:
    report = verify_replay(
        Counter,
        [ACTIVITY_DONE],
        start_input=[],
        expected={"command_type": "CompleteWorkflow", "result": 9},
    )
    assert report.status == "drifted" and report.error is not None
    assert report.error["class"] == "ExpectationMismatch"
    assert "does not match expected" in report.error["message"]


def test_harness_signals_land_first_and_continued_links_record_their_exit() -> None:
    @workflow.defn(name="upstream.hop")
    class Hop:
        def __init__(self) -> None:
            self.seen: list[str] = []

        @workflow.signal("note")
        def note(self, text: str) -> None:
            self.seen.append(text)

        def run(self, ctx: workflow.WorkflowContext, hops: int) -> Any:
            yield ctx.side_effect(lambda: "tick")
            if hops:
                return ctx.continue_as_new(hops - 1)
            return self.seen

    env = WorkflowEnvironment()
    env.signal("note", ["first"])
    assert env.execute_workflow(Hop, 1) == []  # the note went to link 1
    first = [e["event_type"] for e in env.runs[0].history]
    assert first[1] == "SignalReceived"
    assert first[-2:] == ["SideEffectRecorded", "WorkflowContinuedAsNew"]
    assert env.runs[0].history[-1]["payload"]["payload_codec"] == "avro"
