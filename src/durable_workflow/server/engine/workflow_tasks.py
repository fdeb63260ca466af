"""Workflow tasks: claim, ownership guard, history pages, heartbeat, complete, fail.

Behaviour follows worker-protocol.md §9 and §12. Functions run inside one
:class:`Tx`; ones whose rejection must still commit a change (lease-expiry
recovery) return ``(status, body)`` instead of raising.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any, cast

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import (
    activities,
    structural_limits,
    update_follow_up,
    updates,
    workers,
)
from durable_workflow.server.engine import commands as cmds
from durable_workflow.server.engine.effects import apply_commands
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import verify_reference
from durable_workflow.server.engine.history import (
    append_event,
    decode_token,
    encode_token,
    read_page,
    worker_event,
)
from durable_workflow.server.engine.payload_codec import wire_envelope
from durable_workflow.server.engine.runs import is_terminal
from durable_workflow.server.engine.signals import follow_up_after_completion
from durable_workflow.server.engine.workers import PollingWorker
from durable_workflow.server.store.candidates import ready_tasks
from durable_workflow.server.store.leases import release_task
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import fmt_z, parse
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, dumps, loads, queue_key
from durable_workflow.server.store.ulid import new_ulid

RESUME_KEYS = (
    "workflow_wait_kind",
    "open_wait_id",
    "resume_source_kind",
    "resume_source_id",
    "workflow_update_id",
    "workflow_signal_id",
    "signal_name",
    "signal_wait_id",
    "workflow_command_id",
    "activity_execution_id",
    "activity_attempt_id",
    "activity_type",
    "child_call_id",
    "child_workflow_run_id",
    "workflow_sequence",
    "workflow_event_type",
    "timer_id",
    "condition_wait_id",
    "condition_key",
    "condition_definition_fingerprint",
)

# Stored in the task payload at claim: the last history sequence the worker was given.
SEEN_SEQUENCE_KEY = "_claimed_history_sequence"


def _page_size(value: Any, cfg: ServerConfig) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return min(value, cfg.history_page_size_max)
    return cfg.history_page_size_default


def _history_fields(tx: Tx, run_id: str, after: int, size: int) -> dict[str, Any]:
    rows, more = read_page(tx, run_id, after, size)
    token = encode_token(rows[-1]["sequence"]) if more and rows else None
    return {"history_events": [worker_event(r) for r in rows], "next_history_page_token": token}


def task_object(tx: Tx, task: TaskRow, run: WorkflowRunRow, size: int) -> dict[str, Any]:
    """The poll's workflow task object (worker-protocol.md §9.1)."""
    context = loads(task["payload"]) or {}
    codec = run["payload_codec"]
    body: dict[str, Any] = {
        "task_id": task["id"],
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_task_attempt": task["attempt_count"],
        "workflow_type": run["workflow_type"],
        "payload_codec": codec,
        "arguments": wire_envelope(codec, run["arguments"]),
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
    }
    history = _history_fields(tx, run["run_id"], 0, size)
    body["history_events"] = history["history_events"]
    body["total_history_events"] = run["last_history_sequence"]
    body["next_history_page_token"] = history["next_history_page_token"]
    body.update(
        {
            "task_queue": task["queue"],
            "connection": None,
            "compatibility": task["compatibility"],
            "lease_owner": task["lease_owner"],
            "lease_expires_at": task["lease_expires_at"],
        }
    )
    for key in RESUME_KEYS:
        body[key] = context.get(key)
    return body


def claim(
    tx: Tx, cfg: ServerConfig, worker: PollingWorker, page_size: Any = None
) -> dict[str, Any] | None:
    """Lease the first claimable workflow task of the worker's queue, or None."""
    found = _claim_once(tx, cfg, worker, page_size)
    if found is None and recover_expired(tx, worker["namespace"], worker["task_queue"]):
        found = _claim_once(tx, cfg, worker, page_size)
    return found


def _claim_once(
    tx: Tx, cfg: ServerConfig, worker: PollingWorker, page_size: Any
) -> dict[str, Any] | None:
    horizon = fmt_z(tx.now + timedelta(seconds=1))
    for task in ready_tasks(tx, worker["namespace"], worker["task_queue"], "workflow", horizon):
        run = get_run(tx, task["run_id"])
        if run is None or run["namespace"] != worker["namespace"]:
            continue
        if is_terminal(run["status"]):
            tx.update("tasks", "id", task["id"], {"status": "cancelled", "updated_at": tx.stamp})
            continue
        if task["compatibility"] and task["compatibility"] != worker["build_id"]:
            continue
        types = worker["supported_workflow_types"]
        if types and run["workflow_type"] not in types:
            continue
        if _run_busy(tx, task):
            continue
        expires = fmt_z(tx.now + timedelta(seconds=cfg.workflow_lease_seconds))
        context = loads(task["payload"]) or {}
        context[SEEN_SEQUENCE_KEY] = run["last_history_sequence"]
        changes = {
            "payload": dumps(context),
            "status": "leased",
            "lease_owner": worker["worker_id"],
            "leased_at": tx.stamp,
            "lease_expires_at": expires,
            "attempt_count": task["attempt_count"] + 1,
            "updated_at": tx.stamp,
        }
        tx.update_row("tasks", task, changes)
        tx.wake_scheduler(expires)
        return task_object(tx, task, run, _page_size(page_size, cfg))
    return None


