"""The plain task after an applied update leaves only the history the real server records.

Scenario of issue 14 item 8: a workflow waits on a condition (timeout 60), an update
is applied, then a signal satisfies the wait. The real server records, after the
wait opened: UpdateAccepted, UpdateApplied, UpdateCompleted, SignalReceived,
ConditionWaitSatisfied, TimerCancelled, WorkflowCompleted, whichever way the
dev server's extra follow-up task races with the signal.
"""

from __future__ import annotations

from typing import Any

from server_engine_helpers import complete, start, worker

from durable_workflow.server.engine import run_views, signals, updates, workflow_tasks
from durable_workflow.server.engine.engine import Engine

WAIT = {
    "type": "open_condition_wait",
    "condition_key": "finished",
    "condition_definition_fingerprint": "sha256:done",
    "timeout_seconds": 60,
}
REAL_SERVER_TAIL = [
    "ConditionWaitOpened",
    "TimerScheduled",
    "UpdateAccepted",
    "UpdateApplied",
    "UpdateCompleted",
    "SignalReceived",
    "ConditionWaitSatisfied",
    "TimerCancelled",
    "WorkflowCompleted",
]


def _event_types(engine: Engine) -> list[str]:
    run_id = engine.tx(run_views.describe_workflow, "default", "wf-1")["run_id"]
    page = engine.tx(
        run_views.history_page, engine.config, "default", "wf-1", run_id, page_size=1000
    )
    return [event["event_type"] for event in page["events"]]


def _claim(engine: Engine, w: dict[str, Any]) -> dict[str, Any]:
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    return task


def _waiting_after_update(engine: Engine) -> dict[str, Any]:
    """Wait opened, update applied; returns the poller with the follow-up task ready."""
    start(engine)
    w = worker(engine)
    assert complete(engine, _claim(engine, w), WAIT)[0] == 200
    status, _, update_id = engine.tx(
        updates.submit, engine.config, "default", "wf-1", "set", {"input": [5]}, None
    )
    assert status == 202 and update_id is not None
    update_task = _claim(engine, w)
    assert update_task["workflow_update_id"] == update_id
    done = complete(engine, update_task, {"type": "complete_update", "update_id": update_id})
    assert done[0] == 200, done
    return w


def test_reopen_of_the_same_wait_by_the_follow_up_is_not_recorded(engine: Engine) -> None:
    w = _waiting_after_update(engine)
    follow_up = _claim(engine, w)  # leased before the signal arrives
    assert follow_up["workflow_update_id"] is None
    assert engine.tx(signals.signal, "default", "wf-1", "finish", {})[0] == 202
    status, body = complete(engine, follow_up, WAIT)  # the worker has not seen the signal
    assert status == 200 and body["created_task_ids"] == []
    signal_task = _claim(engine, w)
    assert signal_task["resume_source_kind"] == "workflow_signal"
    assert complete(engine, signal_task, {"type": "complete_workflow"})[0] == 200
    assert _event_types(engine)[2:] == REAL_SERVER_TAIL


def test_signal_takes_over_a_follow_up_that_is_still_ready(engine: Engine) -> None:
    w = _waiting_after_update(engine)
    assert engine.tx(signals.signal, "default", "wf-1", "finish", {})[0] == 202
    task = _claim(engine, w)
    assert task["resume_source_kind"] == "workflow_signal" and task["signal_name"] == "finish"
    assert engine.tx(workflow_tasks.claim, engine.config, w) is None  # one task, not two
    assert complete(engine, task, {"type": "complete_workflow"})[0] == 200
    assert _event_types(engine)[2:] == REAL_SERVER_TAIL


def test_follow_up_that_opens_a_different_wait_is_recorded(engine: Engine) -> None:
    w = _waiting_after_update(engine)
    other = {**WAIT, "condition_key": "approved"}
    status, body = complete(engine, _claim(engine, w), other)
    assert status == 200 and len(body["created_task_ids"]) == 1  # its timeout timer
    assert _event_types(engine)[-2:] == ["ConditionWaitOpened", "TimerScheduled"]


def test_reopen_by_a_signal_task_is_still_recorded(engine: Engine) -> None:
    start(engine)
    w = worker(engine)
    assert complete(engine, _claim(engine, w), WAIT)[0] == 200
    engine.tx(signals.signal, "default", "wf-1", "poke", {})
    assert complete(engine, _claim(engine, w), WAIT)[0] == 200  # predicate still false
    assert _event_types(engine)[-3:] == ["SignalReceived", "ConditionWaitOpened", "TimerScheduled"]
