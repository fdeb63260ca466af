"""Failure events turned into the exceptions thrown into workflow code.

Only language-neutral fields cross over (upstream README, "Activity failure
payloads"): a Python workflow must not depend on a PHP class name, file path
or trace recorded by another runtime, unless the event carries an explicit
``diagnostics`` / ``runtime_diagnostics`` envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.errors import ActivityFailed, ChildWorkflowFailed
from durable_workflow.workflow._replay.history import Event

__all__ = ["activity_failure", "child_failure"]

_NEUTRAL_EXCEPTION_KEYS = (
    "type",
    "message",
    "code",
    "details",
    "details_payload_codec",
    "non_retryable",
    "diagnostics",
    "runtime_diagnostics",
)
_NEUTRAL_ACTIVITY_KEYS = ("id", "type", "sequence", "status", "attempt_count")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def activity_failure(event: Event, activity_type: str | None) -> ActivityFailed:
    """``ActivityFailed`` for an ``ActivityFailed`` or ``ActivityTimedOut`` event."""
    payload = event.payload
    exception = _mapping(payload.get("exception"))
    timed_out = event.event_type == "ActivityTimedOut"
    message = payload.get("message") or exception.get("message")
    if not message:
        kind = payload.get("timeout_kind")
        message = f"activity timed out ({kind})" if timed_out and kind else "activity failed"
    snapshot = _mapping(payload.get("activity"))
    return ActivityFailed(
        str(message),
        activity_type=payload.get("activity_type") or activity_type,
        activity_execution_id=payload.get("activity_execution_id"),
        activity_attempt_id=payload.get("activity_attempt_id"),
        failure_id=payload.get("failure_id"),
        failure_category=payload.get("failure_category") or ("timeout" if timed_out else None),
        exception_type=payload.get("exception_type") or exception.get("type"),
        exception_class=payload.get("exception_class") or exception.get("class"),
        non_retryable=bool(payload.get("non_retryable") or exception.get("non_retryable")),
        code=payload.get("code", exception.get("code")),
        exception_payload={k: exception[k] for k in _NEUTRAL_EXCEPTION_KEYS if k in exception}
        or None,
        activity={k: snapshot[k] for k in _NEUTRAL_ACTIVITY_KEYS if k in snapshot} or None,
    )


def child_failure(event: Event) -> ChildWorkflowFailed:
    """``ChildWorkflowFailed`` for a failed, cancelled or terminated child run."""
    payload = event.payload
    exception = _mapping(payload.get("exception"))
    default = {
        "ChildRunCancelled": "child workflow was cancelled",
        "ChildRunTerminated": "child workflow was terminated",
    }.get(event.event_type, "child workflow failed")
    message = payload.get("message") or exception.get("message") or default
    exception_type = payload.get("exception_type") or exception.get("type")
    category = payload.get("failure_category") or {
        "ChildRunCancelled": "cancelled",
        "ChildRunTerminated": "terminated",
    }.get(event.event_type)
    return ChildWorkflowFailed(
        str(message),
        # Upstream fills exception_class with the neutral type first; kept for drop-in.
        exception_class=exception_type or payload.get("exception_class"),
        workflow_type=payload.get("child_workflow_type"),
        child_workflow_id=payload.get("child_workflow_instance_id"),
        child_run_id=payload.get("child_workflow_run_id"),
        failure_id=payload.get("failure_id"),
        failure_category=category,
        exception_type=exception_type,
        non_retryable=bool(payload.get("non_retryable") or exception.get("non_retryable")),
        code=payload.get("code", exception.get("code")),
        exception_payload={k: exception[k] for k in _NEUTRAL_EXCEPTION_KEYS if k in exception}
        or None,
    )
