"""The ``control_plane`` response block of workflow operation paths (control-plane.md §1.7).

Its rules are protocol data in ``contracts/published/control-plane-response.json``,
generated into ``manifest.CONTROL_PLANE_RESPONSE_CONTRACT``; this module only
applies them (and publishes them in cluster info).
"""

from __future__ import annotations

from typing import Any

from durable_workflow._generated import manifest

_RULES = manifest.CONTROL_PLANE_RESPONSE_CONTRACT
PROJECTED_FIELDS: tuple[str, ...] = tuple(_RULES["projected_fields"])
OPERATIONS: tuple[str, ...] = tuple(_RULES["operations"])
# Generated operation name -> control_plane.operation.
OPERATION_FOR: dict[str, str] = dict(_RULES["operation_for"])


def contract_ref() -> dict[str, Any]:
    return {
        "schema": manifest.CONTROL_PLANE_RESPONSE_CONTRACT_SCHEMA,
        "version": manifest.CONTROL_PLANE_RESPONSE_CONTRACT_VERSION,
        "legacy_field_policy": _RULES["legacy_field_policy"],
        "legacy_fields": dict(_RULES["legacy_fields"]),
    }


def operation_spec(operation: str) -> dict[str, Any]:
    spec = _RULES["operations"][operation]
    return {
        "operation_name_field": spec["operation_name_field"],
        "required_fields": list(spec["required_fields"]),
        "success_fields": list(spec["success_fields"]),
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
