"""Cancel and terminate: immediate server-side closes (engine-semantics.md §14).

One transaction: ``CancelRequested``/``TerminateRequested``, open tasks
cancelled, one ``ActivityCancelled`` per open activity and one
``TimerCancelled`` per pending timer, then ``WorkflowCancelled``/
``WorkflowTerminated``. Running activity attempts learn about it on their
next heartbeat or outcome call.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine import children
from durable_workflow.server.engine.errors import EngineError, Outcome
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.engine.runs import is_terminal
from durable_workflow.server.store.rows import (
    ActivityAttemptRow,
    ActivityExecutionRow,
    TaskRow,
    TimerRow,
    WorkflowRunRow,
)
from durable_workflow.server.store.tx import Tx, drop_nulls, queue_key
from durable_workflow.server.store.ulid import new_ulid

_KINDS = {
    "cancel": ("CancelRequested", "WorkflowCancelled", "cancelled", "WorkflowCancelledException"),
    "terminate": (
        "TerminateRequested",
        "WorkflowTerminated",
        "terminated",
        "WorkflowTerminatedException",
    ),
}


def command_response(
    run: WorkflowRunRow,
    command_id: str,
    requested_run_id: str | None,
    *,
    status: str,
    outcome: str,
    reason: str | None,
    rejection: str | None,
) -> dict[str, Any]:
    return {
        "workflow_id": run["workflow_id"],
        "run_id": requested_run_id or run["run_id"],
        "requested_run_id": requested_run_id,
        "resolved_run_id": run["run_id"],
        "command_id": command_id,
        "command_sequence": None,
        "target_scope": "run" if requested_run_id else "instance",
        "workflow_type": run["workflow_type"],
        "command_status": status,
        "command_source": "control_plane",
        "outcome": outcome,
        "reason": reason,
        "rejection_reason": rejection,
        "validation_errors": [],
    }


def close_run(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    kind: str,
    body: dict[str, Any],
    requested_run_id: str | None = None,
) -> Outcome:
    """Cancel or terminate the current run; 409 when it is not active."""
    requested_event, closed_event, status, exception = _KINDS[kind]
    run = find_instance_run(tx, namespace, workflow_id)
    if requested_run_id is not None and requested_run_id != run["run_id"]:
        raise EngineError(
            409,
            {
                "message": "Commands cannot target historical runs. Target the current run.",
                "workflow_id": workflow_id,
                "run_id": requested_run_id,
                "reason": "historical_run_command_rejected",
                "target_scope": "run",
            },
        )
    reason_text = body.get("reason")
    command_id = new_ulid()
    if is_terminal(run["status"]):
        tx.insert(
            "workflow_commands",
            {"id": command_id, "namespace": namespace, "workflow_id": workflow_id,
             "run_id": run["run_id"], "type": kind, "payload_codec": None, "payload": None,
             "status": "rejected", "outcome": "rejected_not_active",
             "rejection_reason": "run_not_active", "created_at": tx.stamp},
        )  # fmt: skip
        body_out = command_response(
            run, command_id, requested_run_id, status="rejected",
            outcome="rejected_not_active", reason="run_not_active", rejection="run_not_active",
        )  # fmt: skip
        body_out["message"] = f"Workflow run [{run['run_id']}] is not active."
        return 409, body_out
    tx.insert(
        "workflow_commands",
        {"id": command_id, "namespace": namespace, "workflow_id": workflow_id,
         "run_id": run["run_id"], "type": kind, "payload_codec": None, "payload": None,
         "status": "accepted", "outcome": status, "rejection_reason": None,
         "created_at": tx.stamp},
    )  # fmt: skip
    run_id = run["run_id"]
    common = {"workflow_command_id": command_id, "workflow_instance_id": workflow_id,
              "workflow_run_id": run_id}  # fmt: skip
    append_event(
        tx,
        run_id,
        requested_event,
        drop_nulls({**common, "command_type": kind, "reason": reason_text}),
        command_id=command_id,
    )
    for task in tx.all(
        "SELECT * FROM tasks WHERE run_id = ? AND status IN ('ready', 'leased')",
        (run_id,),
        row=TaskRow,
    ):
        tx.update("tasks", "id", task["id"], {"status": "cancelled", "updated_at": tx.stamp})
        tx.wakes.add(queue_key(namespace, task["queue"]))
    cancel_activities(tx, run_id, command_id)
    cancel_timers(tx, run_id)
    message = f"Workflow {status}." if not reason_text else f"Workflow {status}: {reason_text}"
    tx.update(
        "workflow_runs",
        "run_id",
        run_id,
        {"status": status, "closed_reason": status, "closed_at": tx.stamp,
         "last_progress_at": tx.stamp, "updated_at": tx.stamp},
    )  # fmt: skip
    append_event(
        tx,
        run_id,
        closed_event,
        drop_nulls(
            {
                **common,
                "failure_id": new_ulid(),
                "failure_category": status,
                "closed_reason": status,
                "exception_class": f"Workflow\\V2\\Exceptions\\{exception}",
                "message": message,
                "reason": reason_text,
            }
        ),
        command_id=command_id,
    )
    children.apply_parent_close_policy(tx, run, status)
    children.notify_parent(tx, run, status, {"message": message})
    return 200, command_response(
        run, command_id, requested_run_id, status="accepted", outcome=status,
        reason=reason_text, rejection=None,
    )  # fmt: skip


def cancel_activities(tx: Tx, run_id: str, command_id: str | None) -> None:
    executions = tx.all(
        "SELECT * FROM activity_executions WHERE run_id = ? AND status IN ('pending', 'running')",
        (run_id,),
        row=ActivityExecutionRow,
    )
    for execution in executions:
        tx.update(
            "activity_executions", "id", execution["id"],
            {"status": "cancelled", "closed_at": tx.stamp},
        )  # fmt: skip
        attempt = None
        if execution["current_attempt_id"]:
            attempt = tx.one(
                "SELECT * FROM activity_attempts WHERE id = ?",
                (execution["current_attempt_id"],),
                row=ActivityAttemptRow,
            )
        append_event(
            tx,
            run_id,
            "ActivityCancelled",
            {
                "activity_execution_id": execution["id"],
                "activity_class": execution["activity_type"],
                "activity_type": execution["activity_type"],
                "sequence": execution["sequence"],
                "workflow_command_id": command_id,
                "activity_attempt_id": None if attempt is None else attempt["id"],
                "attempt_number": None if attempt is None else attempt["attempt_number"],
                "cancelled_at": tx.stamp,
                "activity_attempt": None
                if attempt is None
                else {
                    "id": attempt["id"],
                    "attempt_number": attempt["attempt_number"],
                    "status": attempt["status"],
                    "task_id": attempt["task_id"],
                    "lease_owner": attempt["lease_owner"],
                },
            },
        )


def cancel_timers(tx: Tx, run_id: str) -> None:
    for timer in tx.all(
        "SELECT * FROM timers WHERE run_id = ? AND status = 'pending'", (run_id,), row=TimerRow
    ):
        tx.update("timers", "id", timer["id"], {"status": "cancelled"})
        append_event(
            tx,
            run_id,
            "TimerCancelled",
            {
                "timer_id": timer["id"],
                "sequence": timer["sequence"],
                "delay_seconds": timer["delay_seconds"],
                "fire_at": timer["fire_at"],
                "cancelled_at": tx.stamp,
            },
        )
