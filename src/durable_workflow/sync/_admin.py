"""Blocking admin methods of ``durable_workflow.sync.Client`` (namespaces, queues, system).

Each method runs the async ``Client`` method of the same name and signature on
the blocking client's private loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from durable_workflow.client._results._admin import (
    BridgeAdapterOutcome,
    NamespaceDescription,
    NamespaceList,
    SearchAttributeList,
    StorageTestResult,
)
from durable_workflow.client._results._queues import (
    TaskQueueBuildIdRollout,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    TaskQueueList,
    WorkerDescription,
    WorkerList,
)
from durable_workflow.sync._loop import LoopThread

if TYPE_CHECKING:
    from durable_workflow.client import Client as AsyncClient

__all__ = ["SyncAdminMixin"]


class SyncAdminMixin:
    """Namespaces, storage, search attributes, task queues, workers, system, bridge."""

    _client: AsyncClient
    _loop: LoopThread

    def health(self) -> dict[str, Any]:
        return self._loop.run(self._client.health())

    def get_cluster_info(self) -> dict[str, Any]:
        return self._loop.run(self._client.get_cluster_info())

    def list_namespaces(self) -> NamespaceList:
        return self._loop.run(self._client.list_namespaces())

    def describe_namespace(self, name: str) -> NamespaceDescription:
        return self._loop.run(self._client.describe_namespace(name))

    def create_namespace(
        self, name: str, *, description: str | None = None, retention_days: int = 30
    ) -> NamespaceDescription:
        return self._loop.run(
            self._client.create_namespace(
                name, description=description, retention_days=retention_days
            )
        )

    def update_namespace(
        self, name: str, *, description: str | None = None, retention_days: int | None = None
    ) -> NamespaceDescription:
        return self._loop.run(
            self._client.update_namespace(
                name, description=description, retention_days=retention_days
            )
        )

    def set_namespace_external_storage(
        self,
        name: str | None = None,
        *,
        driver: str,
        enabled: bool = True,
        threshold_bytes: int | None = None,
        config: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> NamespaceDescription:
        return self._loop.run(
            self._client.set_namespace_external_storage(
                name,
                driver=driver,
                enabled=enabled,
                threshold_bytes=threshold_bytes,
                config=config,
                namespace=namespace,
            )
        )

    def test_external_storage(
        self,
        *,
        driver: str | None = None,
        small_payload_bytes: int | None = None,
        large_payload_bytes: int | None = None,
    ) -> StorageTestResult:
        return self._loop.run(
            self._client.test_external_storage(
                driver=driver,
                small_payload_bytes=small_payload_bytes,
                large_payload_bytes=large_payload_bytes,
            )
        )

    def list_search_attributes(self) -> SearchAttributeList:
        return self._loop.run(self._client.list_search_attributes())

    def create_search_attribute(self, name: str, attribute_type: str) -> dict[str, Any]:
        return self._loop.run(self._client.create_search_attribute(name, attribute_type))

    def delete_search_attribute(self, name: str) -> dict[str, Any]:
        return self._loop.run(self._client.delete_search_attribute(name))

    def list_task_queues(self) -> TaskQueueList:
        return self._loop.run(self._client.list_task_queues())

    def describe_task_queue(self, name: str) -> TaskQueueDescription:
        return self._loop.run(self._client.describe_task_queue(name))

    def list_task_queue_build_ids(self, task_queue: str) -> TaskQueueBuildIdRollout:
        return self._loop.run(self._client.list_task_queue_build_ids(task_queue))

    def drain_task_queue_build_id(
        self, task_queue: str, build_id: str | None
    ) -> TaskQueueBuildIdRolloutState:
        return self._loop.run(self._client.drain_task_queue_build_id(task_queue, build_id))

    def resume_task_queue_build_id(
        self, task_queue: str, build_id: str | None
    ) -> TaskQueueBuildIdRolloutState:
        return self._loop.run(self._client.resume_task_queue_build_id(task_queue, build_id))

    def list_workers(
        self, *, task_queue: str | None = None, status: str | None = None
    ) -> WorkerList:
        return self._loop.run(self._client.list_workers(task_queue=task_queue, status=status))

    def describe_worker(self, worker_id: str) -> WorkerDescription:
        return self._loop.run(self._client.describe_worker(worker_id))

    def deregister_worker(self, worker_id: str) -> dict[str, Any]:
        return self._loop.run(self._client.deregister_worker(worker_id))

    def repair_status(self) -> dict[str, Any]:
        return self._loop.run(self._client.repair_status())

    def repair_pass(
        self, *, run_ids: Sequence[str] | None = None, instance_id: str | None = None
    ) -> dict[str, Any]:
        return self._loop.run(self._client.repair_pass(run_ids=run_ids, instance_id=instance_id))

    def retention_status(self) -> dict[str, Any]:
        return self._loop.run(self._client.retention_status())

    def retention_pass(
        self, *, run_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        return self._loop.run(self._client.retention_pass(run_ids=run_ids, limit=limit))

    def activity_timeout_status(self) -> dict[str, Any]:
        return self._loop.run(self._client.activity_timeout_status())

    def activity_timeout_pass(
        self, *, execution_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.activity_timeout_pass(execution_ids=execution_ids, limit=limit)
        )

    def send_webhook_bridge_event(
        self,
        adapter: str,
        *,
        action: str,
        idempotency_key: str,
        target: Mapping[str, Any],
        input: Mapping[str, Any] | None = None,
        correlation: Mapping[str, Any] | None = None,
    ) -> BridgeAdapterOutcome:
        return self._loop.run(
            self._client.send_webhook_bridge_event(
                adapter,
                action=action,
                idempotency_key=idempotency_key,
                target=target,
                input=input,
                correlation=correlation,
            )
        )
