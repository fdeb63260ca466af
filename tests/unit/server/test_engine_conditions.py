"""Condition waits: open (with timeout timer), satisfied by a signal task, timed out."""

from __future__ import annotations

from typing import Any

from server_engine_helpers import FakeClock, complete, start, worker

from durable_workflow.server.engine import run_views, signals, timers, workflow_tasks
from durable_workflow.server.engine.engine import Engine


def _events(engine: Engine) -> list[dict[str, Any]]:
    run_id = engine.tx(run_views.describe_workflow, "default", "wf-1")["run_id"]
    return engine.tx(
        run_views.history_page, engine.config, "default", "wf-1", run_id, page_size=1000
    )["events"]


def _open(engine: Engine, timeout: int) -> dict[str, Any]:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    status, body = complete(
        engine,
        task,
        {"type": "open_condition_wait", "condition_key": "ready",
         "condition_definition_fingerprint": "sha256:abc", "timeout_seconds": timeout},
    )  # fmt: skip
    assert status == 200, body
    assert len(body["created_task_ids"]) == 1  # the timeout timer
    return w


def test_open_records_wait_and_condition_timer(engine: Engine) -> None:
    _open(engine, 30)
    opened, scheduled = _events(engine)[-2:]
    assert opened["event_type"] == "ConditionWaitOpened"
    wait_id = opened["payload"]["condition_wait_id"]
    assert wait_id == wait_id.upper() and opened["payload"]["sequence"] == 3
    assert scheduled["event_type"] == "TimerScheduled"
    assert scheduled["payload"]["timer_kind"] == "condition_timeout"
    assert scheduled["payload"]["condition_wait_id"] == wait_id


def test_signal_task_without_reopen_satisfies_and_cancels_timer(
    engine: Engine, clock: FakeClock
) -> None:
    w = _open(engine, 30)
    engine.tx(signals.signal, "default", "wf-1", "go", {"input": [1]})
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None and task["resume_source_kind"] == "workflow_signal"
    status, _ = complete(engine, task, {"type": "complete_workflow"})
    assert status == 200
    kinds = [e["event_type"] for e in _events(engine)][-4:]
    assert kinds == [
        "SignalReceived",
        "ConditionWaitSatisfied",
        "TimerCancelled",
        "WorkflowCompleted",
    ]
    clock.advance(31)
    assert engine.tx(timers.run_due_work) == 0  # the cancelled timeout never fires


def test_timeout_fires_a_condition_timer(engine: Engine, clock: FakeClock) -> None:
    w = _open(engine, 5)
    clock.advance(5)
    assert engine.tx(timers.run_due_work) == 1
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    assert task["workflow_wait_kind"] == "condition" and task["condition_key"] == "ready"
    fired = task["history_events"][-1]["payload"]
    assert fired["timer_kind"] == "condition_timeout" and fired["condition_wait_id"]


def test_open_condition_wait_is_accepted_but_not_advertised() -> None:
    from durable_workflow.server.engine.commands import SUPPORTED_COMMANDS

    assert "open_condition_wait" not in SUPPORTED_COMMANDS
