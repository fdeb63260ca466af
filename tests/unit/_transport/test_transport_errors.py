"""Every row of sdk-surface.md §4.2: HTTP status + reason -> typed exception."""

from __future__ import annotations

from typing import Any

import pytest

from durable_workflow import errors
from durable_workflow._transport import error_for_status, error_message


def body(reason: str | None, message: str = "server says no", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"message": message, **extra}
    if reason is not None:
        data["reason"] = reason
    return data


@pytest.mark.parametrize(
    ("status", "reason", "context", "expected"),
    [
        (401, "unauthorized", "", errors.Unauthorized),
        (401, None, "wf-1", errors.Unauthorized),
        (404, "unknown_signal", "wf-1", errors.SignalFailed),
        (404, "query_not_found", "wf-1", errors.QueryFailed),
        (404, "rejected_unknown_query", "wf-1", errors.QueryFailed),
        (404, "schedule_not_found", "sched-1", errors.ScheduleNotFound),
        (404, "instance_not_found", "order-1", errors.WorkflowNotFound),
        (404, "workflow_not_found", "order-1", errors.WorkflowNotFound),
        (404, "run_not_found", "my-workflow-1", errors.WorkflowNotFound),
        (404, "namespace_not_found", "order-1", errors.NamespaceNotFound),
        (404, "run_not_found", "order-1", errors.ServerError),
        (404, "not_found", "", errors.ServerError),
        (409, "schedule_already_exists", "", errors.ScheduleAlreadyExists),
        (409, "duplicate_not_allowed", "order-1", errors.WorkflowAlreadyStarted),
        (409, "query_rejected", "order-1", errors.QueryFailed),
        (409, "query_worker_unavailable", "order-1", errors.QueryFailed),
        (409, "query_worker_incompatible", "order-1", errors.QueryFailed),
        (409, "query_workflow_state_unavailable", "order-1", errors.QueryFailed),
        (409, "update_rejected", "order-1", errors.UpdateRejected),
        (409, "update_validator_rejected", "order-1", errors.UpdateRejected),  # 2.x
        (422, "update_validator_rejected", "order-1", errors.UpdateRejected),  # 2.x
        (409, None, "order-1", errors.ServerError),
        (409, "run_not_active", "order-1", errors.ServerError),
        (504, "query_worker_timeout", "order-1", errors.QueryFailed),
        (504, "query_worker_execution_timeout", "order-1", errors.QueryFailed),
        (504, "query_task_not_claimed", "order-1", errors.QueryFailed),
        (504, None, "order-1", errors.ServerError),
        (422, "invalid_signal_arguments", "order-1", errors.SignalFailed),
        (422, "invalid_query_arguments", "order-1", errors.QueryFailed),
        (422, "validation_failed", "order-1", errors.ServerValidationFailed),  # an InvalidArgument
        (400, "unsupported_control_plane_version", "", errors.ServerError),
        (403, "forbidden", "", errors.ServerError),
        (405, "method_not_allowed", "", errors.ServerError),
        (413, "payload_too_large", "", errors.ServerError),
        (415, "unsupported_media_type", "", errors.ServerError),
        (429, "query_task_queue_full", "", errors.ServerError),
        (429, "long_poll_capacity_exhausted", "", errors.LongPollCapacityExhausted),
        (500, None, "", errors.ServerError),
        (503, None, "", errors.ServerError),
    ],
)
def test_status_and_reason_map_to_the_upstream_exception(
    status: int, reason: str | None, context: str, expected: type[BaseException]
) -> None:
    error = error_for_status(status, body(reason), context)
    assert type(error) is expected


def test_run_not_active_is_split_by_control_plane_operation() -> None:
    signal = body("run_not_active", control_plane={"operation": "signal"})
    query = body("run_not_active", control_plane_operation="query")
    assert isinstance(error_for_status(409, signal, "wf"), errors.SignalFailed)
    assert isinstance(error_for_status(409, query, "wf"), errors.QueryFailed)


def test_subjects_and_attributes() -> None:
    not_found = error_for_status(404, body("instance_not_found"), "order-7")
    assert isinstance(not_found, errors.WorkflowNotFound)
    assert not_found.workflow_id == "order-7"

    namespace = error_for_status(404, body("namespace_not_found", "Namespace [x] not found."))
    assert isinstance(namespace, errors.NamespaceNotFound)
    assert namespace.namespace == "Namespace [x] not found."  # upstream quirk

    schedule = error_for_status(404, body("schedule_not_found"), "nightly")
    assert isinstance(schedule, errors.ScheduleNotFound) and schedule.schedule_id == "nightly"

    started = error_for_status(409, body("duplicate_not_allowed"), "order-7")
    assert isinstance(started, errors.WorkflowAlreadyStarted) and started.workflow_id == "order-7"

    query = error_for_status(504, body("query_worker_timeout", "timed out"), "order-7")
    assert isinstance(query, errors.QueryFailed)
    assert (query.reason, query.status, str(query)) == ("query_worker_timeout", 504, "timed out")

    server = error_for_status(503, {"reason": "busy"})
    assert isinstance(server, errors.ServerError)
    assert server.status == 503 and server.reason() == "busy"


def test_invalid_argument_carries_validation_errors() -> None:
    fields = {"workflow_type": ["The workflow type field is required."]}
    only_validation = body("validation_failed", validation_errors=fields)
    error = error_for_status(422, only_validation)
    assert isinstance(error, errors.InvalidArgument)
    assert error.errors == fields
    assert str(error) == "server says no"
    both = error_for_status(422, body("validation_failed", errors=fields, validation_errors={}))
    assert isinstance(both, errors.InvalidArgument) and both.errors == fields


def test_non_json_bodies_are_passed_as_text() -> None:
    error = error_for_status(502, "<html>bad gateway</html>")
    assert isinstance(error, errors.ServerError)
    assert error.body == "<html>bad gateway</html>"
    assert error_message(502, "") == "server returned 502"
    assert error_message(409, {"error": "lease expired"}) == "lease expired"
