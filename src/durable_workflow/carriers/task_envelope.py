"""Build the activity input envelope (contracts.md §3) from a leased worker-protocol task.

Each envelope field has a documented ``source`` in the activity task; this
module is that mapping, and it re-parses its own output so the carrier can
never emit an envelope the contract (and the endpoint) would reject.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.external_task_input import (
    EXTERNAL_TASK_INPUT_SCHEMA,
    EXTERNAL_TASK_INPUT_VERSION,
    parse_external_task_input,
)

__all__ = ["activity_input_envelope"]

_DEADLINES = ("schedule_to_start", "start_to_close", "schedule_to_close", "heartbeat")


def activity_input_envelope(task: Mapping[str, Any]) -> dict[str, Any]:
    """The ``activity_task`` input envelope for one polled activity task."""
    task_id = str(task["task_id"])
    attempt_id = str(task["activity_attempt_id"])
    deadlines = task.get("deadlines") or {}
    identity: dict[str, Any] = {
        "id": task_id,
        "kind": "activity_task",
        "attempt": task.get("attempt_number", 1),
        "activity_attempt_id": attempt_id,
        "task_queue": task.get("task_queue"),
        "handler": task.get("activity_type"),
        "connection": task.get("connection"),
        "idempotency_key": attempt_id,
    }
    if isinstance(task.get("external_executor"), Mapping):
        identity["external_executor"] = task["external_executor"]
    headers = task.get("headers")
    envelope = {
        "schema": EXTERNAL_TASK_INPUT_SCHEMA,
        "version": EXTERNAL_TASK_INPUT_VERSION,
        "task": identity,
        "workflow": {"id": task.get("workflow_id"), "run_id": task.get("run_id")},
        "lease": {
            "owner": task.get("lease_owner"),
            "expires_at": task.get("lease_expires_at"),
            "heartbeat_endpoint": f"/api/worker/activity-tasks/{task_id}/heartbeat",
        },
        "payloads": {"arguments": task.get("arguments")},
        "deadlines": {name: deadlines.get(name) for name in _DEADLINES},
        "headers": dict(headers) if isinstance(headers, Mapping) else {},
    }
    parse_external_task_input(envelope)
    return envelope
