"""Condition waits (worker-protocol.md §9.5.13, history-events.md §3.6).

``open_condition_wait`` records ``ConditionWaitOpened`` (a fresh upper-case
id per open) and, for a positive timeout, a ``condition_timeout`` timer. When
a completion answers a task created for a signal and opens no new wait, the
latest open wait is satisfied first: ``ConditionWaitSatisfied`` and its timer
cancelled (``TimerCancelled``).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.timers import condition_fields, schedule_timer
from durable_workflow.server.store.rows import ConditionWaitRow, TaskRow, TimerRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, drop_nulls, loads
from durable_workflow.server.store.ulid import new_ulid


def open_wait(
    tx: Tx, wf_task: TaskRow, run: WorkflowRunRow, command: dict[str, Any], step: int
) -> str | None:
    """Record the wait; returns the timeout timer's task id when one was scheduled."""
    timeout = command.get("timeout_seconds")
    wait: ConditionWaitRow = {
        "id": new_ulid(upper=True),
        "run_id": run["run_id"],
        "sequence": step,
        "condition_key": command.get("condition_key"),
        "condition_definition_fingerprint": command.get("condition_definition_fingerprint"),
        "timeout_seconds": timeout,
        "timer_id": None,
        "status": "open",
        "created_at": tx.stamp,
        "occurrence_id": command.get("condition_wait_occurrence_id"),
    }
    tx.insert("condition_waits", wait)
    append_event(
        tx,
        run["run_id"],
        "ConditionWaitOpened",
        drop_nulls(
            {
                "condition_wait_id": wait["id"],
                "sequence": step,
                "condition_key": wait["condition_key"],
                "condition_definition_fingerprint": wait["condition_definition_fingerprint"],
                "condition_wait_occurrence_id": wait["occurrence_id"],
                "timeout_seconds": timeout,
            }
        ),
        task=wf_task,
    )
    if not timeout or int(timeout) <= 0:
        return None
    timer_task = schedule_timer(tx, wf_task, run, int(timeout), step, condition=wait)
    timer = tx.one("SELECT id FROM timers WHERE condition_wait_id = ?", (wait["id"],))
    if timer is not None:
        tx.update("condition_waits", "id", wait["id"], {"timer_id": timer["id"]})
    return timer_task


def latest_open(tx: Tx, run_id: str) -> ConditionWaitRow | None:
    """The most recently opened wait of the run that is still open."""
    return tx.one(
        "SELECT * FROM condition_waits WHERE run_id = ? AND status = 'open'"
        " ORDER BY sequence DESC, created_at DESC LIMIT 1",
        (run_id,),
        row=ConditionWaitRow,
    )


def reopens(wait: ConditionWaitRow | None, command: dict[str, Any]) -> bool:
    """Whether ``command`` opens the same logical wait (key and fingerprint) as ``wait``."""
    return (
        wait is not None
        and command["type"] == "open_condition_wait"
        and command.get("condition_key") == wait["condition_key"]
        and command.get("condition_definition_fingerprint")
        == wait["condition_definition_fingerprint"]
    )


def satisfy_on_signal(
    tx: Tx, wf_task: TaskRow, run: WorkflowRunRow, commands: list[dict[str, Any]]
) -> None:
    """Satisfy the latest open wait when a signal task completes without re-opening one."""
    context = loads(wf_task["payload"]) or {}
    if context.get("resume_source_kind") != "workflow_signal":
        return
    if any(c["type"] == "open_condition_wait" for c in commands):
        return
    wait = latest_open(tx, run["run_id"])
    if wait is None:
        return
    tx.update("condition_waits", "id", wait["id"], {"status": "satisfied"})
    append_event(
        tx,
        run["run_id"],
        "ConditionWaitSatisfied",
        drop_nulls(
            {
                "condition_wait_id": wait["id"],
                "sequence": wait["sequence"],
                "condition_key": wait["condition_key"],
                "condition_definition_fingerprint": wait["condition_definition_fingerprint"],
                "condition_wait_occurrence_id": wait["occurrence_id"],
                "timer_id": wait["timer_id"],
                "timeout_seconds": wait["timeout_seconds"],
                "workflow_signal_id": context.get("workflow_signal_id"),
                "signal_name": context.get("signal_name"),
            }
        ),
        task=wf_task,
    )
    if wait["timer_id"] is None:
        return
    timer = tx.one(
        "SELECT * FROM timers WHERE id = ? AND status = 'pending'",
        (wait["timer_id"],),
        row=TimerRow,
    )
    if timer is None:
        return
    tx.update("timers", "id", timer["id"], {"status": "cancelled"})
    tx.run(
        "UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE run_id = ?"
        " AND task_type = 'timer' AND status = 'ready' AND payload LIKE ?",
        (tx.stamp, run["run_id"], f'%"{timer["id"]}"%'),
    )
    append_event(
        tx,
        run["run_id"],
        "TimerCancelled",
        {
            "timer_id": timer["id"],
            "sequence": timer["sequence"],
            "delay_seconds": timer["delay_seconds"],
            "fire_at": timer["fire_at"],
            **condition_fields(wait, timer["timer_kind"]),
            "cancelled_at": tx.stamp,
        },
        task=wf_task,
    )