def _run_busy(tx: Tx, task: TaskRow) -> bool:
    """True while another workflow task of the same run is leased: one decider at a time."""
    return (
        tx.one(
            # "+" keeps the planner on tasks_run (this run's rows), not tasks_lease (every
            # leased task of the server).
            "SELECT 1 FROM tasks WHERE run_id = ? AND task_type = 'workflow' AND id != ?"
            " AND status = 'leased' AND +lease_expires_at > ?",
            (task["run_id"], task["id"], tx.stamp),
        )
        is not None
    )


def _wake_queue(tx: Tx, task: TaskRow) -> None:
    """A finished task may unblock a ready sibling held back by :func:`_run_busy`."""
    tx.wakes.add(queue_key(task["namespace"], task["queue"]))


def recover_expired(tx: Tx, namespace: str, queue: str, limit: int = 5) -> int:
    """Put expired workflow-task leases of a queue back to ready (with RepairRequested)."""
    rows = tx.all(
        "SELECT * FROM tasks WHERE namespace = ? AND queue = ? AND task_type = 'workflow'"
        " AND status = 'leased' AND lease_expires_at <= ? ORDER BY lease_expires_at LIMIT ?",
        (namespace, queue, tx.stamp, limit),
        row=TaskRow,
    )
    for task in rows:
        repair_task(tx, task, record=True)
    return len(rows)


def repair_task(tx: Tx, task: TaskRow, *, record: bool) -> None:
    release_task(tx, task)
    run = get_run(tx, task["run_id"])
    if not record or run is None:
        return
    command_id = new_ulid()
    tx.insert(
        "workflow_commands",
        {
            "id": command_id,
            "namespace": run["namespace"],
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "type": "repair",
            "payload_codec": None,
            "payload": None,
            "status": "accepted",
            "outcome": "repair_dispatched",
            "rejection_reason": None,
            "created_at": tx.stamp,
        },
    )
    append_event(
        tx,
        run["run_id"],
        "RepairRequested",
        {
            "workflow_command_id": command_id,
            "workflow_instance_id": run["workflow_id"],
            "workflow_run_id": run["run_id"],
            "command_type": "repair",
            "outcome": "repair_dispatched",
            "liveness_state": "workflow_task_lease_expired",
            "wait_kind": None,
            "task_id": task["id"],
            "task_type": "workflow",
        },
        command_id=command_id,
    )


def _stop_reason(status: str) -> str:
    return {
        "cancelled": "run_cancelled",
        "terminated": "run_terminated",
        "completed": "run_completed",
        "failed": "run_failed",
    }.get(status, "run_closed")


def guard(
    tx: Tx, namespace: str, task_id: str, lease_owner: str, attempt: int
) -> tuple[TaskRow, WorkflowRunRow] | EngineError:
    """The ownership guard of worker-protocol.md §12.2, in its documented order."""
    task = tx.one(
        "SELECT * FROM tasks WHERE id = ? AND namespace = ? AND task_type = 'workflow'",
        (task_id, namespace),
        row=TaskRow,
    )
    if task is None:
        return EngineError(
            404,
            {
                "reason": "task_not_found",
                "error": f"Workflow task [{task_id}] was not found.",
                "task_id": task_id,
                "workflow_task_attempt": attempt,
            },
        )
    run = get_run(tx, task["run_id"])
    assert run is not None
    leased = task["status"] == "leased" and task["lease_owner"] and task["lease_expires_at"]
    if not leased and is_terminal(run["status"]):
        cancelled = run["status"] in ("cancelled", "terminated")
        return EngineError(
            409,
            {
                "reason": "run_closed",
                "error": "The workflow run is closed.",
                "stop_reason": _stop_reason(run["status"]),
                "cancel_requested": cancelled,
                "can_continue": False,
                "run_status": run["status"],
                "run_closed_reason": run["closed_reason"],
                "run_closed_at": run["closed_at"],
                "task_status": task["status"],
                "lease_owner": task["lease_owner"],
                "lease_expires_at": task["lease_expires_at"],
            },
        )
    if not leased:
        return EngineError(
            409, {"reason": "task_not_leased", "error": "The workflow task is not leased."}
        )
    if parse(cast(str, task["lease_expires_at"])) <= tx.now:  # ``leased`` checked it
        expired_body = {
            "reason": "lease_expired",
            "error": "The workflow task lease has expired.",
            "task_status": "leased",
            "lease_owner": task["lease_owner"],
            "lease_expires_at": task["lease_expires_at"],
        }
        repair_task(tx, task, record=True)
        return EngineError(409, expired_body)
    if task["lease_owner"] != lease_owner:
        return EngineError(
            409,
            {
                "reason": "lease_owner_mismatch",
                "error": "The workflow task is leased by another worker.",
                "lease_owner": task["lease_owner"],
            },
        )
    if task["attempt_count"] != attempt:
        return EngineError(
            409,
            {
                "reason": "workflow_task_attempt_mismatch",
                "error": "The workflow task attempt does not match the current attempt.",
                "current_attempt": task["attempt_count"],
            },
        )
    return task, run


