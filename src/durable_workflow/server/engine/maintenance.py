"""Repair and archive (control-plane.md §7.12, §7.13): operator commands on the current run.

Repair re-dispatches a workflow task whose lease expired, or creates one when
an open run has no ready or leased task; otherwise it answers
``repair_not_needed``. Every accepted repair records ``RepairRequested``.
Archive marks a closed run archived once, recording ``ArchiveRequested`` (and
``WorkflowArchived`` when it applied) as history-events.md §3.1 lists.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.closing import command_response
from durable_workflow.server.engine.errors import EngineError, ValidationFailed
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.run_views import find_instance_run, pending_wait_kind
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.engine.workflow_tasks import repair_task
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, drop_nulls
from durable_workflow.server.store.ulid import new_ulid


def _check_body(body: dict[str, Any], *, with_reason: bool) -> str | None:
    errors: dict[str, list[str]] = {}
    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 255):
        errors["request_id"] = ["The request id must be a string of at most 255 characters."]
    reason = body.get("reason") if with_reason else None
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        errors["reason"] = ["The reason must be a string of at most 1000 characters."]
    if errors:
        raise ValidationFailed(errors)
    return reason


def _record(
    tx: Tx, run: WorkflowRunRow, kind: str, status: str, outcome: str, rejection: str | None
) -> str:
    command_id = new_ulid()
    tx.insert(
        "workflow_commands",
        {"id": command_id, "namespace": run["namespace"], "workflow_id": run["workflow_id"],
         "run_id": run["run_id"], "type": kind, "payload_codec": None, "payload": None,
         "status": status, "outcome": outcome, "rejection_reason": rejection,
         "created_at": tx.stamp},
    )  # fmt: skip
    return command_id


def _rejected(tx: Tx, run: WorkflowRunRow, kind: str, rejection: str, outcome: str) -> EngineError:
    command_id = _record(tx, run, kind, "rejected", outcome, rejection)
    body = command_response(
        run, command_id, None, status="rejected", outcome=outcome, reason=rejection,
        rejection=rejection,
    )  # fmt: skip
    body["message"] = f"Workflow run [{run['run_id']}] cannot be {kind}ed: {rejection}."
    return EngineError(409, body)


def _open_task(tx: Tx, run_id: str) -> TaskRow | None:
    """A ready or leased task of the run: the work that will wake it without a repair."""
    return tx.one(
        "SELECT * FROM tasks WHERE run_id = ? AND status IN ('ready', 'leased') LIMIT 1",
        (run_id,),
        row=TaskRow,
    )


def repair(tx: Tx, namespace: str, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Redispatch or create the run's workflow task; RepairRequested is recorded either way
    (history-events.md §3.1)."""
    _check_body(body, with_reason=False)
    run = find_instance_run(tx, namespace, workflow_id)
    if is_terminal(run["status"]):
        raise _rejected(tx, run, "repair", "run_not_active", "rejected_not_active")
    expired = tx.all(
        "SELECT * FROM tasks WHERE run_id = ? AND task_type = 'workflow' AND status = 'leased'"
        " AND lease_expires_at <= ?",
        (run["run_id"], tx.stamp),
        row=TaskRow,
    )
    open_task = None if expired else _open_task(tx, run["run_id"])
    wait_kind = pending_wait_kind(tx, run["run_id"])
    task_id: str | None = None
    if expired:
        liveness = "workflow_task_lease_expired"
        for task in expired:
            repair_task(tx, task, record=False)
        task_id = expired[0]["id"]
    elif open_task is None:
        liveness = "repair_needed"
        task_id = create_workflow_task(tx, run, {"workflow_wait_kind": "repair"})
    else:
        liveness = f"{open_task['task_type']}_task_{open_task['status']}"
    outcome = "repair_not_needed" if task_id is None else "repair_dispatched"
    command_id = _record(tx, run, "repair", "accepted", outcome, None)
    append_event(
        tx,
        run["run_id"],
        "RepairRequested",
        {
            "workflow_command_id": command_id,
            "workflow_instance_id": workflow_id,
            "workflow_run_id": run["run_id"],
            "command_type": "repair",
            "outcome": outcome,
            "liveness_state": liveness,
            "wait_kind": wait_kind,
            "task_id": task_id,
            "task_type": None if task_id is None else "workflow",
        },
        command_id=command_id,
    )
    return command_response(
        run, command_id, None, status="accepted", outcome=outcome, reason=None, rejection=None
    )


def archive(tx: Tx, namespace: str, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    reason = _check_body(body, with_reason=True)
    run = find_instance_run(tx, namespace, workflow_id)
    if not is_terminal(run["status"]):
        raise _rejected(tx, run, "archive", "run_not_closed", "rejected_run_not_closed")
    outcome = "archive_not_needed" if run["archived_at"] else "archived"
    command_id = _record(tx, run, "archive", "accepted", outcome, None)
    ids = {"workflow_command_id": command_id, "workflow_instance_id": workflow_id,
           "workflow_run_id": run["run_id"]}  # fmt: skip
    requested = {**ids, "command_type": "archive", "outcome": outcome, "reason": reason}
    append_event(
        tx, run["run_id"], "ArchiveRequested", drop_nulls(requested), command_id=command_id
    )
    if outcome == "archived":
        tx.update(
            "workflow_runs",
            "run_id",
            run["run_id"],
            {"archived_at": tx.stamp, "archive_command_id": command_id, "archive_reason": reason},
        )
        archived = {**ids, "archive_command_id": command_id, "reason": reason}
        append_event(
            tx, run["run_id"], "WorkflowArchived", drop_nulls(archived), command_id=command_id
        )
    return command_response(
        run, command_id, None, status="accepted", outcome=outcome, reason=reason, rejection=None
    )
