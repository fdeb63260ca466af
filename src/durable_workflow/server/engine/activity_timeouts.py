"""Activity deadline enforcement, run by the scheduler sweep (engine-semantics.md §6.3).

Rules as upstream: the first matching deadline wins in the order
schedule-to-close (always terminal), schedule-to-start, heartbeat,
start-to-close (retry while attempts remain). Heartbeats do not push the
heartbeat deadline forward, as in the upstream engine. A schedule-to-start
timeout of a never-claimed slot counts as a used attempt here, so a
one-attempt activity cannot re-queue forever.
"""

from __future__ import annotations

from typing import Any, Literal

from durable_workflow.server.engine.activities import (
    activity_snapshot,
    common_keys,
    new_activity_task,
)
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import (
    ActivityAttemptRow,
    ActivityExecutionRow,
    TaskRow,
    WorkflowRunRow,
)
from durable_workflow.server.store.timefmt import fmt_z, plus_seconds
from durable_workflow.server.store.tx import Tx, loads
from durable_workflow.server.store.ulid import new_ulid

TIMEOUT_EXCEPTION = "Workflow\\V2\\Exceptions\\ActivityTimeoutException"
_MESSAGES = {
    "schedule_to_close": "Activity schedule-to-close timeout exceeded.",
    "schedule_to_start": "Activity schedule-to-start timeout exceeded.",
    "heartbeat": "Activity heartbeat timeout exceeded.",
    "start_to_close": "Activity start-to-close timeout exceeded.",
}
DEADLINE_SQL = (
    "SELECT * FROM activity_executions WHERE status IN ('pending', 'running') AND ("
    " schedule_to_close_deadline_at <= :now"
    " OR (status = 'pending' AND schedule_deadline_at <= :now)"
    " OR (status = 'running' AND (heartbeat_deadline_at <= :now OR close_deadline_at <= :now)))"
    " LIMIT :limit"
)

_Deadline = Literal[
    "schedule_to_close_deadline_at",
    "schedule_deadline_at",
    "heartbeat_deadline_at",
    "close_deadline_at",
]


def _expired_kind(execution: ActivityExecutionRow, now: str) -> str | None:
    def passed(column: _Deadline) -> bool:
        value = execution[column]
        return value is not None and value <= now

    if passed("schedule_to_close_deadline_at"):
        return "schedule_to_close"
    if execution["status"] == "pending" and passed("schedule_deadline_at"):
        return "schedule_to_start"
    if execution["status"] == "running" and passed("heartbeat_deadline_at"):
        return "heartbeat"
    if execution["status"] == "running" and passed("close_deadline_at"):
        return "start_to_close"
    return None


def enforce(tx: Tx, limit: int = 100) -> int:
    """Time out every activity whose deadline has passed; returns how many."""
    rows = tx.all(DEADLINE_SQL, {"now": tx.stamp, "limit": limit}, row=ActivityExecutionRow)
    handled = 0
    for execution in rows:
        kind = _expired_kind(execution, tx.stamp)
        run = get_run(tx, execution["run_id"])
        if kind is None or run is None:
            continue
        handled += 1
        _time_out(tx, execution, run, kind)
    return handled


