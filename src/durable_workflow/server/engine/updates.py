"""Updates: accept on the control plane, apply via ``complete_update``/``fail_update``.

control-plane.md §7.10 and engine-semantics.md §9, with the dev-server
stance already taken for signals: any valid update name is accepted for
types without a declared contract (upstream rejects them all as
``unknown_update``), and no ``earlier_signal_pending`` gate applies (the
snapshot never marks external signals applied, which would block every
update after the first signal). Each accepted update gets its own workflow
task carrying ``workflow_update_id``; after the worker applies it a plain
follow-up task lets the workflow react to the changed state (update_follow_up.py).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import structural_limits
from durable_workflow.server.engine.closing import command_response
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import try_decode, wire_envelope
from durable_workflow.server.engine.query_targets import historical_run_error
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.engine.signals import encode_arguments, validate_name
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow, WorkflowUpdateRow
from durable_workflow.server.store.tx import Tx, drop_nulls
from durable_workflow.server.store.ulid import new_ulid

WAIT_FOR = ("accepted", "completed")
UPDATE_COMMANDS = ("complete_update", "fail_update")


def wait_options(body: dict[str, Any]) -> tuple[str, int | None]:
    """``wait_for`` and ``wait_timeout_seconds`` after the documented checks."""
    errors: dict[str, list[str]] = {}
    if "wait_policy" in body:
        errors["wait_policy"] = ["The wait_policy field is no longer supported. Use wait_for."]
    wait_for = body.get("wait_for") or "accepted"
    if wait_for not in WAIT_FOR:
        errors["wait_for"] = ["The selected wait for is invalid; use accepted or completed."]
    timeout = body.get("wait_timeout_seconds")
    if timeout is not None and (
        not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1
    ):
        errors["wait_timeout_seconds"] = ["The wait timeout seconds must be an integer >= 1."]
    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 255):
        errors["request_id"] = ["The request id must be a string of at most 255 characters."]
    if errors:
        raise ValidationFailed(errors)
    return str(wait_for), timeout


def update_context(update_id: str, command_id: str) -> dict[str, Any]:
    """Resume context of the workflow task that applies one update."""
    return {
        "workflow_wait_kind": "update",
        "resume_source_kind": "workflow_update",
        "resume_source_id": update_id,
        "workflow_update_id": update_id,
        "workflow_command_id": command_id,
    }


def submit(
    tx: Tx,
    cfg: ServerConfig,
    namespace: str,
    workflow_id: str,
    name: str,
    body: dict[str, Any],
    requested_run_id: str | None,
    update_id: str | None = None,
) -> tuple[int, dict[str, Any], str | None]:
    """Accept (or reject) an update; returns status, body and the accepted update id.

    ``update_id`` is the id a 2.x validation task already announced for this update.
    """
    validate_name(name, "update_name")
    wait_for, timeout = wait_options(body)
    run = find_instance_run(tx, namespace, workflow_id)
    if requested_run_id is not None and requested_run_id != run["run_id"]:
        raise historical_run_error(workflow_id, requested_run_id)
    blob, _ = encode_arguments(tx, namespace, body.get("input"), run["payload_codec"])
    command_id = new_ulid()
    rejected = is_terminal(run["status"])
    tx.insert(
        "workflow_commands",
        {"id": command_id, "namespace": namespace, "workflow_id": workflow_id,
         "run_id": run["run_id"], "type": "update", "payload_codec": run["payload_codec"],
         "payload": blob, "status": "rejected" if rejected else "accepted",
         "outcome": "rejected_not_active" if rejected else None,
         "rejection_reason": "run_not_active" if rejected else None, "created_at": tx.stamp},
    )  # fmt: skip
    extra = {"update_name": name, "wait_for": wait_for, "wait_timeout_seconds": timeout}
    if rejected:
        out = command_response(
            run, command_id, requested_run_id, status="rejected",
            outcome="rejected_not_active", reason="run_not_active", rejection="run_not_active",
        )  # fmt: skip
        out.update(extra, update_status="rejected", rejected_at=tx.stamp)
        out["message"] = f"Workflow run [{run['run_id']}] is not active."
        return 409, out, None
    exceeded = structural_limits.check_update_admission(tx, cfg, run["run_id"])
    if exceeded is not None:
        return 409, _over_limit(tx, run, command_id, requested_run_id, extra, exceeded), None
    update_id = update_id or new_ulid()
    tx.insert(
        "workflow_updates",
        {"id": update_id, "namespace": namespace, "workflow_id": workflow_id,
         "run_id": run["run_id"], "command_id": command_id, "update_name": name,
         "arguments": blob, "payload_codec": run["payload_codec"], "status": "accepted",
         "accepted_at": tx.stamp},
    )  # fmt: skip
    append_event(
        tx,
        run["run_id"],
        "UpdateAccepted",
        {
            "workflow_command_id": command_id,
            "update_id": update_id,
            "workflow_instance_id": workflow_id,
            "workflow_run_id": run["run_id"],
            "update_name": name,
            "arguments": blob,
        },
        command_id=command_id,
    )
    create_workflow_task(tx, run, update_context(update_id, command_id))
    return 202, {"run_id": run["run_id"]}, update_id


def _over_limit(
    tx: Tx,
    run: WorkflowRunRow,
    command_id: str,
    requested_run_id: str | None,
    extra: dict[str, Any],
    exceeded: structural_limits.Exceeded,
) -> dict[str, Any]:
    """Refuse an update the run has no room for; its command row is marked rejected."""
    reason = "structural_limit_exceeded"
    tx.update(
        "workflow_commands", "id", command_id,
        {"status": "rejected", "outcome": None, "rejection_reason": reason},
    )  # fmt: skip
    out = command_response(
        run, command_id, requested_run_id, status="rejected",
        outcome="", reason=reason, rejection=reason,
    )  # fmt: skip
    fields = exceeded.fields()
    out.update(extra, update_status="rejected", rejected_at=tx.stamp, outcome=None)
    out.update({k: v for k, v in fields.items() if k != "error"}, message=fields["error"])
    return out


def view(
    tx: Tx, update_id: str, requested_run_id: str | None, wait_for: str, timeout: int | None
) -> Outcome:
    """The control-plane body of an accepted update in its current state."""
    row = tx.one("SELECT * FROM workflow_updates WHERE id = ?", (update_id,), row=WorkflowUpdateRow)
    assert row is not None
    run = get_run(tx, row["run_id"])
    assert run is not None
    status = row["status"]
    outcome = {"completed": "update_completed", "failed": "update_failed"}.get(status)
    out = command_response(
        run, row["command_id"], requested_run_id, status="accepted",
        outcome=outcome or "", reason=None, rejection=None,
    )  # fmt: skip
    codec = row["payload_codec"]
    out.update(
        {
            "outcome": outcome,
            "update_id": update_id,
            "update_name": row["update_name"],
            "update_status": status,
            "workflow_sequence": row["workflow_sequence"],
            "result": try_decode(codec, row["result"]),
            "result_envelope": wire_envelope(codec, row["result"]),
            "failure_id": row["failure_id"],
            "failure_message": row["failure_message"],
            "accepted_at": row["accepted_at"],
            "applied_at": row["applied_at"],
            "rejected_at": None,
            "closed_at": row["closed_at"],
            "wait_for": wait_for,
            "wait_timed_out": wait_for == "completed" and status == "accepted",
            "wait_timeout_seconds": timeout,
        }
    )
    return {"accepted": 202, "completed": 200}.get(status, 422), out


def check_update_commands(tx: Tx, run_id: str, commands: list[dict[str, Any]]) -> str | None:
    """Rejection text when an update command names no accepted update of the run."""
    for command in commands:
        if command["type"] not in UPDATE_COMMANDS:
            continue
        row = tx.one(
            "SELECT status FROM workflow_updates WHERE id = ? AND run_id = ?",
            (command["update_id"], run_id),
        )
        if row is None or row["status"] != "accepted":
            return f"Update [{command['update_id']}] is not an accepted update of this run."
    return None


def apply(tx: Tx, task: TaskRow, run: WorkflowRunRow, command: dict[str, Any], step: int) -> None:
    """Record ``complete_update`` / ``fail_update`` and close the update row."""
    row = tx.one(
        "SELECT * FROM workflow_updates WHERE id = ?",
        (command["update_id"],),
        row=WorkflowUpdateRow,
    )
    assert row is not None
    common = {
        "workflow_command_id": row["command_id"],
        "update_id": row["id"],
        "workflow_instance_id": run["workflow_id"],
        "workflow_run_id": run["run_id"],
        "update_name": row["update_name"],
    }
    if command["type"] == "complete_update":
        append_event(
            tx,
            run["run_id"],
            "UpdateApplied",
            {**common, "arguments": row["arguments"], "sequence": step},
            task=task,
        )
        append_event(
            tx,
            run["run_id"],
            "UpdateCompleted",
            {**common, "sequence": step, "result": command["result"]},
            task=task,
        )
        changes = {"status": "completed", "result": command["result"], "applied_at": tx.stamp}
    else:
        failure_id = new_ulid()
        exception = drop_nulls(
            {
                "class": command["exception_class"],
                "type": command["exception_type"],
                "message": command["message"],
                "code": 0,
            }
        )
        append_event(
            tx,
            run["run_id"],
            "UpdateCompleted",
            {
                **common,
                "sequence": step,
                "failure_id": failure_id,
                "failure_category": "application",
                "non_retryable": command["non_retryable"],
                "exception_type": command["exception_type"],
                "exception_class": command["exception_class"],
                "message": command["message"],
                "code": 0,
                "exception": exception,
            },
            task=task,
        )
        changes = {
            "status": "failed",
            "failure_id": failure_id,
            "failure_message": command["message"],
        }
    tx.update(
        "workflow_updates",
        "id",
        row["id"],
        {**changes, "workflow_sequence": step, "closed_at": tx.stamp},
    )


def status(tx: Tx, update_id: str) -> str | None:
    row = tx.one("SELECT status FROM workflow_updates WHERE id = ?", (update_id,))
    return None if row is None else str(row["status"])
