"""Lanes of the run timeline built from control-plane history events."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from durable_workflow.server.ui.timeline import build


def event(second: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {
        "sequence": second,
        "event_type": event_type,
        "timestamp": f"2026-01-01T00:00:{second:02d}.000000Z",
        "payload": payload,
    }


ACT = {"activity_execution_id": "a1", "activity_type": "charge", "sequence": 3}
HISTORY = [
    event(0, "WorkflowStarted"),
    event(1, "ActivityScheduled", **ACT),
    event(2, "ActivityStarted", attempt_number=1, **ACT),
    event(3, "ActivityRetryScheduled", message="card declined", **ACT),
    event(4, "ActivityStarted", attempt_number=2, **ACT),
    event(6, "ActivityCompleted", **ACT),
    event(6, "TimerScheduled", timer_id="t1", sequence=7, delay_seconds=3),
    event(7, "SignalReceived", signal_name="approve"),
    event(
        8,
        "ChildWorkflowScheduled",
        child_call_id="c1",
        child_workflow_type="ship",
        child_workflow_instance_id="ship-1",
    ),
    event(8, "ChildRunStarted", child_call_id="c1", child_run_number=1),
    event(9, "TimerFired", timer_id="t1"),
    event(10, "UpdateAccepted", update_id="u1", update_name="note"),
    event(10, "UpdateRejected", update_id="u1", update_name="note", message="unknown"),
]


def test_each_activity_timer_child_and_update_gets_a_lane_with_its_attempts() -> None:
    now = datetime(2026, 1, 1, 0, 0, 20, tzinfo=timezone.utc)
    line = build(HISTORY, now, run_open=True)
    lanes = {lane.kind: lane for lane in line.lanes}
    assert list(lanes) == ["activity", "timer", "child", "update", "signal"]
    charge = lanes["activity"]
    assert charge.label == "charge #3" and charge.status == "completed"
    assert [(s.label, s.status) for s in charge.segments] == [
        ("attempt 1: card declined", "retried"),
        ("attempt 2", "completed"),
    ]
    assert lanes["timer"].status == "fired" and lanes["timer"].label == "timer 3s #7"
    assert lanes["update"].status == "rejected"
    child = lanes["child"]
    assert child.status == "running" and child.end is None and child.label == "ship (ship-1)"
    # An open run's axis ends now: 20 s; the activity ran from 1 s to 6 s.
    assert line.span_seconds == 20
    assert (charge.left, charge.width) == (5.0, 25.0)
    assert child.left + child.width == 100.0  # still open: drawn to the end
    assert [s.label for s in lanes["signal"].segments] == ["approve"]


def test_a_closed_run_ends_at_its_last_event_and_an_empty_history_has_no_lanes() -> None:
    later = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert build(HISTORY, later, run_open=False).span_seconds == 10
    empty = build([], later, run_open=True)
    assert empty.lanes == [] and empty.start is None