def _time_out(tx: Tx, execution: ActivityExecutionRow, run: WorkflowRunRow, kind: str) -> None:
    attempt = None
    if execution["current_attempt_id"]:
        attempt = tx.one(
            "SELECT * FROM activity_attempts WHERE id = ? AND status = 'running'",
            (execution["current_attempt_id"],),
            row=ActivityAttemptRow,
        )
    if attempt is not None:
        tx.update(
            "activity_attempts", "id", attempt["id"], {"status": "failed", "closed_at": tx.stamp}
        )
    task = None
    if execution["current_task_id"]:
        task = tx.one(
            "SELECT * FROM tasks WHERE id = ?", (execution["current_task_id"],), row=TaskRow
        )
        tx.run(
            "UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE id = ?"
            " AND status IN ('ready', 'leased')",
            (tx.stamp, execution["current_task_id"]),
        )
    policy = loads(execution["retry_policy"]) or {}
    used = int(execution["attempt_count"]) + (1 if execution["status"] == "pending" else 0)
    max_attempts = policy.get("max_attempts", 1) if policy else 1
    can_retry = max_attempts is None or used < int(max_attempts)
    open_run = not is_terminal(run["status"])
    attempt_id = None if attempt is None else attempt["id"]
    if kind != "schedule_to_close" and can_retry and open_run:
        _retry(tx, execution, run, kind, policy, used, task, attempt_id)
        return
    tx.update_row("activity_executions", execution, {"status": "failed", "closed_at": tx.stamp})
    if not open_run:
        return
    append_event(
        tx,
        run["run_id"],
        "ActivityTimedOut",
        {
            **common_keys(execution),
            "activity_attempt_id": attempt_id,
            "attempt_number": None if attempt is None else attempt["attempt_number"],
            "failure_id": new_ulid(),
            "failure_category": "timeout",
            "timeout_kind": kind,
            "message": _MESSAGES[kind],
            "exception_class": TIMEOUT_EXCEPTION,
            "schedule_deadline_at": execution["schedule_deadline_at"],
            "close_deadline_at": execution["close_deadline_at"],
            "schedule_to_close_deadline_at": execution["schedule_to_close_deadline_at"],
            "heartbeat_deadline_at": execution["heartbeat_deadline_at"],
            "activity": activity_snapshot(execution),
        },
        task=task,
    )
    create_workflow_task(tx, run, {})


def _retry(
    tx: Tx,
    execution: ActivityExecutionRow,
    run: WorkflowRunRow,
    kind: str,
    policy: dict[str, Any],
    used: int,
    task: TaskRow | None,
    attempt_id: str | None,
) -> None:
    backoff_list = policy.get("backoff_seconds") or []
    backoff = int(backoff_list[min(used - 1, len(backoff_list) - 1)]) if backoff_list else 0
    available = plus_seconds(tx.now, backoff)
    s2s = policy.get("schedule_to_start_timeout")
    changes = {
        "status": "pending",
        "attempt_count": used,
        "close_deadline_at": None,
        "heartbeat_deadline_at": None,
        "schedule_deadline_at": fmt_z(plus_seconds(available, s2s)) if s2s else None,
    }
    tx.update_row("activity_executions", execution, changes)
    retry_task = new_activity_task(tx, execution, run, fmt_z(available), used)
    append_event(
        tx,
        run["run_id"],
        "ActivityRetryScheduled",
        {
            **common_keys(execution),
            "activity_attempt_id": attempt_id,
            "retry_task_id": retry_task,
            "retry_of_task_id": None if task is None else task["id"],
            "retry_available_at": fmt_z(available),
            "retry_backoff_seconds": backoff,
            "retry_after_attempt_id": attempt_id,
            "retry_after_attempt": used,
            "max_attempts": policy.get("max_attempts", 1),
            "retry_policy": policy or None,
            "timeout_kind": kind,
            "message": _MESSAGES[kind],
        },
        task=task,
    )


def next_deadline(tx: Tx) -> str | None:
    """The earliest activity deadline still to enforce (stored timestamp), if any."""
    row = tx.one(
        "SELECT MIN(d) AS due FROM ("
        " SELECT schedule_to_close_deadline_at AS d FROM activity_executions"
        "  WHERE status IN ('pending', 'running')"
        " UNION ALL SELECT schedule_deadline_at FROM activity_executions WHERE status = 'pending'"
        " UNION ALL SELECT heartbeat_deadline_at FROM activity_executions WHERE status = 'running'"
        " UNION ALL SELECT close_deadline_at FROM activity_executions WHERE status = 'running')"
    )
    return None if row is None else row["due"]
