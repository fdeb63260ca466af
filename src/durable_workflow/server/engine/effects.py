"""Applying a validated command list to a run (worker-protocol.md §9.5.1).

Non-terminal commands are applied first in list order, each with step
number ``s0 + 1 + k`` where ``s0`` is the run's last history sequence before
the completion (history-events.md §2.2); the terminal command goes last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import children, conditions, updates
from durable_workflow.server.engine.activities import schedule_activity
from durable_workflow.server.engine.commands import TERMINAL_COMMANDS
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.runs import create_run, create_workflow_task
from durable_workflow.server.engine.timers import schedule_timer
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, dumps, loads
from durable_workflow.server.store.ulid import new_ulid

_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass
class Applied:
    run_status: str
    created_task_ids: list[str] = field(default_factory=list)
    rejection: str | None = None


def _normalise_attributes(attributes: dict[str, Any]) -> dict[str, Any] | str:
    """Trimmed attribute map (None = delete) or the rejection message."""
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if not _ATTRIBUTE_KEY.match(str(key)):
            return f"Search attribute key [{key}] is invalid."
        if isinstance(value, (dict, list)):
            return f"Search attribute [{key}] must be a scalar value."
        if isinstance(value, str):
            value = value.strip()
            if len(value) > 191:
                return f"Search attribute [{key}] must not exceed 191 characters."
            if value == "":
                value = None
        clean[str(key)] = value
    return dict(sorted(clean.items()))


def _precheck(commands: list[dict[str, Any]]) -> str | None:
    if sum(1 for c in commands if c["type"] in TERMINAL_COMMANDS) > 1:
        return "A workflow task may complete with at most one terminal command."
    for command in commands:
        if command["type"] == "record_version_marker":
            low, high, version = (
                command["min_supported"],
                command["max_supported"],
                command["version"],
            )
            if low > high:
                return "Version marker min_supported must not exceed max_supported."
            if not low <= version <= high:
                return f"Version marker version [{version}] is outside [{low}, {high}]."
        if command["type"] == "upsert_search_attributes":
            result = _normalise_attributes(command["attributes"])
            if isinstance(result, str):
                return result
    return None


def _close_run(tx: Tx, run: WorkflowRunRow, status: str, reason: str, output: str | None) -> None:
    tx.update(
        "workflow_runs",
        "run_id",
        run["run_id"],
        {
            "status": status,
            "closed_reason": reason,
            "output": output,
            "closed_at": tx.stamp,
            "last_progress_at": tx.stamp,
            "updated_at": tx.stamp,
        },
    )
    tx.run(
        "UPDATE tasks SET status = 'cancelled', updated_at = ? WHERE run_id = ?"
        " AND task_type = 'workflow' AND status = 'ready'",
        (tx.stamp, run["run_id"]),
    )


def apply_commands(
    tx: Tx,
    cfg: ServerConfig,
    task: TaskRow,
    run: WorkflowRunRow,
    commands: list[dict[str, Any]],
) -> Applied:
    """Apply all commands of one completion; a rejection changes nothing."""
    rejection = _precheck(commands) or updates.check_update_commands(tx, run["run_id"], commands)
    if rejection is not None:
        return Applied(run["status"], rejection=rejection)
    created: list[str] = []
    step = int(run["last_history_sequence"])
    run_id = run["run_id"]
    conditions.satisfy_on_signal(tx, task, run, commands)
    for command in commands:
        ctype = command["type"]
        if ctype in TERMINAL_COMMANDS:
            continue
        step += 1
        if ctype == "schedule_activity":
            created.append(schedule_activity(tx, task, run, command, step))
        elif ctype == "start_timer":
            created.append(schedule_timer(tx, task, run, int(command["delay_seconds"]), step))
        elif ctype == "open_condition_wait":
            timer_task = conditions.open_wait(tx, task, run, command, step)
            if timer_task is not None:
                created.append(timer_task)
        elif ctype == "start_child_workflow":
            created.append(children.start_child(tx, task, run, command, step))
        elif ctype in updates.UPDATE_COMMANDS:
            updates.apply(tx, task, run, command, step)
        elif ctype == "record_side_effect":
            append_event(
                tx,
                run_id,
                "SideEffectRecorded",
                {"sequence": step, "result": command["result"]},
                task=task,
            )
        elif ctype == "record_version_marker":
            append_event(
                tx,
                run_id,
                "VersionMarkerRecorded",
                {
                    "sequence": step,
                    "change_id": command["change_id"],
                    "version": command["version"],
                    "min_supported": command["min_supported"],
                    "max_supported": command["max_supported"],
                },
                task=task,
            )
        elif ctype == "upsert_search_attributes":
            attributes = _normalise_attributes(command["attributes"])
            assert isinstance(attributes, dict)
            fresh = tx.one(
                "SELECT search_attributes FROM workflow_runs WHERE run_id = ?", (run_id,)
            )
            merged = dict(loads(fresh["search_attributes"] if fresh else None) or {})
            for key, value in attributes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            merged = dict(sorted(merged.items()))
            tx.update("workflow_runs", "run_id", run_id, {"search_attributes": dumps(merged)})
            append_event(
                tx,
                run_id,
                "SearchAttributesUpserted",
                {"sequence": step, "attributes": attributes, "merged": merged},
                task=task,
            )
    status = "waiting"
    for command in commands:
        if command["type"] == "complete_workflow":
            _close_run(tx, run, "completed", "completed", command["result"])
            append_event(tx, run_id, "WorkflowCompleted", {"output": command["result"]}, task=task)
            status = "completed"
            children.apply_parent_close_policy(tx, run, "completed")
            children.notify_parent(tx, run, "completed")
        elif command["type"] == "fail_workflow":
            _fail_run(tx, task, run, command)
            status = "failed"
            children.apply_parent_close_policy(tx, run, "failed")
            children.notify_parent(tx, run, "failed", command)
        elif command["type"] == "continue_as_new":
            created.append(_continue_as_new(tx, task, run, command, step + 1))
            status = "completed"
    if status == "waiting":
        tx.update(
            "workflow_runs",
            "run_id",
            run_id,
            {"status": "waiting", "last_progress_at": tx.stamp, "updated_at": tx.stamp},
        )
    tx.update("tasks", "id", task["id"], {"status": "completed", "updated_at": tx.stamp})
    return Applied(status, created)


def _fail_run(tx: Tx, task: TaskRow, run: WorkflowRunRow, command: dict[str, Any]) -> None:
    _close_run(tx, run, "failed", "failed", None)
    exception_class = command["exception_class"]
    append_event(
        tx,
        run["run_id"],
        "WorkflowFailed",
        {
            "failure_id": new_ulid(),
            "source_kind": "workflow_run",
            "source_id": run["run_id"],
            "failure_category": "application",
            "non_retryable": command["non_retryable"],
            "exception_type": command["exception_type"],
            "exception_class": exception_class,
            "message": command["message"],
            "exception": {
                "class": exception_class,
                "type": command["exception_type"],
                "message": command["message"],
                "code": 0,
                "file": "",
                "line": 0,
                "trace": [],
                "properties": [],
            },
        },
        task=task,
    )


def _continue_as_new(
    tx: Tx, task: TaskRow, run: WorkflowRunRow, command: dict[str, Any], step: int
) -> str:
    wf_type = command["workflow_type"] or run["workflow_type"]
    arguments = command["arguments"] if command["has_arguments"] else run["arguments"]
    new_run = create_run(
        tx,
        namespace=run["namespace"],
        workflow_id=run["workflow_id"],
        workflow_type=wf_type,
        task_queue=run["task_queue"],
        codec=run["payload_codec"],
        arguments=arguments,
        business_key=run["business_key"],
        memo=loads(run["memo"]),
        search_attributes=loads(run["search_attributes"]),
        execution_timeout=run["execution_timeout_seconds"],
        run_timeout=run["run_timeout_seconds"],
        execution_deadline_at=run["execution_deadline_at"],
        continued_from_run_id=run["run_id"],
    )
    link_id = new_ulid()
    _close_run(tx, run, "completed", "continued", None)
    append_event(
        tx,
        run["run_id"],
        "WorkflowContinuedAsNew",
        {
            "sequence": step,
            "continued_to_run_id": new_run["run_id"],
            "continued_to_run_number": new_run["run_number"],
            "workflow_link_id": link_id,
            "closed_reason": "continued",
        },
        task=task,
    )
    append_event(
        tx,
        new_run["run_id"],
        "WorkflowStarted",
        {
            "workflow_class": wf_type,
            "workflow_type": wf_type,
            "workflow_instance_id": run["workflow_id"],
            "workflow_run_id": new_run["run_id"],
            "continued_from_run_id": run["run_id"],
            "workflow_link_id": link_id,
            "timestamp": new_run["started_at"],
        },
    )
    return create_workflow_task(tx, new_run, {})
