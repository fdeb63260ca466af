"""The ``control_plane`` response block of workflow operation paths (control-plane.md §1.7).

These lists are protocol data that ``contracts/manifest.json`` does not carry
yet; they live here once and are also published in cluster info.
"""

from __future__ import annotations

from typing import Any

from durable_workflow._generated import manifest

PROJECTED_FIELDS: tuple[str, ...] = (
    "run_id", "workflow_type", "namespace", "business_key", "status", "status_bucket",
    "is_terminal", "task_queue", "run_number", "run_count", "workflow_count", "is_current_run",
    "compatibility", "started_at", "closed_at", "last_progress_at", "wait_kind", "wait_reason",
    "next_page_token", "command_id", "command_status", "command_source", "target_scope",
    "outcome", "reason", "rejection_reason", "validation_errors", "result", "result_envelope",
    "update_id", "update_status", "wait_for", "wait_timed_out", "wait_timeout_seconds",
    "blocked_reason", "message", "diagnostic_status",
)  # fmt: skip

_NAMED = {"signal": "signal_name", "query": "query_name", "update": "update_name"}
_REQUIRED: dict[str, list[str]] = {
    "list": [],
    "start": [],
    "history": ["workflow_id", "run_id"],
    **{op: ["workflow_id", "operation_name", "operation_name_field"] for op in _NAMED},
}
_SUCCESS: dict[str, list[str]] = {
    "start": ["workflow_id", "outcome"],
    "describe_run": ["run_id"],
    "debug_workflow": ["run_id", "diagnostic_status"],
    "history": ["next_page_token"],
    "signal": ["outcome"],
    "update": ["outcome"],
    "query": ["result"],
    **{op: ["outcome"] for op in ("cancel", "terminate", "repair", "archive")},
}
OPERATIONS: tuple[str, ...] = (
    "list", "start", "describe", "list_runs", "describe_run", "debug_workflow", "history",
    "signal", "query", "update", "cancel", "terminate", "repair", "archive",
)  # fmt: skip

# Generated operation name -> control_plane.operation.
OPERATION_FOR: dict[str, str] = {
    "workflow.list": "list",
    "workflow.start": "start",
    "workflow.describe": "describe",
    "workflow.list_runs": "list_runs",
    "workflow.show_run": "describe_run",
    "workflow.debug": "debug_workflow",
    "workflow.debug_run": "debug_workflow",
    "workflow.history": "history",
    "workflow.signal": "signal",
    "workflow.signal_run": "signal",
    "workflow.query": "query",
    "workflow.query_run": "query",
    "workflow.update": "update",
    "workflow.update_run": "update",
    "workflow.cancel": "cancel",
    "workflow.cancel_run": "cancel",
    "workflow.terminate": "terminate",
    "workflow.terminate_run": "terminate",
    "workflow.repair": "repair",
    "workflow.archive": "archive",
}


def contract_ref() -> dict[str, Any]:
    return {
        "schema": manifest.CONTROL_PLANE_RESPONSE_CONTRACT_SCHEMA,
        "version": manifest.CONTROL_PLANE_RESPONSE_CONTRACT_VERSION,
        "legacy_field_policy": "reject_non_canonical",
        "legacy_fields": {
            "query": "query_name",
            "signal": "signal_name",
            "update": "update_name",
            "wait_policy": "wait_for",
        },
    }


def operation_spec(operation: str) -> dict[str, Any]:
    required = _REQUIRED.get(operation, ["workflow_id"])
    return {
        "operation_name_field": _NAMED.get(operation),
        "required_fields": required,
        "success_fields": _SUCCESS.get(operation, []),
    }


def attach(body: dict[str, Any], operation: str, path_params: dict[str, str]) -> dict[str, Any]:
    """Add ``workflow_id``/``run_id`` if absent and the ``control_plane`` block."""
    out = dict(body)
    if "workflowId" in path_params:
        out.setdefault("workflow_id", path_params["workflowId"])
    if "runId" in path_params:
        out.setdefault("run_id", path_params["runId"])
    spec = operation_spec(operation)
    block: dict[str, Any] = {
        "schema": manifest.CONTROL_PLANE_RESPONSE_SCHEMA,
        "version": manifest.CONTROL_PLANE_RESPONSE_VERSION,
        "operation": operation,
        "workflow_id": out.get("workflow_id"),
    }
    name_field = spec["operation_name_field"]
    if name_field is not None:
        for param in ("signalName", "queryName", "updateName"):
            if param in path_params:
                block["operation_name"] = path_params[param]
        block["operation_name_field"] = name_field
    block["contract"] = {
        **contract_ref(),
        "required_fields": spec["required_fields"],
        "success_fields": spec["success_fields"],
    }
    for key in PROJECTED_FIELDS:
        if key in out:
            block[key] = out[key]
    out["control_plane"] = block
    return out
