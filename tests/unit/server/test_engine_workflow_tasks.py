"""Workflow-task ownership guard, validation, fail, heartbeat, lease recovery, paging."""

from __future__ import annotations

from typing import Any

import pytest
from server_engine_helpers import FakeClock, start, worker

from durable_workflow.server.engine import run_views, timers, workers, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import EngineError, ValidationFailed
from durable_workflow.server.engine.payload_codec import encode_avro


def _leased(engine: Engine) -> dict[str, Any]:
    start(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine))
    assert task is not None
    return task


def _call(engine: Engine, task: dict[str, Any], **over: Any) -> tuple[int, dict[str, Any]]:
    body = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [{"type": "complete_workflow"}],
        **over,
    }
    return engine.tx(
        workflow_tasks.complete,
        engine.config,
        "default",
        over.pop("task_id", task["task_id"]),
        body,
    )


def test_unknown_task_is_404_task_not_found(engine: Engine) -> None:
    task = _leased(engine)
    status, body = engine.tx(
        workflow_tasks.complete,
        engine.config,
        "default",
        "nope",
        {
            "lease_owner": "w1",
            "workflow_task_attempt": 1,
            "commands": [{"type": "complete_workflow"}],
        },
    )
    assert (status, body["reason"]) == (404, "task_not_found")
    assert body["outcome"] == "completed" and body["recorded"] is False
    assert task["task_id"] != "nope"


def test_wrong_owner_and_wrong_attempt_are_409(engine: Engine) -> None:
    task = _leased(engine)
    status, body = _call(engine, task, lease_owner="intruder")
    assert (status, body["reason"], body["lease_owner"]) == (409, "lease_owner_mismatch", "w1")
    status, body = _call(engine, task, workflow_task_attempt=2)
    assert (status, body["reason"], body["current_attempt"]) == (
        409,
        "workflow_task_attempt_mismatch",
        1,
    )


def test_completed_task_is_not_leased_and_closed_run_reports_run_closed(engine: Engine) -> None:
    task = _leased(engine)
    assert _call(engine, task)[0] == 200
    status, body = _call(engine, task)
    assert (status, body["reason"]) == (409, "run_closed")
    assert body["stop_reason"] == "run_completed" and body["can_continue"] is False


def test_task_not_leased_when_run_is_open(engine: Engine) -> None:
    task = _leased(engine)
    status, _ = engine.tx(
        workflow_tasks.fail,
        "default",
        task["task_id"],
        {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "boom"}},
    )
    assert status == 200
    status, body = _call(engine, task)
    assert (status, body["reason"]) == (409, "task_not_leased")


def test_expired_lease_is_reported_and_recovered_with_repair_event(
    engine: Engine, clock: FakeClock
) -> None:
    task = _leased(engine)
    clock.advance(301)
    status, body = _call(engine, task, lease_owner="someone-else")
    assert (status, body["reason"], body["task_status"]) == (409, "lease_expired", "leased")
    again = engine.tx(
        workflow_tasks.claim,
        engine.config,
        engine.tx(workers.poll_worker, "default", "w1", "q", None),
    )
    assert again is not None
    assert again["task_id"] == task["task_id"] and again["workflow_task_attempt"] == 2
    assert again["history_events"][-1]["event_type"] == "RepairRequested"