def _owner_fields(body: dict[str, Any]) -> tuple[str, int]:
    errors: dict[str, list[str]] = {}
    owner = body.get("lease_owner")
    attempt = body.get("workflow_task_attempt")
    if not isinstance(owner, str) or not owner:
        errors["lease_owner"] = ["The lease owner field is required."]
    if attempt is None:
        errors["workflow_task_attempt"] = ["The workflow task attempt field is required."]
    elif not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        errors["workflow_task_attempt"] = [
            "The workflow task attempt field must be an integer of at least 1."
        ]
    if errors:
        raise ValidationFailed(errors)
    return str(owner), int(attempt)  # type: ignore[arg-type]


def history(
    tx: Tx, cfg: ServerConfig, namespace: str, task_id: str, body: dict[str, Any]
) -> Outcome:
    owner, attempt = _owner_fields(body)
    token = body.get("next_history_page_token")
    if not isinstance(token, str) or not token:
        raise ValidationFailed(
            {"next_history_page_token": ["The next history page token field is required."]}
        )
    checked = guard(tx, namespace, task_id, owner, attempt)
    if isinstance(checked, EngineError):
        return checked.status, checked.body
    _, run = checked
    after = decode_token(token)
    if after is None:
        return 400, {
            "reason": "invalid_page_token",
            "error": "The history page token is invalid.",
            "task_id": task_id,
        }
    page = _history_fields(tx, run["run_id"], after, _page_size(body.get("history_page_size"), cfg))
    return 200, {
        "task_id": task_id,
        "workflow_task_attempt": attempt,
        "history_events": page["history_events"],
        "total_history_events": run["last_history_sequence"],
        "next_history_page_token": page["next_history_page_token"],
    }


def heartbeat(
    tx: Tx, cfg: ServerConfig, namespace: str, task_id: str, body: dict[str, Any]
) -> Outcome:
    owner, attempt = _owner_fields(body)
    base: dict[str, Any] = {
        "task_id": task_id,
        "workflow_task_attempt": attempt,
        "lease_owner": None,
        "renewed": False,
        "lease_expires_at": None,
        "run_status": None,
        "task_status": None,
        "reason": None,
    }
    checked = guard(tx, namespace, task_id, owner, attempt)
    if isinstance(checked, EngineError):
        return checked.status, {**base, **checked.body}
    _, run = checked
    expires = fmt_z(tx.now + timedelta(seconds=cfg.workflow_lease_seconds))
    tx.update("tasks", "id", task_id, {"lease_expires_at": expires, "updated_at": tx.stamp})
    tx.wakes.add(SCHEDULER_KEY)
    return 200, {
        **base,
        "lease_owner": owner,
        "renewed": True,
        "lease_expires_at": expires,
        "run_status": run["status"],
        "task_status": "leased",
    }


