"""Activity executions and their tasks: schedule, claim, lease (worker-protocol.md §11).

An execution is created per ``schedule_activity``; each claim makes a new
attempt (upper-case ULID); a retry makes a new task on the same execution
(:mod:`durable_workflow.server.engine.activity_outcomes` decides when).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import (
    wire_envelope,
)
from durable_workflow.server.engine.runs import is_terminal
from durable_workflow.server.engine.workers import PollingWorker
from durable_workflow.server.store.candidates import ready_tasks
from durable_workflow.server.store.reads import get_execution, get_run
from durable_workflow.server.store.rows import (
    ActivityExecutionRow,
    NewWorkflowRun,
    TaskRow,
    WorkflowRunRow,
)
from durable_workflow.server.store.timefmt import fmt_offset, fmt_z, parse, plus_seconds
from durable_workflow.server.store.tx import Tx, drop_nulls, dumps, loads, queue_key
from durable_workflow.server.store.ulid import new_ulid

_TIMEOUT_KEYS = (
    "start_to_close_timeout",
    "schedule_to_start_timeout",
    "schedule_to_close_timeout",
    "heartbeat_timeout",
)


def new_activity_task(
    tx: Tx, execution: Mapping[str, Any], run: NewWorkflowRun, available_at: str, attempts: int
) -> str:
    task_id = new_ulid()
    tx.insert(
        "tasks",
        {
            "id": task_id,
            "namespace": run["namespace"],
            "run_id": run["run_id"],
            "task_type": "activity",
            "status": "ready",
            "queue": execution["queue"],
            "compatibility": run["compatibility"],
            "available_at": available_at,
            "attempt_count": attempts,
            "repair_count": 0,
            "payload": dumps({"activity_execution_id": execution["id"]}),
            "created_at": tx.stamp,
            "updated_at": tx.stamp,
        },
    )
    tx.run(
        "UPDATE activity_executions SET current_task_id = ? WHERE id = ?",
        (task_id, execution["id"]),
    )
    tx.wakes.add(queue_key(run["namespace"], execution["queue"]))
    return task_id


def activity_snapshot(execution: Mapping[str, Any]) -> dict[str, Any]:
    return drop_nulls(
        {
            "id": execution["id"],
            "idempotency_key": execution["id"],
            "sequence": execution["sequence"],
            "type": execution["activity_type"],
            "class": execution["activity_type"],
            "attempt_id": execution.get("current_attempt_id"),
            "status": execution["status"],
            "attempt_count": execution["attempt_count"],
            "retry_policy": loads(execution["retry_policy"]),
            "queue": execution["queue"],
            "last_heartbeat_at": execution.get("last_heartbeat_at"),
            "created_at": execution["created_at"],
            "started_at": execution.get("started_at"),
            "closed_at": execution.get("closed_at"),
            "arguments": execution["arguments"],
            "result": execution.get("result"),
        }
    )


def common_keys(execution: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "activity_execution_id": execution["id"],
        "activity_class": execution["activity_type"],
        "activity_type": execution["activity_type"],
        "sequence": execution["sequence"],
    }


def schedule_activity(
    tx: Tx, wf_task: TaskRow, run: WorkflowRunRow, command: dict[str, Any], step: int
) -> str:
    """Create the execution, record ActivityScheduled, and make a ready task."""
    policy = command.get("retry_policy")
    timeouts = {k: command.get(k) for k in _TIMEOUT_KEYS}
    snapshot = None
    if policy is not None or any(v is not None for v in timeouts.values()):
        policy = policy or {}
        snapshot = {
            "snapshot_version": 1,
            "max_attempts": policy.get("max_attempts", 1),
            "backoff_seconds": policy.get("backoff_seconds", []),
            **timeouts,
            "non_retryable_error_types": policy.get("non_retryable_error_types", []),
        }
    s2s, s2c = timeouts["schedule_to_start_timeout"], timeouts["schedule_to_close_timeout"]
    execution = {
        "id": new_ulid(),
        "namespace": run["namespace"],
        "run_id": run["run_id"],
        "sequence": step,
        "activity_type": command["activity_type"],
        "queue": command.get("queue") or run["task_queue"],
        "status": "pending",
        "arguments": command.get("arguments"),
        "retry_policy": None if snapshot is None else dumps(snapshot),
        "attempt_count": 0,
        "schedule_deadline_at": fmt_z(plus_seconds(tx.now, s2s)) if s2s else None,
        "schedule_to_close_deadline_at": fmt_z(plus_seconds(tx.now, s2c)) if s2c else None,
        "created_at": tx.stamp,
    }
    tx.insert("activity_executions", execution)
    append_event(
        tx,
        run["run_id"],
        "ActivityScheduled",
        {**common_keys(execution), "activity": activity_snapshot(execution)},
        task=wf_task,
    )
    return new_activity_task(tx, execution, run, tx.stamp, 0)


def claim(tx: Tx, cfg: ServerConfig, worker: PollingWorker) -> dict[str, Any] | None:
    """Lease the first claimable activity task of the worker's queue, or None."""
    horizon = fmt_z(tx.now + timedelta(seconds=1))
    for task in ready_tasks(tx, worker["namespace"], worker["task_queue"], "activity", horizon):
        leased = _lease_if_claimable(tx, cfg, worker, task)
        if leased is not None:
            return leased
    return None


