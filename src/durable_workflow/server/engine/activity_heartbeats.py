"""Activity heartbeats: progress validation, liveness answers, lease extension.

Rules from worker-protocol.md §11.4: each accepted heartbeat extends the
attempt and task lease and records ``ActivityHeartbeatRecorded``; progress
violations are a 422 here (upstream answers them with a plain 500).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.activities import common_keys
from durable_workflow.server.engine.activity_outcomes import guard, owner_fields
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.runs import is_terminal
from durable_workflow.server.store.reads import get_execution, get_run
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx

_DETAIL_KEY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


def _progress(body: dict[str, Any]) -> dict[str, Any] | None:
    """Validated heartbeat progress (422 on violations instead of upstream's 500)."""
    errors: dict[str, list[str]] = {}
    progress: dict[str, Any] = {}
    message = body.get("message")
    if message is not None:
        if not isinstance(message, str) or not message.strip() or len(message.strip()) > 280:
            errors["message"] = [
                "The message must be a non-empty string of at most 280 characters."
            ]
        else:
            progress["message"] = message.strip()
    for key in ("current", "total"):
        value = body.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value < 0
            or value != value
            or value in (float("inf"),)
        ):
            errors[key] = [f"The {key} field must be a finite number of at least 0."]
        else:
            progress[key] = value
    unit = body.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or len(unit) > 64:
            errors["unit"] = ["The unit field must be a string of at most 64 characters."]
        elif body.get("current") is None and body.get("total") is None:
            errors["unit"] = ["The unit field requires current or total."]
        else:
            progress["unit"] = unit
    details = body.get("details")
    if details is not None:
        valid = isinstance(details, dict) and 0 < len(details) <= 20
        if valid:
            assert isinstance(details, dict)
            for key, value in details.items():
                key_ok = 1 <= len(key) <= 64 and set(key) <= _DETAIL_KEY_CHARS
                value_ok = (
                    value is None
                    or isinstance(value, (bool, int, float))
                    or (isinstance(value, str) and 0 < len(value) <= 191)
                )
                valid = valid and key_ok and value_ok
        if not valid:
            errors["details"] = [
                "The details field must be a flat object of at most 20 scalar entries."
            ]
        else:
            progress["details"] = details
    if errors:
        raise ValidationFailed(errors)
    return progress or None


def heartbeat(
    tx: Tx, cfg: ServerConfig, namespace: str, task_id: str, body: dict[str, Any]
) -> Outcome:
    attempt_id, owner = owner_fields(body)
    progress = _progress(body)
    task, attempt = guard(tx, namespace, task_id, attempt_id, owner)
    execution = get_execution(tx, attempt["execution_id"])
    run = get_run(tx, task["run_id"])
    base: dict[str, Any] = {
        "task_id": task_id,
        "activity_attempt_id": attempt_id,
        "lease_owner": attempt["lease_owner"],
        "cancel_requested": False,
        "can_continue": False,
        "reason": None,
        "run_closed_reason": None,
        "run_closed_at": None,
        "heartbeat_recorded": False,
        "lease_expires_at": attempt["lease_expires_at"],
        "last_heartbeat_at": attempt["last_heartbeat_at"],
    }
    reason = None
    if attempt["status"] != "running":
        reason = "attempt_closed"
    elif execution is None:
        reason = "activity_execution_missing"
    elif run is None:
        reason = "workflow_run_missing"
    elif run["status"] in ("cancelled", "terminated"):
        tx.update(
            "activity_attempts", "id", attempt_id, {"status": "cancelled", "closed_at": tx.stamp}
        )
        return 200, {
            **base,
            "cancel_requested": True,
            "reason": "run_cancelled" if run["status"] == "cancelled" else "run_terminated",
            "run_closed_reason": run["closed_reason"],
            "run_closed_at": run["closed_at"],
        }
    elif is_terminal(run["status"]):
        reason = "run_closed"
        base.update(run_closed_reason=run["closed_reason"], run_closed_at=run["closed_at"])
    elif execution["status"] != "running":
        reason = "activity_not_running"
    elif execution["current_attempt_id"] != attempt_id:
        reason = "stale_attempt"
    elif task["status"] != "leased":
        reason = "task_not_leased"
    if reason is not None:
        return 200, {**base, "reason": reason}
    assert execution is not None and run is not None
    expires = fmt_z(tx.now + timedelta(seconds=cfg.activity_lease_seconds))
    tx.update(
        "activity_attempts",
        "id",
        attempt_id,
        {"lease_expires_at": expires, "last_heartbeat_at": tx.stamp},
    )
    tx.update("tasks", "id", task_id, {"lease_expires_at": expires, "updated_at": tx.stamp})
    tx.update("activity_executions", "id", execution["id"], {"last_heartbeat_at": tx.stamp})
    payload: dict[str, Any] = {
        **common_keys(execution),
        "activity_attempt_id": attempt_id,
        "attempt_number": attempt["attempt_number"],
        "heartbeat_at": tx.stamp,
        "lease_expires_at": expires,
        "activity_attempt": {
            "id": attempt_id,
            "attempt_number": attempt["attempt_number"],
            "status": "running",
            "task_id": task_id,
            "lease_owner": owner,
            "last_heartbeat_at": tx.stamp,
            "lease_expires_at": expires,
            "started_at": attempt["started_at"],
        },
    }
    if progress is not None:
        payload["progress"] = progress
    append_event(tx, run["run_id"], "ActivityHeartbeatRecorded", payload, task=task)
    tx.wakes.add(SCHEDULER_KEY)
    return 200, {
        **base,
        "can_continue": True,
        "heartbeat_recorded": True,
        "lease_expires_at": expires,
        "last_heartbeat_at": tx.stamp,
    }
