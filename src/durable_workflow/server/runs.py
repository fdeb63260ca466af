"""Workflow instances and runs: start with duplicate policy, read views.

Start semantics follow engine-semantics.md §3 and control-plane.md §7.2:
201 ``started_new``, 200 ``returned_existing_active``, 409
``rejected_duplicate`` (plus, as an advertised extension, ``reason:
duplicate_not_allowed`` so the SDK raises ``WorkflowAlreadyStarted``).
"""

from __future__ import annotations

import re
from typing import Any

from durable_workflow.server.errors import EngineError, ValidationFailed, not_found
from durable_workflow.server.history import append_event, encode_token
from durable_workflow.server.payload_codec import (
    AVRO,
    encode_avro,
    is_external_envelope,
    is_inline_envelope,
    try_decode,
)
from durable_workflow.server.timefmt import fmt_z, offset_from_stored, plus_seconds
from durable_workflow.server.tx import Tx, drop_nulls, dumps, loads, queue_key
from durable_workflow.server.ulid import new_ulid

OPEN_STATUSES = ("pending", "running", "waiting")
TERMINAL_STATUSES = ("completed", "failed", "cancelled", "terminated")

_WORKFLOW_ID = re.compile(r"^[a-zA-Z0-9._:-]+$")
_SEARCH_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
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
                if not key or len(key.encode("utf-8")) > 128 or not _SEARCH_KEY.match(key):
                    add("search_attributes", f"Search attribute key [{key}] is invalid.")
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if isinstance(item, str) and len(item.encode("utf-8")) > 2048:
                        add("search_attributes", f"Search attribute [{key}] value is too long.")
    raw_input = body.get("input")
    if raw_input is not None and not isinstance(raw_input, list):
        if is_external_envelope(raw_input):
            add("input", "External payload references require an external storage driver.")
        elif not is_inline_envelope(raw_input) or not isinstance(raw_input.get("blob"), str):
            add("input", "The input must be an array of arguments or a payload envelope.")
    for key in _REJECTED_START_FIELDS:
        if key in body:
            add(key, f"The {key} field is not supported; remove it from the request.")
    if errors:
        raise ValidationFailed(errors)


def _encode_input(raw_input: Any) -> tuple[str, str]:
    if is_inline_envelope(raw_input):
        return str(raw_input["codec"]), str(raw_input["blob"])
    return AVRO, encode_avro(raw_input if isinstance(raw_input, list) else [])


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
    run: dict[str, Any], command: dict[str, Any], body: dict[str, Any]
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


def start_workflow(
    tx: Tx, namespace: str, body: dict[str, Any], *, max_memo_bytes: int
) -> tuple[int, dict[str, Any]]:
    """Start (or deduplicate) a workflow; returns the HTTP status and body."""
    validate_start(body, max_memo_bytes)
    wf_type = str(body["workflow_type"])
    workflow_id = body.get("workflow_id") or new_ulid()
    codec, blob = _encode_input(body.get("input"))
    instance = tx.one("SELECT * FROM workflow_instances WHERE workflow_id = ?", (workflow_id,))
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
        current = tx.one(
            "SELECT * FROM workflow_runs WHERE run_id = ?", (instance["current_run_id"],)
        )
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