def test_unsupported_and_misplaced_fields_give_documented_messages(engine: Engine) -> None:
    task = _leased(engine)
    with pytest.raises(ValidationFailed) as caught:
        _call(
            engine,
            task,
            commands=[{"type": "schedule_activity", "activity_type": "a", "delay_seconds": 5}],
        )
    assert caught.value.errors == {
        "commands.0.delay_seconds": ["delay_seconds is only supported for start_timer commands."]
    }
    with pytest.raises(ValidationFailed) as caught:
        _call(engine, task, commands=[{"type": "teleport", "workflow_type": "c"}])
    assert caught.value.errors["commands.0.type"] == [
        "Workflow task command type [teleport] is not supported by the server yet."
    ]
    with pytest.raises(ValidationFailed) as caught:
        _call(engine, task, commands=[])
    assert "commands" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        _call(engine, task, commands=[{"type": "start_timer", "delay_seconds": -1}])
    assert "commands.0.delay_seconds" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        _call(
            engine,
            task,
            commands=[
                {"type": "record_side_effect", "result": {"codec": "avro", "blob": "AAhudWxsAg=="}}
            ],
        )
    assert caught.value.errors["commands.0.result"] == [
        "Record side effect commands require a string result."
    ]
    with pytest.raises(ValidationFailed) as caught:
        _call(
            engine,
            task,
            commands=[
                {
                    "type": "schedule_activity",
                    "activity_type": "a",
                    "heartbeat_timeout": 10,
                    "start_to_close_timeout": 5,
                }
            ],
        )
    assert "commands.0.heartbeat_timeout" in caught.value.errors


def test_engine_level_rejections_are_409_invalid_commands(engine: Engine) -> None:
    task = _leased(engine)
    status, body = _call(
        engine,
        task,
        commands=[{"type": "complete_workflow"}, {"type": "fail_workflow", "message": "x"}],
    )
    assert (status, body["reason"], body["recorded"]) == (409, "invalid_commands", False)
    status, body = _call(
        engine,
        task,
        commands=[
            {
                "type": "record_version_marker",
                "change_id": "c",
                "version": 5,
                "min_supported": 1,
                "max_supported": 2,
            }
        ],
    )
    assert (status, body["reason"]) == (409, "invalid_commands")
    status, body = _call(
        engine, task, commands=[{"type": "upsert_search_attributes", "attributes": {"bad key!": 1}}]
    )
    assert (status, body["reason"]) == (409, "invalid_commands")


def test_fail_workflow_records_failure_and_non_retryable(engine: Engine) -> None:
    task = _leased(engine)
    status, body = _call(
        engine,
        task,
        commands=[
            {
                "type": "fail_workflow",
                "message": "nope",
                "exception_type": "ValueError",
                "non_retryable": True,
            }
        ],
    )
    assert status == 200 and body["run_status"] == "failed"
    event = engine.tx(run_views.history_page, engine.config, "default", "wf-1", task["run_id"])[
        "events"
    ][-1]
    assert event["event_type"] == "WorkflowFailed"
    assert event["payload"]["exception_class"] == "RuntimeException"
    assert event["payload"]["exception_type"] == "ValueError"
    assert event["payload"]["non_retryable"] is True


def test_continue_as_new_starts_the_next_run_with_new_arguments(engine: Engine) -> None:
    task = _leased(engine)
    blob = encode_avro(["next"])
    status, body = _call(engine, task, commands=[{"type": "continue_as_new", "arguments": blob}])
    assert status == 200 and body["run_status"] == "completed"
    runs = engine.tx(run_views.list_runs, "default", "wf-1")
    assert runs["run_count"] == 2
    old = engine.tx(run_views.describe_run, "default", "wf-1", task["run_id"])
    assert old["closed_reason"] == "continued"
    current = engine.tx(run_views.describe_workflow, "default", "wf-1")
    assert current["run_number"] == 2 and current["input"] == ["next"]
    nxt = engine.tx(
        workflow_tasks.claim,
        engine.config,
        engine.tx(workers.poll_worker, "default", "w1", "q", None),
    )
    assert nxt is not None and nxt["task_id"] == body["created_task_ids"][0]
    assert [e["event_type"] for e in nxt["history_events"]] == ["WorkflowStarted"]
    last_old = engine.tx(run_views.history_page, engine.config, "default", "wf-1", task["run_id"])[
        "events"
    ][-1]
    assert last_old["event_type"] == "WorkflowContinuedAsNew"
    assert last_old["payload"]["sequence"] == 3


