"""Handlers of the operator management endpoints: workers, search attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import (
    bridge,
    namespaces,
    search_attributes,
    storage_policy,
    task_queues,
    worker_views,
)
from durable_workflow.server.engine.errors import Outcome

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


async def worker_list(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        worker_views.list_workers, call.namespace, call.query, call.server.worker_stale_seconds
    )


async def worker_describe(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        worker_views.describe,
        call.namespace,
        call.path_params["workerId"],
        call.server.worker_stale_seconds,
    )


async def worker_deregister(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        worker_views.deregister, call.namespace, call.path_params["workerId"]
    )


async def search_attribute_list(call: Call) -> Outcome:
    return 200, call.server.engine.tx(search_attributes.list_attributes, call.namespace)


async def search_attribute_create(call: Call) -> Outcome:
    return 201, call.server.engine.tx(search_attributes.create, call.namespace, _body(call))


async def search_attribute_delete(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        search_attributes.delete, call.namespace, call.path_params["name"]
    )


async def task_queue_list(call: Call) -> Outcome:
    pending = call.server.query_broker.pending_counts(call.namespace)
    return 200, call.server.engine.tx(
        task_queues.list_queues, call.namespace, call.server.worker_stale_seconds, pending
    )


async def task_queue_describe(call: Call) -> Outcome:
    queue = call.path_params["taskQueue"]
    pending = call.server.query_broker.pending_counts(call.namespace).get(queue, 0)
    return 200, call.server.engine.tx(
        task_queues.describe, call.namespace, queue, call.server.worker_stale_seconds, pending
    )


async def task_queue_build_ids(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        task_queues.build_ids,
        call.namespace,
        call.path_params["taskQueue"],
        call.server.worker_stale_seconds,
    )


def _intent(intent: str) -> Handler:
    async def change(call: Call) -> Outcome:
        return 200, call.server.engine.tx(
            task_queues.set_intent,
            call.namespace,
            call.path_params["taskQueue"],
            _body(call),
            intent,
        )

    return change


async def namespace_set_storage(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        namespaces.set_storage_policy, call.path_params["namespace"], _body(call)
    )


async def storage_test(call: Call) -> Outcome:
    return 200, call.server.engine.tx(storage_policy.probe, call.namespace, _body(call))


async def bridge_webhook(call: Call) -> Outcome:
    return call.server.engine.tx(
        bridge.deliver, call.server.config, call.namespace, call.path_params["adapter"], call.body
    )


MANAGEMENT_HANDLERS: dict[str, Handler] = {
    "bridge.webhook": bridge_webhook,
    "namespace.set_storage_driver": namespace_set_storage,
    "storage.test": storage_test,
    "task_queue.list": task_queue_list,
    "task_queue.describe": task_queue_describe,
    "task_queue.build_ids": task_queue_build_ids,
    "task_queue.build_id.drain": _intent("draining"),
    "task_queue.build_id.resume": _intent("active"),
    "worker.list": worker_list,
    "worker.describe": worker_describe,
    "worker.deregister": worker_deregister,
    "search_attribute.list": search_attribute_list,
    "search_attribute.create": search_attribute_create,
    "search_attribute.delete": search_attribute_delete,
}
