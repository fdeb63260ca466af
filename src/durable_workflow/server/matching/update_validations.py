"""Update-validation tasks (2.x): the pre-accept check a validator-declaring worker runs.

Like query tasks they live in memory only: the caller's update request waits on
the task's future and nothing is written before the worker approves (the update
is then accepted as any other) or rejects it (nothing is recorded). A leased
task whose lease expires is offered again with the next attempt; a completion
for an older attempt is stale. Completion refusals carry the reasons the 2.x
worker-protocol document lists for ``UpdateValidationTaskCompletionFailure``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import WakeKey
from durable_workflow.server.store.ulid import new_ulid

TTL_SECONDS = 180.0
POLL_BINDING_SECONDS = 300.0


def validation_queue_key(namespace: str, queue: str) -> WakeKey:
    """Wake key of the dedicated update-validation pollers."""
    return ("update-validation-queue", namespace, queue)


@dataclass
class ValidationTask:
    id: str
    namespace: str
    queue: str
    workflow_type: str
    update_id: str
    fields: dict[str, Any]
    outcome: asyncio.Future[dict[str, Any]]
    created: float = field(default_factory=time.monotonic)
    status: str = "pending"
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class ValidationBroker:
    """Pending and leased validation tasks by id, FIFO per (namespace, queue)."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self._tasks: dict[str, ValidationTask] = {}
        # poll_request_id -> the normalised task-kind set it was first used with.
        self._bindings: dict[tuple[str, ...], tuple[tuple[str, ...], float]] = {}

    def _prune(self) -> None:
        horizon = time.monotonic() - TTL_SECONDS
        for task_id in [k for k, t in self._tasks.items() if t.created < horizon]:
            del self._tasks[task_id]
        now = time.monotonic()
        for key in [k for k, (_, expires) in self._bindings.items() if expires < now]:
            del self._bindings[key]

    def bind_poll(self, key: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[str, ...] | None:
        """Bind a poll_request_id to its kinds; returns the other set it is already bound to."""
        self._prune()
        bound = self._bindings.get(key)
        if bound is not None and bound[0] != kinds:
            return bound[0]
        self._bindings[key] = (kinds, time.monotonic() + POLL_BINDING_SECONDS)
        return None

    def enqueue(
        self, namespace: str, queue: str, workflow_type: str, update_id: str, fields: dict[str, Any]
    ) -> ValidationTask:
        self._prune()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        task = ValidationTask(
            new_ulid(upper=True), namespace, queue, workflow_type, update_id, fields, future
        )
        self._tasks[task.id] = task
        return task

    def _lease(self, task: ValidationTask, worker_id: str, now: datetime) -> dict[str, Any]:
        task.status = "leased"
        task.attempt += 1
        task.lease_owner = worker_id
        task.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
        return {
            "task_kind": "update_validation",
            "update_validation_task_id": task.id,
            "update_id": task.update_id,
            "update_validation_attempt": task.attempt,
            **task.fields,
            "task_queue": task.queue,
            "lease_owner": worker_id,
            "lease_expires_at": fmt_z(task.lease_expires_at),
        }

    def claim(
        self, namespace: str, queue: str, worker_id: str, workflow_types: list[str], now: datetime
    ) -> dict[str, Any] | None:
        """Lease the oldest offerable task of the queue (pending, or leased and expired)."""
        for task in self._tasks.values():
            if (task.namespace, task.queue) != (namespace, queue):
                continue
            if workflow_types and task.workflow_type not in workflow_types:
                continue
            expired = (
                task.status == "leased"
                and task.lease_expires_at is not None
                and task.lease_expires_at <= now
            )
            if task.status == "pending" or expired:
                return self._lease(task, worker_id, now)
        return None

    def still_leased(
        self, task_id: str, owner: str, attempt: int, now: datetime
    ) -> dict[str, Any] | None:
        """The delivered task again (a duplicate poll), while the same lease holds."""
        task = self._tasks.get(task_id)
        if task is None or task.status != "leased" or task.lease_owner != owner:
            return None
        if task.attempt != attempt or task.lease_expires_at is None or task.lease_expires_at <= now:
            return None
        return {
            "task_kind": "update_validation",
            "update_validation_task_id": task.id,
            "update_id": task.update_id,
            "update_validation_attempt": task.attempt,
            **task.fields,
            "task_queue": task.queue,
            "lease_owner": owner,
            "lease_expires_at": fmt_z(task.lease_expires_at),
        }

    def abandon(self, task: ValidationTask) -> None:
        """The caller stopped waiting: the task can no longer be answered."""
        if task.status in ("pending", "leased"):
            task.status = "timed_out"

    def settle(
        self,
        namespace: str,
        task_id: str,
        owner: str,
        attempt: int,
        now: datetime,
        outcome: dict[str, Any],
    ) -> Outcome:
        """Approve or reject a leased task after the lease-owner and attempt fence."""
        self._prune()
        task = self._tasks.get(task_id)
        if task is None or task.namespace != namespace:
            missing = f"Update validation task [{task_id}] was not found."
            return 404, _refusal(
                task_id, "", attempt, "update_validation_task_not_found", missing, 404
            )
        if task.status in ("approved", "rejected"):
            problem = (
                "duplicate_update_validation_completion",
                "The update validation task was already completed.",
            )
        elif task.status != "leased":
            problem = (
                "update_validation_task_not_leased",
                "The update validation task is not leased.",
            )
        elif task.lease_owner != owner:
            problem = (
                "update_validation_lease_owner_mismatch",
                "The update validation task is leased by another worker.",
            )
        elif task.attempt != attempt:
            problem = (
                "stale_update_validation_completion",
                "The completion names an earlier validation attempt.",
            )
        elif task.lease_expires_at is not None and task.lease_expires_at <= now:
            problem = (
                "update_validation_lease_expired",
                "The update validation task lease has expired.",
            )
        else:
            problem = None
        if problem is not None:
            return 409, _refusal(task_id, task.update_id, attempt, *problem, 409)
        task.status = str(outcome["outcome"])
        if not task.outcome.done():
            task.outcome.set_result(outcome)
        return 200, {
            "update_validation_task_id": task_id,
            "update_id": task.update_id,
            "update_validation_attempt": attempt,
            "outcome": outcome["outcome"],
            "reason": outcome.get("reason"),
            "status": 200,
        }


def _refusal(
    task_id: str, update_id: str, attempt: int, reason: str, error: str, status: int
) -> dict[str, Any]:
    return {
        "update_validation_task_id": task_id,
        "update_id": update_id or "unknown",
        "update_validation_attempt": attempt,
        "outcome": "rejected",
        "reason": reason,
        "error": error,
        "status": status,
    }