def _start_response(run: dict[str, Any], namespace: str, outcome: str) -> dict[str, Any]:
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
) -> dict[str, Any]:
    """Insert the next run of an instance and make it current."""
    instance = tx.one("SELECT * FROM workflow_instances WHERE workflow_id = ?", (workflow_id,))
    assert instance is not None
    run_number = int(instance["run_count"]) + 1
    if execution_deadline_at is None and execution_timeout:
        execution_deadline_at = fmt_z(plus_seconds(tx.now, execution_timeout))
    run = {
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
    tx.run(
        "UPDATE workflow_instances SET current_run_id = ?, run_count = ? WHERE workflow_id = ?",
        (run["run_id"], run_number, workflow_id),
    )
    return run


def create_workflow_task(tx: Tx, run: dict[str, Any], context: dict[str, Any]) -> str:
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


def find_instance_run(tx: Tx, namespace: str, workflow_id: str) -> dict[str, Any]:
    """The current (highest run_number) run of an instance, or 404 instance_not_found."""
    run = tx.one(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND namespace = ?"
        " ORDER BY run_number DESC LIMIT 1",
        (workflow_id, namespace),
    )
    if run is None:
        raise not_found("instance_not_found", "Workflow not found.", workflow_id=workflow_id)
    return run


def find_run(tx: Tx, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
    run = tx.one(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND run_id = ? AND namespace = ?",
        (workflow_id, run_id, namespace),
    )
    if run is None:
        raise not_found(
            "run_not_found", "Workflow run not found.", workflow_id=workflow_id, run_id=run_id
        )
    return run


def _json_or_empty(text: str | None) -> Any:
    value = loads(text)
    return value if value else []


def run_view(tx: Tx, run: dict[str, Any]) -> dict[str, Any]:
    """The describe body shared by describe and describe-run (control-plane §7.3)."""
    instance = tx.one(
        "SELECT current_run_id, run_count FROM workflow_instances WHERE workflow_id = ?",
        (run["workflow_id"],),
    )
    terminal = is_terminal(run["status"])
    codec = run["payload_codec"]
    decoded_input = try_decode(codec, run["arguments"])
    wait_kind = None
    if not terminal:
        wait_kind = _wait_kind(tx, run["run_id"])
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "workflow_type": run["workflow_type"],
        "business_key": run["business_key"],
        "status": run["status"],
        "status_bucket": status_bucket(run["status"]),
        "is_terminal": terminal,
        "closed_reason": run["closed_reason"],
        "task_queue": run["task_queue"],
        "run_number": run["run_number"],
        "run_count": None if instance is None else instance["run_count"],
        "is_current_run": None if instance is None else instance["current_run_id"] == run["run_id"],
        "compatibility": run["compatibility"],
        "payload_codec": codec,
        "execution_timeout_seconds": run["execution_timeout_seconds"],
        "run_timeout_seconds": run["run_timeout_seconds"],
        "execution_deadline_at": offset_from_stored(run["execution_deadline_at"]),
        "run_deadline_at": offset_from_stored(run["run_deadline_at"]),
        "input": decoded_input if isinstance(decoded_input, list) else [],
        "output": try_decode(codec, run["output"]),
        "input_envelope": None
        if run["arguments"] is None
        else {"codec": codec, "blob": run["arguments"]},
        "output_envelope": None
        if run["output"] is None
        else {"codec": codec, "blob": run["output"]},
        "started_at": run["started_at"],
        "closed_at": run["closed_at"],
        "last_progress_at": offset_from_stored(run["last_progress_at"]),
        "wait_kind": wait_kind,
        "wait_reason": None,
        "memo": _json_or_empty(run["memo"]),
        "search_attributes": _json_or_empty(run["search_attributes"]),
        "actions": {
            "can_signal": False,
            "can_query": False,
            "can_update": False,
            "can_cancel": False,
            "can_terminate": False,
            "can_repair": False,
            "can_archive": False,
        },
    }


def _wait_kind(tx: Tx, run_id: str) -> str | None:
    if tx.one(
        "SELECT 1 FROM activity_executions WHERE run_id = ? AND status IN ('pending','running')",
        (run_id,),
    ):
        return "activity"
    if tx.one("SELECT 1 FROM timers WHERE run_id = ? AND status = 'pending'", (run_id,)):
        return "timer"
    return None


def list_runs(tx: Tx, namespace: str, workflow_id: str) -> dict[str, Any]:
    find_instance_run(tx, namespace, workflow_id)
    rows = tx.all(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND namespace = ? ORDER BY run_number",
        (workflow_id, namespace),
    )
    return {
        "workflow_id": workflow_id,
        "run_count": len(rows),
        "runs": [
            {
                "run_id": r["run_id"],
                "run_number": r["run_number"],
                "workflow_type": r["workflow_type"],
                "business_key": r["business_key"],
                "status": r["status"],
                "task_queue": r["task_queue"],
                "started_at": r["started_at"],
                "closed_at": r["closed_at"],
            }
            for r in rows
        ],
    }


_BUCKET_STATUSES = {
    "running": ("pending", "running", "waiting"),
    "completed": ("completed",),
    "failed": ("failed", "cancelled", "terminated"),
}


def list_workflows(
    tx: Tx,
    namespace: str,
    *,
    workflow_type: str | None,
    status: str | None,
    query: str | None,
    page_size: int,
    offset: int,
) -> dict[str, Any]:
    """Run summaries of the namespace, newest first (control-plane.md §7.1)."""
    sql = "SELECT * FROM workflow_runs WHERE namespace = ?"
    params: list[Any] = [namespace]
    if workflow_type:
        sql += " AND workflow_type = ?"
        params.append(workflow_type)
    if status:
        statuses = _BUCKET_STATUSES[status]
        sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params.extend(statuses)
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += " AND (workflow_id LIKE ? ESCAPE '\\' OR business_key LIKE ? ESCAPE '\\')"
        params.extend([like, like])
    sql += " ORDER BY started_at DESC, run_id DESC LIMIT ? OFFSET ?"
    params.extend([page_size + 1, offset])
    rows = tx.all(sql, tuple(params))
    page = rows[:page_size]
    items = [
        {
            "workflow_id": r["workflow_id"],
            "run_id": r["run_id"],
            "workflow_type": r["workflow_type"],
            "business_key": r["business_key"],
            "status": r["status"],
            "status_bucket": status_bucket(r["status"]),
            "task_queue": r["task_queue"],
            "is_terminal": is_terminal(r["status"]),
            "started_at": r["started_at"],
            "closed_at": r["closed_at"],
            "search_attributes": _json_or_empty(r["search_attributes"]),
        }
        for r in page
    ]
    more = len(rows) > page_size
    return {
        "workflows": items,
        "workflow_count": len(items),
        "next_page_token": encode_token(offset + page_size) if more else None,
    }