def test_fail_marks_task_failed_without_history(engine: Engine) -> None:
    task = _leased(engine)
    before = len(
        engine.tx(run_views.history_page, engine.config, "default", "wf-1", task["run_id"])[
            "events"
        ]
    )
    status, body = engine.tx(
        workflow_tasks.fail,
        "default",
        task["task_id"],
        {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "replay"}},
    )
    assert status == 200 and body == {
        "task_id": task["task_id"],
        "workflow_task_attempt": 1,
        "outcome": "failed",
        "recorded": True,
        "reason": None,
        "next_task_id": None,
        "run_status": "pending",
    }
    assert (
        len(
            engine.tx(run_views.history_page, engine.config, "default", "wf-1", task["run_id"])[
                "events"
            ]
        )
        == before
    )


def test_heartbeat_extends_the_lease(engine: Engine, clock: FakeClock) -> None:
    task = _leased(engine)
    clock.advance(200)
    status, body = engine.tx(
        workflow_tasks.heartbeat,
        engine.config,
        "default",
        task["task_id"],
        {"lease_owner": "w1", "workflow_task_attempt": 1},
    )
    assert status == 200 and body["renewed"] is True
    clock.advance(200)
    assert _call(engine, task)[0] == 200


def test_history_pages_use_base64_sequence_tokens(engine: Engine) -> None:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w, 1)
    assert task is not None
    assert len(task["history_events"]) == 1
    assert task["next_history_page_token"] == "MQ=="
    status, page = engine.tx(
        workflow_tasks.history,
        engine.config,
        "default",
        task["task_id"],
        {"lease_owner": "w1", "workflow_task_attempt": 1, "next_history_page_token": "MQ=="},
    )
    assert status == 200
    assert [e["sequence"] for e in page["history_events"]] == [2]
    assert page["next_history_page_token"] is None and page["total_history_events"] == 2
    status, bad = engine.tx(
        workflow_tasks.history,
        engine.config,
        "default",
        task["task_id"],
        {"lease_owner": "w1", "workflow_task_attempt": 1, "next_history_page_token": "!!"},
    )
    assert (status, bad["reason"]) == (400, "invalid_page_token")


def test_poll_prechecks(engine: Engine) -> None:
    worker(engine)
    with pytest.raises(EngineError) as caught:
        engine.tx(workers.poll_worker, "default", "ghost", "q", None)
    assert (caught.value.status, caught.value.body["reason"]) == (412, "worker_not_registered")
    with pytest.raises(EngineError) as caught:
        engine.tx(workers.poll_worker, "default", "w1", "other", None)
    assert caught.value.body["reason"] == "task_queue_mismatch"


def test_register_refuses_changed_fingerprint(engine: Engine) -> None:
    worker(engine, workflow_definition_fingerprints={"greeting": "sha256:a"})
    with pytest.raises(EngineError) as caught:
        worker(engine, workflow_definition_fingerprints={"greeting": "sha256:b"})
    assert (caught.value.status, caught.value.body["reason"]) == (
        409,
        "workflow_definition_changed",
    )
    with pytest.raises(EngineError) as caught:
        engine.tx(workers.heartbeat, "default", {"worker_id": "ghost"})
    assert caught.value.status == 404


def test_supported_types_filter_claims(engine: Engine) -> None:
    start(engine)
    w = worker(engine, supported_workflow_types=["other"])
    assert engine.tx(workflow_tasks.claim, engine.config, w) is None


def test_complete_applies_timer_and_scheduler_fires_it(engine: Engine, clock: FakeClock) -> None:
    task = _leased(engine)
    status, _ = _call(engine, task, commands=[{"type": "start_timer", "delay_seconds": 10}])
    assert status == 200
    assert engine.tx(timers.run_due_work) == 0
    due = engine.tx(timers.next_due_at)
    assert due is not None and (due - clock.now).total_seconds() == 10
    clock.advance(10)
    assert engine.tx(timers.run_due_work) == 1
    nxt = engine.tx(
        workflow_tasks.claim,
        engine.config,
        engine.tx(workers.poll_worker, "default", "w1", "q", None),
    )
    assert nxt is not None
    assert nxt["workflow_wait_kind"] == "timer" and nxt["workflow_event_type"] == "TimerFired"
    fired = nxt["history_events"][-1]
    assert fired["event_type"] == "TimerFired" and fired["payload"]["sequence"] == 3
    assert fired["payload"]["delay_seconds"] == 10
