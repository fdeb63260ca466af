"""Cancel and terminate: immediate closes with the documented events and worker answers."""

from __future__ import annotations

import pytest
from server_engine_helpers import complete, owner, start, worker

from durable_workflow.server.engine import (
    activities,
    activity_heartbeats,
    activity_outcomes,
    closing,
    run_views,
    workflow_tasks,
)
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import EngineError


def _busy_run(engine: Engine) -> tuple[dict[str, object], dict[str, object]]:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    complete(
        engine,
        task,
        {"type": "schedule_activity", "activity_type": "a"},
        {"type": "start_timer", "delay_seconds": 60},
    )
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    return w, act


def test_cancel_closes_run_activities_and_timers(engine: Engine) -> None:
    _, act = _busy_run(engine)
    status, body = engine.tx(
        closing.close_run, "default", "wf-1", "cancel", {"reason": "user asked"}
    )
    assert status == 200
    assert body["outcome"] == "cancelled" and body["command_status"] == "accepted"
    assert body["reason"] == "user asked"
    run_id = str(body["resolved_run_id"])
    events = engine.tx(run_views.history_page, engine.config, "default", "wf-1", run_id)["events"]
    assert [e["event_type"] for e in events][-4:] == [
        "CancelRequested", "ActivityCancelled", "TimerCancelled", "WorkflowCancelled",
    ]  # fmt: skip
    assert events[-1]["payload"]["message"] == "Workflow cancelled: user asked"
    view = engine.tx(run_views.describe_workflow, "default", "wf-1")
    assert view["status"] == "cancelled" and view["closed_reason"] == "cancelled"

    status, beat = engine.tx(
        activity_heartbeats.heartbeat, engine.config, "default", str(act["task_id"]), owner(act)
    )
    assert status == 200
    assert (beat["can_continue"], beat["cancel_requested"], beat["reason"]) == (
        False, True, "run_cancelled",
    )  # fmt: skip
    status, late = engine.tx(activity_outcomes.complete, "default", str(act["task_id"]), owner(act))
    assert status == 409 and late["outcome"] == "ignored" and late["reason"] == "run_cancelled"
    assert late["cancel_requested"] is True


def test_terminate_then_second_close_is_rejected(engine: Engine) -> None:
    _busy_run(engine)
    status, body = engine.tx(closing.close_run, "default", "wf-1", "terminate", {})
    assert status == 200 and body["outcome"] == "terminated"
    events = engine.tx(
        run_views.history_page, engine.config, "default", "wf-1", str(body["resolved_run_id"])
    )["events"]
    assert events[-1]["event_type"] == "WorkflowTerminated"
    assert events[-1]["payload"]["message"] == "Workflow terminated."
    status, again = engine.tx(closing.close_run, "default", "wf-1", "cancel", {})
    assert status == 409
    assert (
        again["rejection_reason"] == "run_not_active" and again["outcome"] == "rejected_not_active"
    )


def test_workflow_task_of_a_cancelled_run_reports_run_closed(engine: Engine) -> None:
    start(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine))
    assert task is not None
    engine.tx(closing.close_run, "default", "wf-1", "cancel", {})
    status, body = complete(engine, task, {"type": "complete_workflow"})
    assert status == 409 and body["reason"] == "run_closed"
    assert body["stop_reason"] == "run_cancelled" and body["cancel_requested"] is True


def test_historical_run_and_unknown_workflow(engine: Engine) -> None:
    start(engine)
    with pytest.raises(EngineError) as caught:
        engine.tx(closing.close_run, "default", "wf-1", "cancel", {}, "old-run")
    assert caught.value.body["reason"] == "historical_run_command_rejected"
    with pytest.raises(EngineError) as caught:
        engine.tx(closing.close_run, "default", "ghost", "terminate", {})
    assert (caught.value.status, caught.value.body["reason"]) == (404, "instance_not_found")
