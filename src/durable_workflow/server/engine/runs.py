"""Workflow instances and runs: start with duplicate policy, new runs and their first task.

Start semantics follow engine-semantics.md §3 and control-plane.md §7.2:
201 ``started_new``, 200 ``returned_existing_active``, 409
``rejected_duplicate`` (plus, as an advertised extension, ``reason:
duplicate_not_allowed`` so the SDK raises ``WorkflowAlreadyStarted``).
"""

from __future__ import annotations

import re
from typing import Any

from durable_workflow._generated import manifest
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import accept_payload
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import (
    AVRO,
    encode_payload,
    is_external_envelope,
    is_inline_envelope,
)
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import NewWorkflowRun, WorkflowInstanceRow
from durable_workflow.server.store.timefmt import fmt_z, offset_from_stored, plus_seconds
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, drop_nulls, dumps, queue_key
from durable_workflow.server.store.ulid import new_ulid

OPEN_STATUSES = ("pending", "running", "waiting")
TERMINAL_STATUSES = ("completed", "failed", "cancelled", "terminated")

_WORKFLOW_ID = re.compile(r"^[a-zA-Z0-9._:-]+$")
_SEARCH_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
_KEY_BYTES = manifest.MAX_SEARCH_ATTRIBUTE_KEY_LENGTH
_VALUE_BYTES = manifest.MAX_SEARCH_ATTRIBUTE_VALUE_BYTES
_REJECTED_START_FIELDS = (
    "workflow_execution_timeout",
    "workflow_run_timeout",
    "workflow_task_timeout",
    "retry_policy",
    "idempotency_key",
    "request_id",
)
DUPLICATE_NOT_ALLOWED = "duplicate_not_allowed"


def status_bucket(status: str) -> str:
    if status == "completed":
        return "completed"
    if status in ("failed", "cancelled", "terminated"):
        return "failed"
    return "running"


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


def _field(name: str) -> str:
    return name.replace("_", " ")


