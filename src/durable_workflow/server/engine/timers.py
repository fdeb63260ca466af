"""Timers and the due-work sweep the scheduler loop drives.

Timer tasks (``task_type = 'timer'``) become due at ``fire_at``; leases of
every task type expire at ``lease_expires_at``. :func:`next_due_at` gives the
earliest such moment so the scheduler sleeps exactly until then
(engine-semantics.md §7, §18).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from durable_workflow.server.engine import activity_timeouts, run_deadlines, schedules
from durable_workflow.server.engine.activity_outcomes import expire_lease
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.store.leases import release_task
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import ConditionWaitRow, TaskRow, TimerRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import fmt_z, parse, plus_seconds
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, drop_nulls, dumps, loads
from durable_workflow.server.store.ulid import new_ulid


def schedule_timer(
    tx: Tx,
    wf_task: TaskRow,
    run: WorkflowRunRow,
    delay: int,
    step: int,
    *,
    condition: ConditionWaitRow | None = None,
) -> str:
    """Record TimerScheduled and create the timer task due at ``fire_at``.

    ``condition`` (a condition_waits row) makes it that wait's timeout timer.
    """
    timer_id = new_ulid()
    fire_at = fmt_z(plus_seconds(tx.now, delay))
    tx.insert(
        "timers",
        {
            "id": timer_id,
            "run_id": run["run_id"],
            "sequence": step,
            "delay_seconds": delay,
            "fire_at": fire_at,
            "status": "pending",
            "created_at": tx.stamp,
            "timer_kind": None if condition is None else "condition_timeout",
            "condition_wait_id": None if condition is None else condition["id"],
        },
    )
    payload: dict[str, Any] = {
        "timer_id": timer_id,
        "sequence": step,
        "delay_seconds": delay,
        "fire_at": fire_at,
    }
    if condition is not None:
        payload.update(condition_fields(condition, "condition_timeout"))
    append_event(tx, run["run_id"], "TimerScheduled", payload, task=wf_task)
    task_id = new_ulid()
    tx.insert(
        "tasks",
        {
            "id": task_id,
            "namespace": run["namespace"],
            "run_id": run["run_id"],
            "task_type": "timer",
            "status": "ready",
            "queue": run["task_queue"],
            "compatibility": run["compatibility"],
            "available_at": fire_at,
            "attempt_count": 0,
            "repair_count": 0,
            "payload": dumps({"timer_id": timer_id}),
            "created_at": tx.stamp,
            "updated_at": tx.stamp,
        },
    )
    tx.wakes.add(SCHEDULER_KEY)
    return task_id


def _fire(tx: Tx, task: TaskRow) -> None:
    tx.update("tasks", "id", task["id"], {"status": "completed", "updated_at": tx.stamp})
    timer = tx.one(
        "SELECT * FROM timers WHERE id = ?", (loads(task["payload"])["timer_id"],), row=TimerRow
    )
    run = get_run(tx, task["run_id"])
    if timer is None or run is None or timer["status"] != "pending":
        return
    tx.update("timers", "id", timer["id"], {"status": "fired", "fired_at": tx.stamp})
    if is_terminal(run["status"]):
        return  # a timer outliving its run fires silently; no events after the close
    condition = None
    if timer["condition_wait_id"]:
        condition = tx.one(
            "SELECT * FROM condition_waits WHERE id = ?",
            (timer["condition_wait_id"],),
            row=ConditionWaitRow,
        )
        if condition is not None:
            tx.update("condition_waits", "id", condition["id"], {"status": "timed_out"})
    payload: dict[str, Any] = {
        "timer_id": timer["id"],
        "sequence": timer["sequence"],
        "delay_seconds": timer["delay_seconds"],
        "fire_at": timer["fire_at"],
        "fired_at": tx.stamp,
    }
    if condition is not None:
        payload.update(condition_fields(condition, "condition_timeout"))
    append_event(tx, run["run_id"], "TimerFired", payload, task=task)
    context: dict[str, Any] = {
        "workflow_wait_kind": "timer" if condition is None else "condition",
        "resume_source_kind": "timer",
        "resume_source_id": timer["id"],
        "timer_id": timer["id"],
        "workflow_sequence": timer["sequence"],
        "workflow_event_type": "TimerFired",
    }
    if condition is not None:
        context.update(
            condition_wait_id=condition["id"],
            condition_key=condition["condition_key"],
            condition_definition_fingerprint=condition["condition_definition_fingerprint"],
        )
    create_workflow_task(tx, run, context)


def condition_fields(condition: ConditionWaitRow, timer_kind: str | None) -> dict[str, Any]:
    """The condition-wait keys a timer event carries (nulls removed)."""
    return drop_nulls(
        {
            "timer_kind": timer_kind,
            "condition_wait_id": condition["id"],
            "condition_key": condition["condition_key"],
            "condition_definition_fingerprint": condition["condition_definition_fingerprint"],
            "condition_wait_occurrence_id": condition.get("occurrence_id"),
        }
    )


def run_due_work(tx: Tx, limit: int = 100) -> int:
    """Fire due timers and reset expired leases; returns how many items were handled."""
    due_timers = tx.all(
        "SELECT * FROM tasks WHERE status = 'ready' AND task_type = 'timer' AND available_at <= ?"
        " ORDER BY available_at LIMIT ?",
        (tx.stamp, limit),
        row=TaskRow,
    )
    for task in due_timers:
        _fire(tx, task)
    expired = tx.all(
        "SELECT * FROM tasks WHERE status = 'leased' AND lease_expires_at <= ?"
        " ORDER BY lease_expires_at LIMIT ?",
        (tx.stamp, limit),
        row=TaskRow,
    )
    for task in expired:
        if task["task_type"] == "activity":
            expire_lease(tx, task)
        else:
            release_task(tx, task)
    handled = len(due_timers) + len(expired) + activity_timeouts.enforce(tx, limit)
    return handled + run_deadlines.enforce(tx, limit) + schedules.fire_due(tx, limit)


def next_due_at(tx: Tx) -> datetime | None:
    """The earliest future moment the sweep has work (timer fire or lease expiry)."""
    timer = tx.one(
        "SELECT MIN(available_at) AS due FROM tasks WHERE status = 'ready' AND task_type = 'timer'"
    )
    lease = tx.one("SELECT MIN(lease_expires_at) AS due FROM tasks WHERE status = 'leased'")
    candidates = [r["due"] for r in (timer, lease) if r is not None and r["due"] is not None]
    for deadline in (
        activity_timeouts.next_deadline(tx),
        run_deadlines.next_deadline(tx),
        schedules.next_due(tx),
    ):
        if deadline is not None:
            candidates.append(deadline)
    return parse(min(candidates)) if candidates else None


def next_available_at(tx: Tx, namespace: str, queue: str, task_type: str) -> datetime | None:
    """Earliest future ``available_at`` of a ready task on a queue (long-poll re-probe)."""
    row = tx.one(
        "SELECT MIN(available_at) AS due FROM tasks WHERE namespace = ? AND queue = ?"
        " AND task_type = ? AND status = 'ready' AND available_at > ?",
        (namespace, queue, task_type, tx.stamp),
    )
    return None if row is None or row["due"] is None else parse(row["due"])
