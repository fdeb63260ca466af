"""Activity executions, attempts and tasks (worker-protocol.md §11, engine-semantics.md §6).

An execution is created per ``schedule_activity``; each claim makes a new
attempt (upper-case ULID); a retry makes a new task on the same execution.
Retry rules: no policy -> one attempt; ``non_retryable`` and
``non_retryable_error_types`` are always honoured (the HEAD behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import accept_payload
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import (
    encode_avro,
    is_inline_envelope,
    wire_envelope,
)
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.store.candidates import ready_tasks
from durable_workflow.server.store.leases import release_task
from durable_workflow.server.store.timefmt import fmt_offset, fmt_z, parse, plus_seconds
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, drop_nulls, dumps, loads, queue_key
from durable_workflow.server.store.ulid import new_ulid

_TIMEOUT_KEYS = (
    "start_to_close_timeout",
    "schedule_to_start_timeout",
    "schedule_to_close_timeout",
    "heartbeat_timeout",
)


def new_activity_task(
    tx: Tx, execution: dict[str, Any], run: dict[str, Any], available_at: str, attempts: int
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


def activity_snapshot(execution: dict[str, Any]) -> dict[str, Any]:
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


def common_keys(execution: dict[str, Any]) -> dict[str, Any]:
    return {
        "activity_execution_id": execution["id"],
        "activity_class": execution["activity_type"],
        "activity_type": execution["activity_type"],
        "sequence": execution["sequence"],
    }


def schedule_activity(
    tx: Tx, wf_task: dict[str, Any], run: dict[str, Any], command: dict[str, Any], step: int
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


def claim(tx: Tx, cfg: ServerConfig, worker: dict[str, Any]) -> dict[str, Any] | None:
    """Lease the first claimable activity task of the worker's queue, or None."""
    horizon = fmt_z(tx.now + timedelta(seconds=1))
    for task in ready_tasks(tx, worker["namespace"], worker["task_queue"], "activity", horizon):
        if (task["compatibility"] or None) != (worker["build_id"] or None):
            continue
        execution_id = loads(task["payload"])["activity_execution_id"]
        execution = tx.one("SELECT * FROM activity_executions WHERE id = ?", (execution_id,))
        run = tx.one("SELECT * FROM workflow_runs WHERE run_id = ?", (task["run_id"],))
        if execution is None or run is None:
            continue
        types = worker["supported_activity_types"]
        if types and execution["activity_type"] not in types:
            continue
        return _lease(tx, cfg, worker, task, execution, run)
    return None


