"""Run and execution deadlines, enforced (engine-semantics.md §4.3, the intended behaviour).

The snapshot only stores deadlines for external workflows; the dev server
does what the PHP executor does: when ``run_deadline_at`` or
``execution_deadline_at`` passes on an open run, open tasks, activities and
timers are cancelled, the run fails with ``closed_reason: timed_out`` and
``WorkflowTimedOut`` is recorded. Driven by the scheduler loop.
"""

from __future__ import annotations

from typing import Literal, cast

from durable_workflow.server.engine import children
from durable_workflow.server.engine.closing import cancel_activities, cancel_timers
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, queue_key
from durable_workflow.server.store.ulid import new_ulid

EXCEPTION_CLASS = "Workflow\\V2\\Exceptions\\WorkflowTimeoutException"
_Column = Literal["run_deadline_at", "execution_deadline_at"]
_KINDS: tuple[tuple[_Column, str], ...] = (
    ("run_deadline_at", "run_timeout"),
    ("execution_deadline_at", "execution_timeout"),
)


def deadline_message(run: WorkflowRunRow, kind: str, deadline: str) -> str:
    """The PHP executor's sentence, then the start option that set the deadline and its value."""
    label = "run" if kind == "run_timeout" else "execution"
    setting = f"{label}_timeout_seconds"
    value = run["run_timeout_seconds"] if label == "run" else run["execution_timeout_seconds"]
    fix = "or continue-as-new before it" if label == "run" else "or split the work into runs"
    return (
        f"Workflow {label} deadline expired at {deadline}. The {label} exceeded "
        f"{setting}={value}; pass a larger {setting} to start_workflow ({fix})."
    )


def _time_out(tx: Tx, run: WorkflowRunRow, kind: str, deadline: str) -> None:
    run_id = run["run_id"]
    for task in tx.all(
        "SELECT * FROM tasks WHERE run_id = ? AND status IN ('ready', 'leased')",
        (run_id,),
        row=TaskRow,
    ):
        tx.update("tasks", "id", task["id"], {"status": "cancelled", "updated_at": tx.stamp})
        tx.wakes.add(queue_key(run["namespace"], task["queue"]))
    cancel_activities(tx, run_id, None)
    cancel_timers(tx, run_id)
    message = deadline_message(run, kind, deadline)
    tx.update(
        "workflow_runs",
        "run_id",
        run_id,
        {"status": "failed", "closed_reason": "timed_out", "closed_at": tx.stamp,
         "last_progress_at": tx.stamp, "updated_at": tx.stamp},
    )  # fmt: skip
    append_event(
        tx,
        run_id,
        "WorkflowTimedOut",
        {  # the keys of history-events.md §3.1, as the PHP executor writes them
            "failure_id": new_ulid(),
            "timeout_kind": kind,
            "failure_category": "timeout",
            "message": message,
            "exception_class": EXCEPTION_CLASS,
            "execution_deadline_at": run["execution_deadline_at"],
            "run_deadline_at": run["run_deadline_at"],
        },
    )
    children.apply_parent_close_policy(tx, run, "timed_out")
    failure = {"message": message, "exception_class": EXCEPTION_CLASS, "non_retryable": False}
    children.notify_parent(tx, run, "failed", failure)


def enforce(tx: Tx, limit: int = 100) -> int:
    """Time out every open run whose run or execution deadline has passed."""
    handled = 0
    for column, kind in _KINDS:
        rows = tx.all(
            f"SELECT * FROM workflow_runs WHERE {column} IS NOT NULL AND closed_at IS NULL"
            f" AND {column} <= ? ORDER BY {column} LIMIT ?",
            (tx.stamp, limit),
            row=WorkflowRunRow,
        )
        for run in rows:
            fresh = tx.one("SELECT closed_at FROM workflow_runs WHERE run_id = ?", (run["run_id"],))
            if fresh is not None and fresh["closed_at"] is None:
                _time_out(tx, run, kind, cast(str, run[column]))  # selected IS NOT NULL
                handled += 1
    return handled


def next_deadline(tx: Tx) -> str | None:
    """The earliest pending deadline of an open run (the scheduler sleeps until it)."""
    found = []
    for column, _ in _KINDS:
        row = tx.one(
            f"SELECT MIN({column}) AS due FROM workflow_runs"
            f" WHERE {column} IS NOT NULL AND closed_at IS NULL"
        )
        if row is not None and row["due"] is not None:
            found.append(str(row["due"]))
    return min(found) if found else None
