"""Activity outcomes: the ownership guard, complete, fail and retry, lease expiry.

worker-protocol.md §11.5 and engine-semantics.md §6: an outcome is recorded only by the
attempt that holds the task's lease; a failure retries on a new task of the same execution
while the retry policy allows (no policy -> one attempt; ``non_retryable`` and
``non_retryable_error_types`` are always honoured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durable_workflow.server.engine.activities import (
    activity_snapshot,
    common_keys,
    new_activity_task,
)
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import accept_payload
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import (
    encode_payload,
    is_inline_envelope,
)
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.store.leases import release_task
from durable_workflow.server.store.reads import get_execution, get_run
from durable_workflow.server.store.rows import (
    ActivityAttemptRow,
    ActivityExecutionRow,
    TaskRow,
    WorkflowRunRow,
)
from durable_workflow.server.store.timefmt import fmt_z, plus_seconds
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, drop_nulls, dumps, loads
from durable_workflow.server.store.ulid import new_ulid


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
) -> tuple[TaskRow, ActivityAttemptRow]:
    """Ownership checks of worker-protocol.md §11.5, in order."""
    task = tx.one(
        "SELECT * FROM tasks WHERE id = ? AND namespace = ? AND task_type = 'activity'",
        (task_id, namespace),
        row=TaskRow,
    )
    if task is None:
        raise EngineError(
            404,
            {"reason": "task_not_found", "error": f"Activity task [{task_id}] was not found."},
        )
    attempt = tx.one(
        "SELECT * FROM activity_attempts WHERE id = ?", (attempt_id,), row=ActivityAttemptRow
    )
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
    run: WorkflowRunRow,
    task: TaskRow,
    attempt: ActivityAttemptRow,
    execution: ActivityExecutionRow,
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


def _is_current(
    task: TaskRow, attempt: ActivityAttemptRow, execution: ActivityExecutionRow
) -> bool:
    return bool(
        task["status"] == "leased"
        and attempt["status"] == "running"
        and execution["current_attempt_id"] == attempt["id"]
    )


def _close_attempt(tx: Tx, task: TaskRow, attempt: ActivityAttemptRow, status: str) -> None:
    tx.update("activity_attempts", "id", attempt["id"], {"status": status, "closed_at": tx.stamp})
    tx.update("tasks", "id", task["id"], {"status": "completed", "updated_at": tx.stamp})


def _resume(
    tx: Tx, run: WorkflowRunRow, execution: ActivityExecutionRow, attempt_id: str, event: str
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
    return encode_payload(tx, value), codec


@dataclass(frozen=True)
class _Target:
    """The rows an activity outcome is recorded against, and its response base."""

    base: dict[str, Any]
    task: TaskRow
    attempt: ActivityAttemptRow
    execution: ActivityExecutionRow
    run: WorkflowRunRow

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
    execution = get_execution(tx, attempt["execution_id"])
    run = get_run(tx, task["run_id"])
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
    tx.update_row("activity_executions", execution, changes)
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


def _should_retry(
    execution: ActivityExecutionRow, failure: dict[str, Any], attempt_number: int
) -> bool:
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
    tx.update_row("activity_executions", execution, changes)
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


def expire_lease(tx: Tx, task: TaskRow) -> None:
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