def validate_start(body: dict[str, Any], max_memo_bytes: int) -> None:
    """Semantic checks of a start request (types are checked by the HTTP model too)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    wf_type = body.get("workflow_type")
    if not isinstance(wf_type, str) or not wf_type.strip():
        add("workflow_type", "The workflow type field is required.")
    elif len(wf_type) > 255:
        add("workflow_type", "The workflow type field must not be greater than 255 characters.")
    wf_id = body.get("workflow_id")
    if wf_id is not None:
        if not isinstance(wf_id, str):
            add("workflow_id", "The workflow id field must be a string.")
        elif len(wf_id) > 128:
            add("workflow_id", "The workflow id field must not be greater than 128 characters.")
        elif not _WORKFLOW_ID.match(wf_id):
            add("workflow_id", "The workflow id field format is invalid.")
    for key, limit in (("task_queue", 255), ("business_key", 255)):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            add(key, f"The {_field(key)} field must be a string.")
        elif isinstance(value, str) and len(value) > limit:
            add(key, f"The {_field(key)} field must not be greater than {limit} characters.")
    policy = body.get("duplicate_policy")
    if policy is not None and policy not in ("fail", "use-existing"):
        add("duplicate_policy", "The duplicate_policy field only supports fail or use-existing.")
    for key in ("execution_timeout_seconds", "run_timeout_seconds"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            add(key, f"The {_field(key)} field must be an integer.")
        elif isinstance(value, int) and value < 1:
            add(key, f"The {_field(key)} field must be at least 1.")
    memo = body.get("memo")
    if memo is not None:
        if not isinstance(memo, dict):
            add("memo", "The memo field must be an object.")
        elif len(dumps(memo).encode("utf-8")) > max_memo_bytes:
            add("memo", f"The memo field must not exceed {max_memo_bytes} bytes.")
    attributes = body.get("search_attributes")
    if attributes is not None:
        if not isinstance(attributes, dict):
            add("search_attributes", "The search attributes field must be an object.")
        else:
            for key, value in attributes.items():
                if not key or len(key.encode("utf-8")) > _KEY_BYTES or not _SEARCH_KEY.match(key):
                    add("search_attributes", f"Search attribute key [{key}] is invalid.")
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if isinstance(item, str) and len(item.encode("utf-8")) > _VALUE_BYTES:
                        add("search_attributes", f"Search attribute [{key}] value is too long.")
    raw_input = body.get("input")
    if raw_input is not None and not isinstance(raw_input, list):
        inline = is_inline_envelope(raw_input) and isinstance(raw_input.get("blob"), str)
        if not inline and not is_external_envelope(raw_input):
            add("input", "The input must be an array of arguments or a payload envelope.")
    for key in _REJECTED_START_FIELDS:
        if key in body:
            add(key, f"The {key} field is not supported; remove it from the request.")
    if errors:
        raise ValidationFailed(errors)


def _encode_input(tx: Tx, namespace: str, raw_input: Any) -> tuple[str, str]:
    marker = accept_payload(tx, namespace, "input", raw_input)
    if marker is not None:
        return str(raw_input["codec"]), marker
    if is_inline_envelope(raw_input):
        return str(raw_input["codec"]), str(raw_input["blob"])
    return AVRO, encode_payload(tx, raw_input if isinstance(raw_input, list) else [])


def _command_snapshot(command: dict[str, Any]) -> dict[str, Any]:
    return drop_nulls(
        {
            "id": command["id"],
            "type": command["type"],
            "target_scope": "instance",
            "resolved_run_id": command["run_id"],
            "payload_codec": command["payload_codec"],
            "payload": command["payload"],
            "source": "control_plane",
            "request_method": "POST",
            "request_path": "api/workflows",
            "status": command["status"],
            "outcome": command["outcome"],
            "rejection_reason": command["rejection_reason"],
            "accepted_at": command["created_at"] if command["status"] == "accepted" else None,
            "rejected_at": command["created_at"] if command["status"] == "rejected" else None,
        }
    )


def _record_command(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    run_id: str,
    codec: str,
    blob: str,
    outcome: str,
    rejection: str | None,
) -> dict[str, Any]:
    command = {
        "id": new_ulid(),
        "namespace": namespace,
        "workflow_id": workflow_id,
        "run_id": run_id,
        "type": "start",
        "payload_codec": codec,
        "payload": blob,
        "status": "rejected" if rejection else "accepted",
        "outcome": outcome,
        "rejection_reason": rejection,
        "created_at": tx.stamp,
    }
    tx.insert("workflow_commands", command)
    return command


def _start_event_payload(
    run: NewWorkflowRun, command: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "workflow_command_id": command["id"],
        "workflow_instance_id": run["workflow_id"],
        "workflow_run_id": run["run_id"],
        "workflow_class": body.get("workflow_type", run["workflow_type"]),
        "workflow_type": body.get("workflow_type", run["workflow_type"]),
        "business_key": body.get("business_key"),
        "visibility_labels": None,
        "memo": body.get("memo"),
        "search_attributes": body.get("search_attributes"),
        "outcome": command["outcome"],
        "rejection_reason": command["rejection_reason"],
        "command": _command_snapshot(command),
    }


def start_workflow(tx: Tx, namespace: str, body: dict[str, Any], *, max_memo_bytes: int) -> Outcome:
    """Start (or deduplicate) a workflow; returns the HTTP status and body."""
    validate_start(body, max_memo_bytes)
    wf_type = str(body["workflow_type"])
    workflow_id = body.get("workflow_id") or new_ulid()
    codec, blob = _encode_input(tx, namespace, body.get("input"))
    instance = tx.one(
        "SELECT * FROM workflow_instances WHERE workflow_id = ?",
        (workflow_id,),
        row=WorkflowInstanceRow,
    )
    if instance is not None and instance["namespace"] != namespace:
        raise EngineError(
            409,
            {
                "message": f"Workflow id [{workflow_id}] is reserved in another namespace.",
                "reason": "workflow_id_reserved_in_namespace",
                "workflow_id": workflow_id,
            },
        )
    if instance is not None and instance["workflow_type"] != wf_type:
        raise ValidationFailed(
            {
                "workflow_type": [
                    f"Workflow id [{workflow_id}] already belongs to workflow type "
                    f"[{instance['workflow_type']}]."
                ]
            }
        )
    current = None
    if instance is not None and instance["current_run_id"]:
        current = get_run(tx, instance["current_run_id"])
    if current is not None:
        reuse = body.get("duplicate_policy") == "use-existing" and not is_terminal(
            current["status"]
        )
        outcome = "returned_existing_active" if reuse else "rejected_duplicate"
        rejection = None if reuse else "instance_already_started"
        command = _record_command(
            tx, namespace, workflow_id, current["run_id"], codec, blob, outcome, rejection
        )
        append_event(
            tx,
            current["run_id"],
            "StartAccepted" if reuse else "StartRejected",
            _start_event_payload(current, command, body),
            command_id=command["id"],
        )
        response = _start_response(current, namespace, outcome)
        if reuse:
            return 200, response
        response["reason"] = DUPLICATE_NOT_ALLOWED
        response["message"] = f"Workflow [{workflow_id}] has already been started."
        return 409, response

    if instance is None:
        tx.insert(
            "workflow_instances",
            {
                "workflow_id": workflow_id,
                "namespace": namespace,
                "workflow_type": wf_type,
                "current_run_id": None,
                "run_count": 0,
                "created_at": tx.stamp,
            },
        )
    run = create_run(
        tx,
        namespace=namespace,
        workflow_id=workflow_id,
        workflow_type=wf_type,
        task_queue=body.get("task_queue"),
        codec=codec,
        arguments=blob,
        business_key=body.get("business_key"),
        memo=body.get("memo"),
        search_attributes=body.get("search_attributes"),
        execution_timeout=body.get("execution_timeout_seconds"),
        run_timeout=body.get("run_timeout_seconds"),
    )
    command = _record_command(
        tx, namespace, workflow_id, run["run_id"], codec, blob, "started_new", None
    )
    append_event(
        tx,
        run["run_id"],
        "StartAccepted",
        _start_event_payload(run, command, body),
        command_id=command["id"],
    )
    started = drop_nulls(
        {
            "workflow_class": wf_type,
            "workflow_type": wf_type,
            "workflow_instance_id": workflow_id,
            "workflow_run_id": run["run_id"],
            "workflow_command_id": command["id"],
            "business_key": body.get("business_key"),
            "memo": body.get("memo"),
            "search_attributes": body.get("search_attributes"),
            "execution_timeout_seconds": body.get("execution_timeout_seconds"),
            "run_timeout_seconds": body.get("run_timeout_seconds"),
            "execution_deadline_at": offset_from_stored(run["execution_deadline_at"]),
            "run_deadline_at": offset_from_stored(run["run_deadline_at"]),
            "timestamp": run["started_at"],
            "command": _command_snapshot(command),
        }
    )
    append_event(tx, run["run_id"], "WorkflowStarted", started, command_id=command["id"])
    create_workflow_task(tx, run, {})
    return 201, _start_response(run, namespace, "started_new")


def _start_response(run: NewWorkflowRun, namespace: str, outcome: str) -> dict[str, Any]:
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_type": run["workflow_type"],
        "namespace": namespace,
        "status": run["status"],
        "business_key": run["business_key"],
        "payload_codec": run["payload_codec"],
        "outcome": outcome,
    }


def create_run(
    tx: Tx,
    *,
    namespace: str,
    workflow_id: str,
    workflow_type: str,
    task_queue: str | None,
    codec: str,
    arguments: str | None,
    business_key: str | None = None,
    memo: Any = None,
    search_attributes: Any = None,
    execution_timeout: int | None = None,
    run_timeout: int | None = None,
    execution_deadline_at: str | None = None,
    continued_from_run_id: str | None = None,
) -> NewWorkflowRun:
    """Insert the next run of an instance and make it current."""
    instance = tx.one(
        "SELECT * FROM workflow_instances WHERE workflow_id = ?",
        (workflow_id,),
        row=WorkflowInstanceRow,
    )
    assert instance is not None
    run_number = int(instance["run_count"]) + 1
    if execution_deadline_at is None and execution_timeout:
        execution_deadline_at = fmt_z(plus_seconds(tx.now, execution_timeout))
    run: NewWorkflowRun = {
        "run_id": new_ulid(),
        "workflow_id": workflow_id,
        "namespace": namespace,
        "run_number": run_number,
        "workflow_type": workflow_type,
        "business_key": business_key,
        "status": "pending",
        "closed_reason": None,
        "task_queue": task_queue,
        "compatibility": None,
        "payload_codec": codec,
        "arguments": arguments,
        "output": None,
        "memo": None if memo is None else dumps(memo),
        "search_attributes": None if search_attributes is None else dumps(search_attributes),
        "execution_timeout_seconds": execution_timeout,
        "run_timeout_seconds": run_timeout,
        "execution_deadline_at": execution_deadline_at,
        "run_deadline_at": fmt_z(plus_seconds(tx.now, run_timeout)) if run_timeout else None,
        "last_history_sequence": 0,
        "continued_from_run_id": continued_from_run_id,
        "started_at": tx.stamp,
        "closed_at": None,
        "last_progress_at": tx.stamp,
        "updated_at": tx.stamp,
    }
    tx.insert("workflow_runs", run)
    if run["run_deadline_at"] or run["execution_deadline_at"]:
        tx.wakes.add(SCHEDULER_KEY)  # the scheduler sleeps until the earliest deadline
    tx.run(
        "UPDATE workflow_instances SET current_run_id = ?, run_count = ? WHERE workflow_id = ?",
        (run["run_id"], run_number, workflow_id),
    )
    return run


def has_open_workflow_task(tx: Tx, run_id: str) -> bool:
    """Whether the run has a workflow task that is ready or leased."""
    return (
        tx.one(
            "SELECT 1 FROM tasks WHERE run_id = ? AND task_type = 'workflow'"
            " AND status IN ('ready', 'leased')",
            (run_id,),
        )
        is not None
    )


def create_workflow_task(tx: Tx, run: NewWorkflowRun, context: dict[str, Any]) -> str:
    """A ready workflow task on the run's queue; ``context`` is its resume context."""
    task_id = new_ulid()
    tx.insert(
        "tasks",
        {
            "id": task_id,
            "namespace": run["namespace"],
            "run_id": run["run_id"],
            "task_type": "workflow",
            "status": "ready",
            "queue": run["task_queue"],
            "compatibility": run["compatibility"],
            "available_at": tx.stamp,
            "attempt_count": 0,
            "repair_count": 0,
            "payload": dumps(context),
            "created_at": tx.stamp,
            "updated_at": tx.stamp,
        },
    )
    tx.wakes.add(queue_key(run["namespace"], run["task_queue"]))
    return task_id
