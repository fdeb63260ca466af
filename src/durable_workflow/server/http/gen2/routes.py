"""Generation-2 operations: the extra routes and the handlers that differ from generation 1.

The extra operations are declared in the shape the router already uses
(``OperationSpec`` of the generation-1 layer: roles, version header, namespace),
with names and paths taken from the vendored 2.x catalog (``_generated.v2``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow._generated.operations import OperationSpec
from durable_workflow._generated.v2.operations import OPERATIONS as V2_OPERATIONS
from durable_workflow.server.engine import history_export as history_export_engine
from durable_workflow.server.engine import worker_registrations
from durable_workflow.server.engine.eager_workflow_tasks import WORKFLOW_TASK_SLOTS
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.engine.workflow_tasks import EAGER_ACTIVITY_SLOTS
from durable_workflow.server.http import worker_routes
from durable_workflow.server.http.control_routes import CONTROL_HANDLERS
from durable_workflow.server.http.gen2 import capabilities, schedule_routes, validation_routes
from durable_workflow.server.http.query_routes import QUERY_HANDLERS

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _worker_operation(operation_id: str) -> OperationSpec:
    """A 2.x worker-plane operation as the router sees it (worker role, version header)."""
    v2 = V2_OPERATIONS[operation_id]
    return OperationSpec(
        name=operation_id,
        plane="worker",
        method=v2.method,
        path=v2.path,
        path_params=v2.path_params,
        query_params=v2.query_params,
        request_model=None,
        response_model=None,
        success_statuses=v2.success_statuses,
        error_reasons=(),
        roles=("worker",),
        idempotent=v2.method != "POST",
        versioned=True,
        namespaced=True,
        ascii_only=False,
        self_validating=True,
        sdk_method=None,
        summary=v2.summary,
    )


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _requested_version(call: Call) -> str:
    return call.protocol_version or capabilities.advertised_version()


def _validators_without_tasks(body: dict[str, Any]) -> list[str]:
    """Workflow types declaring update validators when the worker cannot take validation tasks."""
    if "update_validation_tasks" in (body.get("capabilities") or []):
        return []
    contracts = body.get("workflow_command_contracts")
    if not isinstance(contracts, dict):
        return []
    return sorted(
        str(wf_type)
        for wf_type, contract in contracts.items()
        if isinstance(contract, dict) and contract.get("update_validators")
    )


async def register(call: Call) -> Outcome:
    unvalidated = _validators_without_tasks(_body(call))
    if unvalidated:
        # An update with a validator is accepted only after a worker approves it.
        return 409, {
            "error": "The worker declares update validators but not the "
            "update_validation_tasks capability that runs them.",
            "reason": "update_validation_capability_not_advertised",
            "registered": False,
            "workflow_types": unvalidated,
        }
    ack = call.server.engine.tx(
        worker_registrations.register, call.namespace, _body(call), _requested_version(call)
    )
    return 201, ack


async def deregister(call: Call) -> Outcome:
    worker_id = call.path_params["workerId"]
    return 200, call.server.engine.tx(worker_registrations.deregister, call.namespace, worker_id)


async def deregister_incarnation(call: Call) -> Outcome:
    worker_id = call.path_params["workerId"]
    token = str(_body(call).get("registration_token"))
    result = call.server.engine.tx(
        worker_registrations.deregister, call.namespace, worker_id, token
    )
    return 200, result


def _occurrence_identity_refusal(call: Call) -> Outcome | None:
    """A worker below 1.17 may not author ``condition_wait_occurrence_id`` (409, nothing kept)."""
    contract = capabilities.condition_wait_identity()
    minimum = contract["minimum_worker_protocol_version"]
    requested = _requested_version(call)
    if capabilities.version_at_least(requested, minimum):
        return None
    body = _body(call)
    commands = body.get("commands")
    authored = isinstance(commands, list) and any(
        isinstance(c, dict)
        and c.get("type") == contract["command_type"]
        and c.get(contract["command_field"]) is not None
        for c in commands
    )
    if not authored:
        return None
    return 409, {
        "error": f"Worker protocol {requested} cannot author {contract['command_field']}; "
        f"it needs {minimum} or newer.",
        "reason": "condition_wait_occurrence_identity_unavailable",
        "task_id": call.path_params["taskId"],
        "workflow_task_attempt": body.get("workflow_task_attempt"),
        "outcome": "rejected",
        "recorded": False,
        "requested_version": requested,
        "minimum_protocol_version": minimum,
        "command_type": contract["command_type"],
        "command_field": contract["command_field"],
    }


async def workflow_task_complete(call: Call) -> Outcome:
    refusal = _occurrence_identity_refusal(call)
    if refusal is not None:
        return refusal
    _drop_eager_fields(call)
    return await worker_routes.workflow_task_complete(call)


def _drop_eager_fields(call: Call) -> None:
    """Generation-1 extensions: the 2.x protocol has no eager dispatch, so ignore them."""
    if isinstance(call.body, dict):
        call.body.pop(EAGER_ACTIVITY_SLOTS, None)
        call.body.pop(WORKFLOW_TASK_SLOTS, None)


def _without_eager_fields(handler: Handler) -> Handler:
    async def plain(call: Call) -> Outcome:
        _drop_eager_fields(call)
        return await handler(call)

    return plain


def _accepted(name: str) -> Handler:
    """Cancel and terminate: the 2.x document answers 202 Accepted where 0.x answered 200."""
    handler = CONTROL_HANDLERS[name]

    async def close(call: Call) -> Outcome:
        status, body = await handler(call)
        return (202 if status == 200 else status), body

    return close


async def history_export(call: Call) -> Outcome:
    """The export bundle with empty memo/search-attribute maps as objects (2.x schema)."""
    params = call.path_params
    config = call.server.config
    return 200, call.server.engine.tx(
        history_export_engine.export_bundle,
        call.namespace,
        params["workflowId"],
        params["runId"],
        signing_key=config.export_signing_key,
        key_id=config.export_signing_key_id,
        empty_map={},
    )


async def activity_poll(call: Call) -> Outcome:
    """The generation-1 poll; a claimed task also names its attempt ``attempt`` (2.x)."""
    status, body = await worker_routes.activity_poll(call)
    task = body.get("task")
    if status == 200 and isinstance(task, dict) and "attempt_number" in task:
        body = {**body, "task": {**task, "attempt": task["attempt_number"]}}
    return status, body


POLL_RETRY_AFTER_SECONDS = 1


def _capacity(handler: Handler, task_kind: str, wait_pool: str) -> Handler:
    """Bound the polls one wait pool holds (``long_poll_capacity``); past it a typed 429."""

    async def guarded(call: Call) -> Outcome:
        limit = call.server.config.long_poll_capacity
        if limit is None:
            return await handler(call)
        held = call.server.held_polls
        if held.get(wait_pool, 0) >= limit:
            return 429, {
                "task": None,
                "poll_status": "long_poll_capacity_exhausted",
                "reason": "long_poll_capacity_exhausted",
                "error": f"This server already holds {limit} {wait_pool} long polls.",
                "namespace": call.namespace,
                "task_queue": str(_body(call).get("task_queue") or ""),
                "task_kind": task_kind,
                "wait_pool": wait_pool,
                "retry_after_seconds": POLL_RETRY_AFTER_SECONDS,
                "retryable": True,
            }
        held[wait_pool] = held.get(wait_pool, 0) + 1
        try:
            return await handler(call)
        finally:
            held[wait_pool] -= 1

    return guarded


EXTRA_OPERATIONS: tuple[OperationSpec, ...] = tuple(
    _worker_operation(name)
    for name in (
        "deregisterWorker",
        "deregisterWorkerIncarnation",
        "pollUpdateValidationTask",
        "approveUpdateValidationTask",
        "rejectUpdateValidationTask",
    )
)

# Handlers by operation name: the extra operations, and generation-1 names answered
# differently in generation 2.
HANDLERS: dict[str, Handler] = {
    "worker.register": register,
    "workflow-task.poll": _capacity(
        validation_routes.workflow_task_poll, "workflow_task", "worker"
    ),
    "workflow.update": validation_routes.workflow_update,
    "workflow.update_run": validation_routes.workflow_update,
    "pollUpdateValidationTask": _capacity(
        validation_routes.validation_poll, "update_validation_task", "worker"
    ),
    "approveUpdateValidationTask": validation_routes.approve,
    "rejectUpdateValidationTask": validation_routes.reject,
    "workflow-task.complete": workflow_task_complete,
    "activity.complete": _without_eager_fields(worker_routes.activity_complete),
    "activity.fail": _without_eager_fields(worker_routes.activity_fail),
    "activity.poll": _capacity(activity_poll, "activity_task", "worker"),
    "query-task.poll": _capacity(QUERY_HANDLERS["query-task.poll"], "query_task", "query"),
    "schedule.list": schedule_routes.schedule_list,
    "workflow.history_export": history_export,
    "schedule.delete": schedule_routes.schedule_delete,
    "workflow.cancel": _accepted("workflow.cancel"),
    "workflow.terminate": _accepted("workflow.terminate"),
    "deregisterWorker": deregister,
    "deregisterWorkerIncarnation": deregister_incarnation,
}