def complete(
    tx: Tx, cfg: ServerConfig, namespace: str, task_id: str, body: dict[str, Any]
) -> Outcome:
    owner, attempt = _owner_fields(body)
    validated = cmds.validate_commands(body.get("commands"))
    eager_slots = requested_slots(body, EAGER_ACTIVITY_SLOTS)
    base: dict[str, Any] = {
        "task_id": task_id,
        "workflow_task_attempt": attempt,
        "outcome": "completed",
        "recorded": False,
        "run_id": None,
        "run_status": None,
        "created_task_ids": [],
        "reason": None,
    }
    checked = guard(tx, namespace, task_id, owner, attempt)
    if isinstance(checked, EngineError):
        return checked.status, {**base, **checked.body}
    task, run = checked
    _wake_queue(tx, task)
    normalised = cmds.normalise_commands(validated, partial(verify_reference, tx, namespace))
    base["run_id"] = run["run_id"]
    base["run_status"] = run["status"]
    if is_terminal(run["status"]):
        tx.update("tasks", "id", task_id, {"status": "completed", "updated_at": tx.stamp})
        return 409, {**base, "reason": "run_already_closed"}
    exceeded = structural_limits.check_commands(tx, cfg, run["run_id"], normalised)
    if exceeded is not None:
        return 422, {**base, "outcome": "rejected", **exceeded.fields()}
    normalised = update_follow_up.without_repeated_open(tx, task, run["run_id"], normalised)
    applied = apply_commands(tx, cfg, task, run, normalised)
    if applied.rejection is not None:
        return 409, {**base, "reason": "invalid_commands", "error": applied.rejection}
    if applied.run_status == "waiting":
        seen = (loads(task["payload"]) or {}).get(SEEN_SEQUENCE_KEY, 0)
        follow_up_after_completion(tx, run, int(seen))
        if any(c["type"] in updates.UPDATE_COMMANDS for c in normalised):
            update_follow_up.create(tx, run)
    answer = {
        **base,
        "recorded": True,
        "run_status": applied.run_status,
        "created_task_ids": applied.created_task_ids,
    }
    if eager_slots is not None:
        answer[EAGER_ACTIVITY_TASKS] = _eager_activities(
            tx, cfg, namespace, owner, task, applied.created_task_ids, eager_slots
        )
    return 200, answer


# The ``eager_activity_dispatch`` extension (generation 1 only, docs/compat.md): a
# completion asking for up to N activity tasks gets those it just scheduled on the
# completing worker's queue, leased to that worker, in the response.
EAGER_ACTIVITY_SLOTS = "eager_activity_slots"
EAGER_ACTIVITY_TASKS = "eager_activity_tasks"


def requested_slots(body: dict[str, Any], field: str) -> int | None:
    """How many tasks of an eager extension's ``field`` the worker asks for; None when it
    does not ask. Anything but an integer >= 0 is refused, naming the field."""
    if field not in body:
        return None
    slots = body[field]
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
        raise ValidationFailed({field: [f"The {field} field must be an integer >= 0."]})
    return slots


def _eager_activities(
    tx: Tx,
    cfg: ServerConfig,
    namespace: str,
    owner: str,
    task: TaskRow,
    created: list[str],
    slots: int,
) -> list[dict[str, Any]]:
    queue = task["queue"]
    if slots < 1 or not created or not queue:
        return []
    try:
        worker = workers.poll_worker(tx, namespace, owner, queue, None)
    except EngineError:  # not a registered worker of this queue: it polls as before
        return []
    return activities.lease_eagerly(tx, cfg, worker, created, slots)


def fail(tx: Tx, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
    owner, attempt = _owner_fields(body)
    failure = body.get("failure")
    if not isinstance(failure, dict):
        raise ValidationFailed({"failure": ["The failure field is required."]})
    message = failure.get("message")
    if not isinstance(message, str) or not message:
        raise ValidationFailed({"failure.message": ["The failure.message field is required."]})
    base: dict[str, Any] = {
        "task_id": task_id,
        "workflow_task_attempt": attempt,
        "outcome": "failed",
        "recorded": False,
        "reason": None,
        "next_task_id": None,
    }
    checked = guard(tx, namespace, task_id, owner, attempt)
    if isinstance(checked, EngineError):
        return checked.status, {**base, **checked.body}
    task, run = checked
    _wake_queue(tx, task)
    tx.update(
        "tasks",
        "id",
        task_id,
        {"status": "failed", "last_error": message, "updated_at": tx.stamp},
    )
    # run_status is not in upstream's answer (worker-protocol §9.7); the fixture has it
    return 200, {**base, "recorded": True, "run_status": run["status"]}


def redeliver(
    tx: Tx, cfg: ServerConfig, namespace: str, delivered: dict[str, Any], page_size: Any = None
) -> dict[str, Any] | None:
    """A cached poll result again, if still leased to that worker at that attempt (§9.2)."""
    task = tx.one(
        "SELECT * FROM tasks WHERE id = ? AND namespace = ? AND task_type = 'workflow'",
        (delivered["task_id"], namespace),
        row=TaskRow,
    )
    if (
        task is None
        or task["status"] != "leased"
        or task["lease_owner"] != delivered["lease_owner"]
        or task["attempt_count"] != delivered["workflow_task_attempt"]
        or task["lease_expires_at"] is None
        or parse(task["lease_expires_at"]) <= tx.now
    ):
        return None
    run = get_run(tx, task["run_id"])
    return None if run is None else task_object(tx, task, run, _page_size(page_size, cfg))
