"""Activity tasks: retry with backoff, non-retryable failures, ownership, heartbeats."""

from __future__ import annotations

from typing import Any

import pytest
from server_engine_helpers import FakeClock, complete, owner, start, worker

from durable_workflow.server.engine import (
    activities,
    activity_heartbeats,
    activity_outcomes,
    run_views,
    timers,
    workflow_tasks,
)
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import EngineError, ValidationFailed


def _schedule(engine: Engine, **command: Any) -> dict[str, Any]:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    status, body = complete(
        engine, task, {"type": "schedule_activity", "activity_type": "charge", **command}
    )
    assert status == 200, body
    return w


def _fail(engine: Engine, act: dict[str, Any], **failure: Any) -> tuple[int, dict[str, Any]]:
    return engine.tx(
        activity_outcomes.fail,
        "default",
        act["task_id"],
        {**owner(act), "failure": {"message": "boom", **failure}},
    )


def _events(engine: Engine) -> list[dict[str, Any]]:
    run_id = engine.tx(run_views.describe_workflow, "default", "wf-1")["run_id"]
    return engine.tx(
        run_views.history_page, engine.config, "default", "wf-1", run_id, page_size=1000
    )["events"]


def test_retry_waits_for_backoff_then_fails_finally(engine: Engine, clock: FakeClock) -> None:
    w = _schedule(engine, retry_policy={"max_attempts": 3, "backoff_seconds": [5, 20]})
    first = engine.tx(activities.claim, engine.config, w)
    assert first is not None and first["retry_policy"]["max_attempts"] == 3
    status, body = _fail(engine, first, type="ValueError")
    assert status == 200 and body["outcome"] == "failed" and body["next_task_id"]
    assert engine.tx(activities.claim, engine.config, w) is None  # backoff not yet elapsed
    clock.advance(5)
    second = engine.tx(activities.claim, engine.config, w)
    assert second is not None
    assert second["task_id"] == body["next_task_id"] and second["attempt_number"] == 2
    assert second["activity_execution_id"] == first["activity_execution_id"]
    _fail(engine, second)
    clock.advance(18)  # claims look 1 s ahead (worker-protocol.md §11.1)
    assert engine.tx(activities.claim, engine.config, w) is None
    clock.advance(2)
    third = engine.tx(activities.claim, engine.config, w)
    assert third is not None and third["attempt_number"] == 3
    status, body = _fail(engine, third)
    assert status == 200 and body["next_task_id"]  # the resumed workflow task
    types = [e["event_type"] for e in _events(engine)]
    assert types[3:] == [
        "ActivityStarted",
        "ActivityRetryScheduled",
        "ActivityStarted",
        "ActivityRetryScheduled",
        "ActivityStarted",
        "ActivityFailed",
    ]
    retry = _events(engine)[4]["payload"]
    assert retry["retry_backoff_seconds"] == 5 and retry["retry_after_attempt"] == 1
    resumed = engine.tx(workflow_tasks.claim, engine.config, w)
    assert resumed is not None and resumed["workflow_event_type"] == "ActivityFailed"


def test_no_retry_policy_means_one_attempt(engine: Engine) -> None:
    w = _schedule(engine)
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    _fail(engine, act)
    assert _events(engine)[-1]["event_type"] == "ActivityFailed"


def test_non_retryable_flag_stops_retries_without_details(engine: Engine) -> None:
    w = _schedule(engine, retry_policy={"max_attempts": 5})
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    _fail(engine, act, non_retryable=True)
    failed = _events(engine)[-1]
    assert failed["event_type"] == "ActivityFailed"
    assert failed["payload"]["non_retryable"] is True


def test_non_retryable_error_types_stop_retries(engine: Engine) -> None:
    w = _schedule(
        engine, retry_policy={"max_attempts": 5, "non_retryable_error_types": ["KeyError"]}
    )
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    _fail(engine, act, type="KeyError")
    assert _events(engine)[-1]["event_type"] == "ActivityFailed"


def test_ownership_errors(engine: Engine) -> None:
    w = _schedule(engine)
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    result = {"result": {"codec": "avro", "blob": "AAhudWxsAg=="}}
    cases = [
        ("nope", owner(act), 404, "task_not_found"),
        (act["task_id"], {**owner(act), "activity_attempt_id": "NOPE"}, 404, "attempt_not_found"),
        (act["task_id"], {**owner(act), "lease_owner": "intruder"}, 409, "lease_owner_mismatch"),
    ]
    for task_id, ident, status, reason in cases:
        with pytest.raises(EngineError) as caught:
            engine.tx(activity_outcomes.complete, "default", task_id, {**ident, **result})
        assert (caught.value.status, caught.value.body["reason"]) == (status, reason)
    body = {**owner(act), **result}
    assert engine.tx(activity_outcomes.complete, "default", act["task_id"], body)[0] == 200
    status, body = engine.tx(
        activity_outcomes.complete, "default", act["task_id"], {**owner(act), **result}
    )
    assert (status, body["reason"]) == (409, "stale_attempt")


def test_plain_json_result_is_encoded_with_the_run_codec(engine: Engine) -> None:
    w = _schedule(engine)
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    engine.tx(activity_outcomes.complete, "default", act["task_id"], {**owner(act), "result": "hi"})
    event = _events(engine)[-1]
    assert (
        event["payload"]["result"] == "AAgiaGkiAg==" and event["payload"]["payload_codec"] == "avro"
    )


def test_heartbeat_records_progress_and_validates(engine: Engine) -> None:
    w = _schedule(engine, heartbeat_timeout=30, start_to_close_timeout=60)
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None and set(act["deadlines"]) == {"heartbeat", "start_to_close"}
    status, body = engine.tx(
        activity_heartbeats.heartbeat,
        engine.config,
        "default",
        act["task_id"],
        {**owner(act), "message": "half", "current": 1, "total": 2},
    )
    assert status == 200 and body["can_continue"] is True and body["cancel_requested"] is False
    event = _events(engine)[-1]
    assert event["event_type"] == "ActivityHeartbeatRecorded"
    assert event["payload"]["progress"] == {"message": "half", "current": 1, "total": 2}
    with pytest.raises(ValidationFailed):
        engine.tx(
            activity_heartbeats.heartbeat,
            engine.config,
            "default",
            act["task_id"],
            {**owner(act), "details": {}},
        )


def test_expired_activity_lease_is_redelivered_as_next_attempt(
    engine: Engine, clock: FakeClock
) -> None:
    w = _schedule(engine, retry_policy={"max_attempts": 2})
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    clock.advance(301)
    assert engine.tx(timers.run_due_work) == 1
    again = engine.tx(activities.claim, engine.config, w)
    assert again is not None
    assert again["task_id"] == act["task_id"] and again["attempt_number"] == 2
    status, body = engine.tx(activity_outcomes.complete, "default", act["task_id"], {**owner(act)})
    assert (status, body["reason"]) == (409, "stale_attempt")