def lease_eagerly(
    tx: Tx, cfg: ServerConfig, worker: PollingWorker, task_ids: list[str], limit: int
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` of ``task_ids`` (just created) that ``worker`` could poll.

    The ``eager_activity_dispatch`` extension: the completing worker receives these
    in the completion response instead of polling for them. Each is leased exactly as
    a poll would lease it, so lease expiry, timeouts and retries are unchanged.
    """
    leased: list[dict[str, Any]] = []
    for task_id in task_ids:
        if len(leased) >= limit:
            break
        task = tx.one("SELECT * FROM tasks WHERE id = ?", (task_id,), row=TaskRow)
        if (
            task is None
            or task["task_type"] != "activity"
            or task["status"] != "ready"
            or task["queue"] != worker["task_queue"]
            or task["available_at"] > tx.stamp
        ):
            continue
        one = _lease_if_claimable(tx, cfg, worker, task)
        if one is not None:
            leased.append(one)
    return leased


def _lease_if_claimable(
    tx: Tx, cfg: ServerConfig, worker: PollingWorker, task: TaskRow
) -> dict[str, Any] | None:
    if (task["compatibility"] or None) != (worker["build_id"] or None):
        return None
    execution_id = loads(task["payload"])["activity_execution_id"]
    execution = get_execution(tx, execution_id)
    run = get_run(tx, task["run_id"])
    if execution is None or run is None:
        return None
    types = worker["supported_activity_types"]
    if types and execution["activity_type"] not in types:
        return None
    return _lease(tx, cfg, worker, task, execution, run)


def _lease(
    tx: Tx,
    cfg: ServerConfig,
    worker: PollingWorker,
    task: TaskRow,
    execution: ActivityExecutionRow,
    run: WorkflowRunRow,
) -> dict[str, Any]:
    expires = fmt_z(tx.now + timedelta(seconds=cfg.activity_lease_seconds))
    attempt_number = task["attempt_count"] + 1
    attempt_id = new_ulid(upper=True)
    task_changes = {
        "status": "leased",
        "lease_owner": worker["worker_id"],
        "leased_at": tx.stamp,
        "lease_expires_at": expires,
        "attempt_count": attempt_number,
        "updated_at": tx.stamp,
    }
    tx.update_row("tasks", task, task_changes)
    tx.insert(
        "activity_attempts",
        {
            "id": attempt_id,
            "execution_id": execution["id"],
            "task_id": task["id"],
            "attempt_number": attempt_number,
            "status": "running",
            "lease_owner": worker["worker_id"],
            "lease_expires_at": expires,
            "started_at": tx.stamp,
        },
    )
    policy = loads(execution["retry_policy"]) or {}
    s2c = policy.get("start_to_close_timeout")
    hb = policy.get("heartbeat_timeout")
    exec_changes: dict[str, Any] = {
        "status": "running",
        "attempt_count": attempt_number,
        "current_attempt_id": attempt_id,
        "current_task_id": task["id"],
        "started_at": tx.stamp,
        "close_deadline_at": fmt_z(plus_seconds(tx.now, s2c)) if s2c else None,
        "heartbeat_deadline_at": fmt_z(plus_seconds(tx.now, hb)) if hb else None,
        "last_heartbeat_at": None,
    }
    tx.update_row("activity_executions", execution, exec_changes)
    for due in (expires, exec_changes["close_deadline_at"], exec_changes["heartbeat_deadline_at"]):
        if due is not None:
            tx.wake_scheduler(due)
    if not is_terminal(run["status"]):
        append_event(
            tx,
            run["run_id"],
            "ActivityStarted",
            {
                **common_keys(execution),
                "activity_attempt_id": attempt_id,
                "attempt_number": attempt_number,
                "activity": activity_snapshot(execution),
            },
            task=task,
        )
    deadlines = drop_nulls(
        {
            "schedule_to_start": execution["schedule_deadline_at"],
            "start_to_close": execution["close_deadline_at"],
            "schedule_to_close": execution["schedule_to_close_deadline_at"],
            "heartbeat": execution["heartbeat_deadline_at"],
        }
    )
    return drop_nulls(
        {
            "task_id": task["id"],
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "activity_execution_id": execution["id"],
            "activity_attempt_id": attempt_id,
            "attempt_number": attempt_number,
            "activity_type": execution["activity_type"],
            "payload_codec": run["payload_codec"],
            "arguments": wire_envelope(run["payload_codec"], execution["arguments"]),
            "retry_policy": loads(execution["retry_policy"]),
            "task_queue": task["queue"],
            "connection": None,
            "lease_owner": worker["worker_id"],
            "lease_expires_at": expires,
            "deadlines": {k: fmt_offset(parse(v)) for k, v in deadlines.items()} or None,
        }
    )