def _lease(
    tx: Tx,
    cfg: ServerConfig,
    worker: dict[str, Any],
    task: dict[str, Any],
    execution: dict[str, Any],
    run: dict[str, Any],
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
    tx.update("tasks", "id", task["id"], task_changes)
    task.update(task_changes)
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
    exec_changes = {
        "status": "running",
        "attempt_count": attempt_number,
        "current_attempt_id": attempt_id,
        "current_task_id": task["id"],
        "started_at": tx.stamp,
        "close_deadline_at": fmt_z(plus_seconds(tx.now, s2c)) if s2c else None,
        "heartbeat_deadline_at": fmt_z(plus_seconds(tx.now, hb)) if hb else None,
        "last_heartbeat_at": None,
    }
    tx.update("activity_executions", "id", execution["id"], exec_changes)
    execution.update(exec_changes)
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


def owner_fields(body: dict[str, Any]) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    for key in ("activity_attempt_id", "lease_owner"):
        if not isinstance(body.get(key), str) or not body[key]:
            errors[key] = [f"The {key.replace('_', ' ')} field is required."]
    if errors:
        raise ValidationFailed(errors)
    return str(body["activity_attempt_id"]), str(body["lease_owner"])


def guard(
    tx: Tx, namespace: str, task_id: str, attempt_id: str, owner: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ownership checks of worker-protocol.md §11.5, in order."""
    task = tx.one(
        "SELECT * FROM tasks WHERE id = ? AND namespace = ? AND task_type = 'activity'",
        (task_id, namespace),
    )
    if task is None:
        raise EngineError(
            404,
            {"reason": "task_not_found", "error": f"Activity task [{task_id}] was not found."},
        )
    attempt = tx.one("SELECT * FROM activity_attempts WHERE id = ?", (attempt_id,))
    if attempt is None:
        raise EngineError(
            404,
            {
                "reason": "attempt_not_found",
                "error": f"Activity attempt [{attempt_id}] was not found.",
            },
        )
    if attempt["task_id"] != task_id:
        raise EngineError(
            409,
            {"reason": "task_mismatch", "error": "The attempt belongs to a different task."},
        )
    if attempt["lease_owner"] != owner:
        raise EngineError(
            409,
            {
                "reason": "lease_owner_mismatch",
                "error": "The attempt is leased by another worker.",
                "lease_owner": attempt["lease_owner"],
            },
        )
    return task, attempt


def run_stopped(
    tx: Tx,
    run: dict[str, Any],
    task: dict[str, Any],
    attempt: dict[str, Any],
    execution: dict[str, Any],
) -> dict[str, Any] | None:
    """Stop fields when the run was cancelled/terminated (the attempt is closed), else None."""
    if run["status"] not in ("cancelled", "terminated"):
        return None
    if attempt["status"] == "running":
        tx.update(
            "activity_attempts", "id", attempt["id"], {"status": "cancelled", "closed_at": tx.stamp}
        )
    return {
        "outcome": "ignored",
        "recorded": False,
        "reason": "run_cancelled" if run["status"] == "cancelled" else "run_terminated",
        "error": f"The workflow run was {run['status']}.",
        "cancel_requested": True,
        "can_continue": False,
        "run_status": run["status"],
        "run_closed_reason": run["closed_reason"],
        "run_closed_at": run["closed_at"],
        "activity_status": execution["status"],
        "attempt_status": "cancelled",
        "task_status": task["status"],
        "lease_owner": attempt["lease_owner"],
        "lease_expires_at": attempt["lease_expires_at"],
    }  # fmt: skip


def _is_current(task: dict[str, Any], attempt: dict[str, Any], execution: dict[str, Any]) -> bool:
    return bool(
        task["status"] == "leased"
        and attempt["status"] == "running"
        and execution["current_attempt_id"] == attempt["id"]
    )


def _close_attempt(tx: Tx, task: dict[str, Any], attempt: dict[str, Any], status: str) -> None:
    tx.update("activity_attempts", "id", attempt["id"], {"status": status, "closed_at": tx.stamp})
    tx.update("tasks", "id", task["id"], {"status": "completed", "updated_at": tx.stamp})


def _resume(
    tx: Tx, run: dict[str, Any], execution: dict[str, Any], attempt_id: str, event: str
) -> str:
    return create_workflow_task(
        tx,
        run,
        {
            "workflow_wait_kind": "activity",
            "resume_source_kind": "activity_execution",
            "resume_source_id": execution["id"],
            "activity_execution_id": execution["id"],
            "activity_attempt_id": attempt_id,
            "activity_type": execution["activity_type"],
            "workflow_sequence": execution["sequence"],
            "workflow_event_type": event,
        },
    )


def _resolve_payload(
    tx: Tx, namespace: str, field: str, value: Any, codec: str
) -> tuple[str | None, str]:
    """A result/details value as (blob, codec): envelopes kept, references verified, else JSON."""
    if value is None:
        return None, codec
    marker = accept_payload(tx, namespace, field, value)
    if marker is not None:
        return marker, str(value["codec"])
    if is_inline_envelope(value) and isinstance(value["blob"], str):
        return value["blob"], str(value["codec"])
    return encode_avro(value), codec


@dataclass(frozen=True)
class _Target:
    """The rows an activity outcome is recorded against, and its response base."""

    base: dict[str, Any]
    task: dict[str, Any]
    attempt: dict[str, Any]
    execution: dict[str, Any]
    run: dict[str, Any]

    @property
    def attempt_id(self) -> str:
        return str(self.base["activity_attempt_id"])


def _outcome_target(
    tx: Tx, namespace: str, task_id: str, body: dict[str, Any], outcome: str
) -> Outcome | _Target:
    """Ownership guard and the checks shared by complete and fail (worker-protocol §11.5).

    Returns the 409 answer when the outcome must not be recorded.
    """
    attempt_id, owner = owner_fields(body)
    task, attempt = guard(tx, namespace, task_id, attempt_id, owner)
    execution = tx.one("SELECT * FROM activity_executions WHERE id = ?", (attempt["execution_id"],))
    run = tx.one("SELECT * FROM workflow_runs WHERE run_id = ?", (task["run_id"],))
    base: dict[str, Any] = {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "outcome": outcome,
        "recorded": False,
        "reason": None,
        "next_task_id": None,
    }
    if execution is None or run is None:
        return 409, {**base, "reason": "activity_execution_missing"}
    stopped = run_stopped(tx, run, task, attempt, execution)
    if stopped is not None:
        return 409, {**base, **stopped}
    if not _is_current(task, attempt, execution):
        return 409, {**base, "reason": "stale_attempt"}
    return _Target(base, task, attempt, execution, run)


def complete(tx: Tx, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
    target = _outcome_target(tx, namespace, task_id, body, "completed")
    if not isinstance(target, _Target):
        return target
    base, task, attempt, execution, run = (
        target.base, target.task, target.attempt, target.execution, target.run
    )  # fmt: skip
    attempt_id = target.attempt_id
    blob, codec = _resolve_payload(
        tx, namespace, "result", body.get("result"), run["payload_codec"]
    )
    _close_attempt(tx, task, attempt, "completed")
    changes = {"status": "completed", "result": blob, "result_codec": codec, "closed_at": tx.stamp}
    tx.update("activity_executions", "id", execution["id"], changes)
    execution.update(changes)
    if is_terminal(run["status"]):
        return 200, {**base, "recorded": True}
    append_event(
        tx,
        run["run_id"],
        "ActivityCompleted",
        {
            **common_keys(execution),
            "activity_attempt_id": attempt_id,
            "attempt_number": attempt["attempt_number"],
            "result": blob,
            "payload_codec": codec,
            "activity": activity_snapshot(execution),
        },
        task=task,
    )
    next_id = _resume(tx, run, execution, attempt_id, "ActivityCompleted")
    return 200, {**base, "recorded": True, "next_task_id": next_id}


def _failure_fields(body: dict[str, Any]) -> dict[str, Any]:
    failure = body.get("failure")
    if not isinstance(failure, dict):
        raise ValidationFailed({"failure": ["The failure field is required."]})
    if not isinstance(failure.get("message"), str):
        raise ValidationFailed({"failure.message": ["The failure.message field is required."]})
    for key in ("type", "stack_trace"):
        if failure.get(key) is not None and not isinstance(failure[key], str):
            raise ValidationFailed(
                {f"failure.{key}": [f"The failure.{key} field must be a string."]}
            )
    if failure.get("non_retryable") is not None and not isinstance(failure["non_retryable"], bool):
        raise ValidationFailed(
            {"failure.non_retryable": ["The failure.non_retryable field must be true or false."]}
        )
    return failure


def _should_retry(execution: dict[str, Any], failure: dict[str, Any], attempt_number: int) -> bool:
    if failure.get("non_retryable") is True:
        return False
    policy = loads(execution["retry_policy"]) or {}
    error_type = (failure.get("type") or "").strip()
    if error_type and error_type in (policy.get("non_retryable_error_types") or []):
        return False
    max_attempts = policy.get("max_attempts", 1) if policy else 1
    return max_attempts is None or attempt_number < int(max_attempts)


def fail(tx: Tx, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
    failure = _failure_fields(body)
    target = _outcome_target(tx, namespace, task_id, body, "failed")
    if not isinstance(target, _Target):
        return target
    base, task, attempt, execution, run = (
        target.base, target.task, target.attempt, target.execution, target.run
    )  # fmt: skip
    attempt_id = target.attempt_id
    details_blob, details_codec = _resolve_payload(
        tx, namespace, "failure.details", failure.get("details"), run["payload_codec"]
    )
    error_type = failure.get("type")
    exception_class = error_type or "RuntimeException"
    exception = drop_nulls(
        {
            "class": exception_class,
            "type": error_type,
            "message": failure["message"],
            "code": 0,
            "stack_trace": failure.get("stack_trace"),
            "kind": failure.get("kind"),
            "timeout_type": failure.get("timeout_type"),
            "details": details_blob,
            "details_payload_codec": details_codec if details_blob is not None else None,
            "non_retryable": failure.get("non_retryable"),
        }
    )
    attempt_number = int(attempt["attempt_number"])
    _close_attempt(tx, task, attempt, "failed")
    retry = _should_retry(execution, failure, attempt_number) and not is_terminal(run["status"])
    policy = loads(execution["retry_policy"]) or {}
    failure_keys = {
        "exception_type": error_type,
        "exception_class": exception_class,
        "message": failure["message"],
        "code": 0,
        "exception": exception,
    }
    if retry:
        backoff_list = policy.get("backoff_seconds") or []
        backoff = (
            int(backoff_list[min(attempt_number - 1, len(backoff_list) - 1)]) if backoff_list else 0
        )
        available = fmt_z(plus_seconds(tx.now, backoff))
        tx.update(
            "activity_executions",
            "id",
            execution["id"],
            {"status": "pending", "exception": dumps(exception)},
        )
        execution["status"] = "pending"
        retry_task = new_activity_task(tx, execution, run, available, attempt_number)
        tx.wakes.add(SCHEDULER_KEY)
        append_event(
            tx,
            run["run_id"],
            "ActivityRetryScheduled",
            {
                **common_keys(execution),
                "activity_attempt_id": attempt_id,
                "retry_task_id": retry_task,
                "retry_of_task_id": task_id,
                "retry_available_at": available,
                "retry_backoff_seconds": backoff,
                "retry_after_attempt_id": attempt_id,
                "retry_after_attempt": attempt_number,
                "max_attempts": policy.get("max_attempts", 1),
                "retry_policy": policy or None,
                **failure_keys,
            },
            task=task,
        )
        return 200, {**base, "recorded": True, "next_task_id": retry_task}
    changes = {"status": "failed", "exception": dumps(exception), "closed_at": tx.stamp}
    tx.update("activity_executions", "id", execution["id"], changes)
    execution.update(changes)
    if is_terminal(run["status"]):
        return 200, {**base, "recorded": True}
    append_event(
        tx,
        run["run_id"],
        "ActivityFailed",
        {
            **common_keys(execution),
            "activity_attempt_id": attempt_id,
            "attempt_number": attempt_number,
            "failure_id": new_ulid(),
            "failure_category": "activity",
            "non_retryable": bool(failure.get("non_retryable") or False),
            **failure_keys,
        },
        task=task,
    )
    next_id = _resume(tx, run, execution, attempt_id, "ActivityFailed")
    return 200, {**base, "recorded": True, "next_task_id": next_id}


def expire_lease(tx: Tx, task: dict[str, Any]) -> None:
    """Sweeper: close the expired attempt and put the same task back to ready."""
    execution_id = loads(task["payload"]).get("activity_execution_id")
    tx.run(
        "UPDATE activity_attempts SET status = 'expired', closed_at = ?"
        " WHERE task_id = ? AND status = 'running'",
        (tx.stamp, task["id"]),
    )
    tx.run(
        "UPDATE activity_executions SET status = 'pending' WHERE id = ? AND status = 'running'",
        (execution_id,),
    )
    release_task(tx, task)
