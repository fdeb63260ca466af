"""The generation-2 profile: 2.x versions and capabilities, spec and codec checks, routes."""

from __future__ import annotations

from typing import Any

from durable_workflow._spec_validation import SpecError, find_operation, validate_request
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.http.gen2 import capabilities, routes
from durable_workflow.server.http.gen2.cluster_info import cluster_info
from durable_workflow.server.http.gen2.deviations import normalized_request
from durable_workflow.server.http.gen2.payloads import payload_error
from durable_workflow.server.http.profile import Profile


def _validation_failed(errors: list[SpecError]) -> Outcome:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        if error.keyword == "required":
            message = f"The {error.field} field is required."
        else:
            message = f"The {error.field} field is invalid: {error.message}."
        by_field.setdefault(error.field, []).append(message)
    first = errors[0].field
    return 422, {
        "message": by_field[first][0],
        "reason": "validation_failed",
        "field": first,
        "errors": by_field,
        "validation_errors": by_field,
    }


def request_error(method: str, path: str, body: Any) -> Outcome | None:
    """The vendored request schema first (422 ``validation_failed``), then the payload codec."""
    operation = find_operation(method, path)
    if operation is not None:
        errors = validate_request(operation, normalized_request(operation.operation_id, body))
        if errors:
            return _validation_failed(errors)
    return payload_error(body)


def generation_2(config: ServerConfig) -> Profile:
    return Profile(
        generation=2,
        worker_protocol_version=capabilities.advertised_version(),
        accepted_worker_versions=capabilities.accepted_versions(),
        capabilities=capabilities.server_capabilities(config),
        cluster_info=cluster_info,
        request_error=request_error,
        extra_operations=routes.EXTRA_OPERATIONS,
        handlers=routes.HANDLERS,
    )
