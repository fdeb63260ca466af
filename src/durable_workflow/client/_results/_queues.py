"""Result dataclasses for task queues, build-id rollouts and workers (sdk-surface.md §1.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.client._results._parse import as_dict, as_int, as_list, as_str, from_fields

__all__ = [
    "TaskQueueAdmission",
    "TaskQueueBuildIdCohort",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueList",
    "TaskQueueQueryAdmission",
    "TaskQueueTaskAdmission",
    "WorkerDescription",
    "WorkerList",
]


@dataclass
class TaskQueueTaskAdmission:
    """Admission state of workflow or activity tasks on one queue (control-plane.md §11.3).

    Fields are in upstream's order, so positional construction matches it.
    """

    status: str | None = None
    budget_source: str | None = None
    server_budget_source: str | None = None
    active_worker_count: int | None = None
    configured_slot_count: int | None = None
    leased_count: int | None = None
    ready_count: int | None = None
    available_slot_count: int | None = None
    server_max_active_leases_per_queue: int | None = None
    server_active_lease_count: int | None = None
    server_remaining_active_lease_capacity: int | None = None
    server_max_active_leases_per_namespace: int | None = None
    server_namespace_active_lease_count: int | None = None
    server_remaining_namespace_active_lease_capacity: int | None = None
    server_max_dispatches_per_minute: int | None = None
    server_dispatch_count_this_minute: int | None = None
    server_remaining_dispatch_capacity: int | None = None
    server_max_dispatches_per_minute_per_namespace: int | None = None
    server_namespace_dispatch_count_this_minute: int | None = None
    server_remaining_namespace_dispatch_capacity: int | None = None
    server_dispatch_budget_group: str | None = None
    server_max_dispatches_per_minute_per_budget_group: int | None = None
    server_budget_group_dispatch_count_this_minute: int | None = None
    server_remaining_budget_group_dispatch_capacity: int | None = None
    server_lock_required: bool | None = None
    server_lock_supported: bool | None = None

    @classmethod
    def from_dict(cls, data: Any) -> TaskQueueTaskAdmission | None:
        return from_fields(cls, data) if isinstance(data, dict) else None


@dataclass
class TaskQueueQueryAdmission:
    status: str | None = None
    budget_source: str | None = None
    max_pending_per_queue: int | None = None
    approximate_pending_count: int | None = None
    remaining_pending_capacity: int | None = None
    lock_required: bool | None = None
    lock_supported: bool | None = None

    @classmethod
    def from_dict(cls, data: Any) -> TaskQueueQueryAdmission | None:
        return from_fields(cls, data) if isinstance(data, dict) else None


@dataclass
class TaskQueueAdmission:
    workflow_tasks: TaskQueueTaskAdmission | None = None
    activity_tasks: TaskQueueTaskAdmission | None = None
    query_tasks: TaskQueueQueryAdmission | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> TaskQueueAdmission | None:
        if not isinstance(data, dict):
            return None
        return cls(
            workflow_tasks=TaskQueueTaskAdmission.from_dict(data.get("workflow_tasks")),
            activity_tasks=TaskQueueTaskAdmission.from_dict(data.get("activity_tasks")),
            query_tasks=TaskQueueQueryAdmission.from_dict(data.get("query_tasks")),
            raw=dict(data),
        )


@dataclass
class TaskQueueDescription:
    """One task queue: backlog stats, admission status, pollers and current leases."""

    name: str | None = None
    namespace: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    admission: TaskQueueAdmission | None = None
    pollers: list[dict[str, Any]] = field(default_factory=list)
    current_leases: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueDescription:
        return cls(
            name=as_str(data.get("name")),
            namespace=as_str(data.get("namespace")),
            stats=as_dict(data.get("stats")),
            admission=TaskQueueAdmission.from_dict(data.get("admission")),
            pollers=[p for p in as_list(data.get("pollers")) if isinstance(p, dict)],
            current_leases=[p for p in as_list(data.get("current_leases")) if isinstance(p, dict)],
            raw=dict(data),
        )


@dataclass
class TaskQueueList:
    namespace: str | None = None
    task_queues: list[TaskQueueDescription] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueList:
        items = as_list(data.get("task_queues"))
        return cls(
            namespace=as_str(data.get("namespace")),
            task_queues=[TaskQueueDescription.from_dict(i) for i in items if isinstance(i, dict)],
        )


@dataclass
class TaskQueueBuildIdCohort:
    """Workers of one build id on a queue; ``drain_intent``/``drained_at`` only in ``raw``."""

    build_id: str | None = None
    rollout_status: str = ""
    active_worker_count: int = 0
    draining_worker_count: int = 0
    stale_worker_count: int = 0
    total_worker_count: int = 0
    runtimes: list[str] = field(default_factory=list)
    sdk_versions: list[str] = field(default_factory=list)
    last_heartbeat_at: str | None = None
    first_seen_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueBuildIdCohort:
        counts = {
            name: as_int(data.get(name), 0) or 0
            for name in (
                "active_worker_count",
                "draining_worker_count",
                "stale_worker_count",
                "total_worker_count",
            )
        }
        return cls(
            build_id=as_str(data.get("build_id")),
            rollout_status=as_str(data.get("rollout_status")) or "",
            runtimes=[str(v) for v in as_list(data.get("runtimes"))],
            sdk_versions=[str(v) for v in as_list(data.get("sdk_versions"))],
            last_heartbeat_at=as_str(data.get("last_heartbeat_at")),
            first_seen_at=as_str(data.get("first_seen_at")),
            raw=dict(data),
            **counts,
        )


@dataclass
class TaskQueueBuildIdRollout:
    namespace: str | None = None
    task_queue: str | None = None
    stale_after_seconds: int | None = None
    build_ids: list[TaskQueueBuildIdCohort] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueBuildIdRollout:
        items = as_list(data.get("build_ids"))
        return cls(
            namespace=as_str(data.get("namespace")),
            task_queue=as_str(data.get("task_queue")),
            stale_after_seconds=as_int(data.get("stale_after_seconds")),
            build_ids=[TaskQueueBuildIdCohort.from_dict(i) for i in items if isinstance(i, dict)],
        )


@dataclass
class TaskQueueBuildIdRolloutState:
    """The drain intent recorded for one build id after a drain or resume."""

    namespace: str | None = None
    task_queue: str | None = None
    build_id: str | None = None
    drain_intent: str | None = None
    drained_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskQueueBuildIdRolloutState:
        return from_fields(cls, data)


@dataclass
class WorkerDescription:
    """A registered worker as the control plane reports it."""

    worker_id: str | None = None
    task_queue: str | None = None
    runtime: str | None = None
    namespace: str | None = None
    sdk_version: str | None = None
    build_id: str | None = None
    status: str | None = None
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activity_tasks: int | None = None
    supported_workflow_types: list[str] = field(default_factory=list)
    supported_activity_types: list[str] = field(default_factory=list)
    last_heartbeat_at: str | None = None
    registered_at: str | None = None
    updated_at: str | None = None
    task_slots: dict[str, Any] | None = None
    process_metrics: dict[str, Any] | None = None
    heartbeat_interval_seconds: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, worker_id: str | None = None
    ) -> WorkerDescription:
        """``worker_id`` fills in for an answer that omits it (upstream's keyword)."""
        fallback = {"worker_id": worker_id} if data.get("worker_id") is None else {}
        return from_fields(
            cls,
            data,
            supported_workflow_types=as_list(data.get("supported_workflow_types")),
            supported_activity_types=as_list(data.get("supported_activity_types")),
            **fallback,
        )


@dataclass
class WorkerList:
    namespace: str | None = None
    workers: list[WorkerDescription] = field(default_factory=list)
    stale_after_seconds: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerList:
        items = as_list(data.get("workers"))
        return cls(
            namespace=as_str(data.get("namespace")),
            workers=[WorkerDescription.from_dict(i) for i in items if isinstance(i, dict)],
            stale_after_seconds=as_int(data.get("stale_after_seconds")),
        )
