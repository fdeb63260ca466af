"""Discovery, task queues (admission, build-id rollout), workers and the webhook bridge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow import errors
from durable_workflow.client import _client
from durable_workflow.client._calls import compact, require_dict
from durable_workflow.client._results import (
    BridgeAdapterOutcome,
    TaskQueueBuildIdRollout,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    TaskQueueList,
    WorkerDescription,
    WorkerList,
)

__all__ = [
    "deregister_worker",
    "describe_task_queue",
    "describe_worker",
    "drain_task_queue_build_id",
    "get_cluster_info",
    "health",
    "list_task_queue_build_ids",
    "list_task_queues",
    "list_workers",
    "operator_metrics",
    "ready",
    "resume_task_queue_build_id",
    "send_webhook_bridge_event",
    "system_metrics",
]


async def get_cluster_info(self: _client.Client) -> dict[str, Any]:
    """``GET /api/cluster/info``: the server's versions, contracts and capabilities."""
    info = await self._call("cluster.info")
    if not isinstance(info, dict):
        raise errors.ServerError(200, {"reason": "invalid_cluster_info"})
    return info


async def health(self: _client.Client) -> dict[str, Any]:
    """``GET /api/health``."""
    return require_dict(await self._call("health.check"), "health_response")


async def ready(self: _client.Client) -> dict[str, Any]:
    """``GET /api/ready``: readiness checks (database, migrations, cache, auth)."""
    return require_dict(await self._call("health.ready"), "ready")


async def system_metrics(self: _client.Client) -> dict[str, Any]:
    """``GET /api/system/metrics``: the server's own counters."""
    return require_dict(await self._call("system.metrics"), "system_metrics")


async def operator_metrics(self: _client.Client) -> dict[str, Any]:
    """``GET /api/system/operator-metrics``: backlog, lease and repair health."""
    return require_dict(await self._call("system.operator_metrics"), "operator_metrics")


# -- task queues -------------------------------------------------------------


async def list_task_queues(self: _client.Client) -> TaskQueueList:
    data = await self._call("task_queue.list")
    return TaskQueueList.from_dict(require_dict(data, "task_queue_list"))


async def describe_task_queue(self: _client.Client, name: str) -> TaskQueueDescription:
    """Backlog, admission status, pollers and current leases of one queue."""
    data = await self._call("task_queue.describe", path_params={"taskQueue": name})
    return TaskQueueDescription.from_dict(require_dict(data, "task_queue_response"))


async def list_task_queue_build_ids(
    self: _client.Client, task_queue: str
) -> TaskQueueBuildIdRollout:
    data = await self._call("task_queue.build_ids", path_params={"taskQueue": task_queue})
    return TaskQueueBuildIdRollout.from_dict(require_dict(data, "task_queue_build_ids_response"))


async def drain_task_queue_build_id(
    self: _client.Client, task_queue: str, build_id: str | None
) -> TaskQueueBuildIdRolloutState:
    """Mark a build id draining (``None`` = workers that report no build id)."""
    data = await self._call(
        "task_queue.build_id.drain",
        path_params={"taskQueue": task_queue},
        body={"build_id": build_id},
    )
    return TaskQueueBuildIdRolloutState.from_dict(require_dict(data, "rollout_state"))


async def resume_task_queue_build_id(
    self: _client.Client, task_queue: str, build_id: str | None
) -> TaskQueueBuildIdRolloutState:
    data = await self._call(
        "task_queue.build_id.resume",
        path_params={"taskQueue": task_queue},
        body={"build_id": build_id},
    )
    return TaskQueueBuildIdRolloutState.from_dict(require_dict(data, "rollout_state"))


# -- workers -----------------------------------------------------------------


async def list_workers(
    self: _client.Client, *, task_queue: str | None = None, status: str | None = None
) -> WorkerList:
    query = compact({"task_queue": task_queue, "status": status}) or None
    data = await self._call("worker.list", query=query)
    return WorkerList.from_dict(require_dict(data, "worker_response"))


async def describe_worker(self: _client.Client, worker_id: str) -> WorkerDescription:
    data = await self._call("worker.describe", path_params={"workerId": worker_id})
    return WorkerDescription.from_dict(require_dict(data, "worker_response"))


async def deregister_worker(self: _client.Client, worker_id: str) -> dict[str, Any]:
    data = await self._call("worker.deregister", path_params={"workerId": worker_id})
    return require_dict(data, "deregister_response")


# -- bridge ------------------------------------------------------------------


async def send_webhook_bridge_event(
    self: _client.Client,
    adapter: str,
    *,
    action: str,
    idempotency_key: str,
    target: Mapping[str, Any],
    input: Mapping[str, Any] | None = None,
    correlation: Mapping[str, Any] | None = None,
) -> BridgeAdapterOutcome:
    """Deliver a webhook event; a 422 rejection is returned as an outcome, not raised."""
    body = compact(
        {
            "action": action,
            "idempotency_key": idempotency_key,
            "target": dict(target),
            "input": dict(input) if input is not None else None,
            "correlation": dict(correlation) if correlation is not None else None,
        }
    )
    try:
        data = await self._call("bridge.webhook", path_params={"adapter": adapter}, body=body)
    except errors.ServerValidationFailed as exc:
        if not isinstance(exc.body, dict):
            raise
        data = exc.body
    return BridgeAdapterOutcome.from_dict(require_dict(data, "bridge_outcome"))
