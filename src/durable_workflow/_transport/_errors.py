"""HTTP status + ``reason`` -> typed SDK exception (upstream's ``_raise_for_status`` table).

Kept as one pure function so every caller (client methods, the worker, the
generated operation stubs) maps errors identically, and so each row of the
table in sdk-surface.md §4.2 can be unit-tested without a server.
"""

from __future__ import annotations

from typing import Any

from durable_workflow import errors

__all__ = ["error_for_status", "error_message"]

_QUERY_404 = frozenset({"query_not_found", "rejected_unknown_query"})
_WORKFLOW_404 = frozenset({"instance_not_found", "workflow_not_found"})
_QUERY_409 = frozenset(
    {
        "query_rejected",
        "query_worker_unavailable",
        "query_worker_incompatible",
        "query_workflow_state_unavailable",
    }
)
# A validator refused the update (``update_validator_rejected``: 2.x servers, pre-accept).
_UPDATE_REJECTED = frozenset({"update_rejected", "update_validator_rejected"})
_QUERY_504 = frozenset(
    {"query_worker_timeout", "query_worker_execution_timeout", "query_task_not_claimed"}
)


def error_message(status: int, body: object) -> str:
    """The human text of an error body (``message``, else ``error``), else a generic one."""
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    if isinstance(body, str) and body:
        return body
    return f"server returned {status}"


def _reason(body: object) -> str | None:
    if isinstance(body, dict):
        value = body.get("reason")
        return value if isinstance(value, str) else None
    return None


def _control_plane_operation(body: object) -> str | None:
    if not isinstance(body, dict):
        return None
    block = body.get("control_plane")
    if isinstance(block, dict) and isinstance(block.get("operation"), str):
        return str(block["operation"])
    value = body.get("control_plane_operation")
    return value if isinstance(value, str) else None


def _validation_errors(body: object) -> dict[str, Any] | None:
    if isinstance(body, dict):
        for key in ("errors", "validation_errors"):
            value = body.get(key)
            if isinstance(value, dict):
                return value
    return None


def error_for_status(status: int, body: object, context: str = "") -> errors.DurableWorkflowError:
    """Build the exception for a non-2xx answer.

    ``context`` is the workflow id, schedule id or name the calling method was
    given; upstream uses it both as the error's subject and (quirk) to turn any
    404 whose context mentions "workflow" into ``WorkflowNotFound``.
    """
    reason = _reason(body)
    message = error_message(status, body)

    def operation_failed(cls: type[errors._OperationFailed]) -> errors.DurableWorkflowError:
        return cls(message, reason=reason, status=status, body=body)

    if status == 401:
        return errors.Unauthorized(message)
    if status == 404:
        if reason == "unknown_signal":
            return operation_failed(errors.SignalFailed)
        if reason in _QUERY_404:
            return operation_failed(errors.QueryFailed)
        if reason == "schedule_not_found":
            return errors.ScheduleNotFound(context)
        if reason in _WORKFLOW_404 or "workflow" in context.lower():
            return errors.WorkflowNotFound(context)
        if reason == "namespace_not_found":
            return errors.NamespaceNotFound(message)
        return errors.ServerError(status, body)
    if status == 409:
        if reason == "schedule_already_exists":
            return errors.ScheduleAlreadyExists(context)
        if reason == "duplicate_not_allowed":
            return errors.WorkflowAlreadyStarted(context)
        if reason == "run_not_active":
            operation = _control_plane_operation(body)
            if operation == "signal":
                return operation_failed(errors.SignalFailed)
            if operation == "query":
                return operation_failed(errors.QueryFailed)
        if reason in _QUERY_409:
            return operation_failed(errors.QueryFailed)
        if reason in _UPDATE_REJECTED:
            return errors.UpdateRejected(message)
        return errors.ServerError(status, body)
    if status == 429 and reason == "long_poll_capacity_exhausted":
        return errors.LongPollCapacityExhausted(status, body)
    if status == 504 and reason in _QUERY_504:
        return operation_failed(errors.QueryFailed)
    if status == 422:
        if reason == "update_validator_rejected":
            return errors.UpdateRejected(message)
        if reason == "invalid_signal_arguments":
            return operation_failed(errors.SignalFailed)
        if reason == "invalid_query_arguments":
            return operation_failed(errors.QueryFailed)
        return errors.ServerValidationFailed(
            message, _validation_errors(body), status=status, reason=reason, body=body
        )
    return errors.ServerError(status, body)
