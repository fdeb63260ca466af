"""Worker-plane calls only a 2.x server has, and the 2.x shapes of the shared ones.

A 2.x server takes the 0.x worker routes with a few more request fields (the vendored
``worker-protocol-api.openapi.yaml``: ``capability_manifest`` on registration,
``worker_id`` on task completions and failures, ``task_queues`` and ``timeout_seconds``
on polls) and adds update-validation tasks (pre-accept validators, polled together with
workflow tasks through ``task_kinds``) and graceful deregistration on the worker plane.
The names are upstream SDK 2.12.0's, so code written for it finds them here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from durable_workflow import errors
from durable_workflow._generated.v2.models import worker_protocol as _v2
from durable_workflow._transport._negotiation import literal_values
from durable_workflow.client import _client
from durable_workflow.client._calls import compact, require_dict

__all__ = [
    "LONG_POLL_SECONDS_MAX",
    "TASK_KINDS",
    "approve_update_validation_task",
    "capability_manifest",
    "deregister_worker_registration",
    "poll_timeouts",
    "poll_update_validation_task",
    "reject_update_validation_task",
]

#: The workflow-work kinds one multiplexed poll may lease (``WorkflowTaskPollRequest``).
TASK_KINDS: Final = ("workflow", "update_validation")
#: A 2.x server holds a poll at most this long (``timeout_seconds`` maximum).
LONG_POLL_SECONDS_MAX: Final = 60
# How much longer than the server's hold the HTTP request may take.
_POLL_GRACE_SECONDS = 5.0

# The protocol floor of the portable affinity features (PortableWorkerAffinityFailure).
_AFFINITY_FLOOR = literal_values(_v2.PortableWorkerAffinityFailure1, "minimum_protocol_version")[0]


def poll_timeouts(timeout: float) -> tuple[int, float]:
    """``(timeout_seconds for the server, HTTP timeout)`` for a long poll of ``timeout`` s."""
    if not math.isfinite(timeout) or timeout < 0:
        raise ValueError("poll timeout must be a non-negative finite number of seconds")
    seconds = min(math.ceil(timeout), LONG_POLL_SECONDS_MAX)
    return seconds, float(seconds) + _POLL_GRACE_SECONDS


def capability_manifest() -> dict[str, dict[str, Any]]:
    """The portable worker capability manifest registration requires: none offered.

    This SDK implements none of the portable affinity features (local activities,
    worker sessions, server-side sticky execution), and a worker at or above their
    protocol floor must declare exactly what it implements.
    """
    names = _v2.PortableWorkerCapabilityManifest.model_fields
    return {
        name: {
            "supported": False,
            "minimum_protocol_version": _AFFINITY_FLOOR,
            "reason": "not_implemented_by_durable_workflow_python",
        }
        for name in names
    }


async def poll_update_validation_task(
    self: _client.Client, *, worker_id: str, task_queue: str, timeout: float = 35.0
) -> dict[str, Any] | None:
    """Long-poll for an update-validation task alone; ``None`` when none arrived in time.

    ``Worker`` polls these together with workflow tasks (``poll_workflow_task(task_kinds=...)``).
    """
    (await self._negotiate()).require("update_validation_tasks")
    seconds, http_timeout = poll_timeouts(timeout)
    try:
        data = await self._call_v2(
            "pollUpdateValidationTask",
            body={"worker_id": worker_id, "task_queue": task_queue, "timeout_seconds": seconds},
            timeout=http_timeout,
        )
    except errors.TransportTimeout:
        return None
    task = data.get("task") if isinstance(data, dict) else None
    return task if isinstance(task, dict) else None


async def approve_update_validation_task(
    self: _client.Client,
    *,
    update_validation_task_id: str,
    lease_owner: str,
    update_validation_attempt: int,
) -> dict[str, Any]:
    """The validator accepted the update: the server may now accept it."""
    data = await self._call_v2(
        "approveUpdateValidationTask",
        path_params={"taskId": update_validation_task_id},
        body={"lease_owner": lease_owner, "update_validation_attempt": update_validation_attempt},
        idempotent=True,  # fenced by owner and attempt
    )
    return require_dict(data, "update_validation_response")


async def reject_update_validation_task(
    self: _client.Client,
    *,
    update_validation_task_id: str,
    lease_owner: str,
    update_validation_attempt: int,
    message: str,
    reason: str,
    failure_type: str | None = None,
    stack_trace: str | None = None,
    validation_errors: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The validator refused the update (or could not run): the caller gets the failure."""
    failure = compact(
        {
            "message": message or "update validator rejected the request",
            "reason": reason,
            "type": failure_type,
            "stack_trace": stack_trace,
            "validation_errors": dict(validation_errors) if validation_errors else None,
        }
    )
    data = await self._call_v2(
        "rejectUpdateValidationTask",
        path_params={"taskId": update_validation_task_id},
        body={
            "lease_owner": lease_owner,
            "update_validation_attempt": update_validation_attempt,
            "failure": failure,
        },
        idempotent=True,
    )
    return require_dict(data, "update_validation_response")


async def deregister_worker_registration(
    self: _client.Client, worker_id: str, *, timeout: float | None = None
) -> dict[str, Any]:
    """``DELETE /api/worker/registrations/{id}``: this worker is leaving (2.x servers).

    The server removes the registration and hands the worker's leased workflow
    tasks to other workers at once. A registration already gone is reported as
    ``already_deregistered`` rather than raised. One attempt only: the worker id
    may be reused, so an uncertain answer is not resent.
    """
    (await self._negotiate()).require("worker_deregistration")
    try:
        data = await self._call_v2(
            "deregisterWorker",
            path_params={"workerId": worker_id},
            timeout=timeout,
            context=worker_id,
        )
    except errors.ServerError as exc:
        if exc.status == 404 and exc.reason() == "worker_not_found":
            return {
                "worker_id": worker_id,
                "outcome": "already_deregistered",
                "recovered_workflow_task_count": 0,
            }
        raise
    answer = require_dict(data, "worker_deregistration")
    if answer.get("worker_id") != worker_id or answer.get("outcome") != "deregistered":
        raise errors.ServerError(200, {"reason": "invalid_worker_deregistration", "body": answer})
    return answer
