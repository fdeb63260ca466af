"""Query tasks: an in-memory broker between a blocked caller and a polling worker.

Upstream keeps query tasks only in its cache, never in history
(worker-protocol.md §10); so does the dev server: a restart drops pending
queries, whose callers are gone with the process anyway. A task is leased at
most once (an expired query task is never re-offered, §12.4); the caller
waits on a future that complete/fail resolves.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable_workflow.server.engine.errors import EngineError, Outcome
from durable_workflow.server.engine.task_queues import MAX_PENDING_PER_QUEUE
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import WakeKey
from durable_workflow.server.store.ulid import new_ulid

TTL_SECONDS = 180.0


def query_queue_key(namespace: str, queue: str) -> WakeKey:
    """Wake key of query-task pollers (separate from workflow/activity pollers)."""
    return ("query-queue", namespace, queue)


@dataclass
class QueryTask:
    id: str
    namespace: str
    queue: str
    workflow_type: str
    fields: dict[str, Any]
    outcome: asyncio.Future[dict[str, Any]]
    created: float = field(default_factory=time.monotonic)
    status: str = "pending"
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class QueryBroker:
    """Pending and leased query tasks by id, FIFO per (namespace, queue)."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self._tasks: dict[str, QueryTask] = {}

    def _prune(self) -> None:
        horizon = time.monotonic() - TTL_SECONDS
        for task_id in [k for k, t in self._tasks.items() if t.created < horizon]:
            del self._tasks[task_id]

    def enqueue(
        self, namespace: str, queue: str, workflow_type: str, fields: dict[str, Any]
    ) -> QueryTask:
        """A new pending task; 429 ``query_task_queue_full`` past the per-queue limit."""
        self._prune()
        pending = sum(
            1
            for t in self._tasks.values()
            if t.status == "pending" and (t.namespace, t.queue) == (namespace, queue)
        )
        if pending >= MAX_PENDING_PER_QUEUE:
            raise EngineError(
                429,
                {
                    "reason": "query_task_queue_full",
                    "message": f"Too many pending query tasks on queue [{queue}].",
                },
            )
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        task = QueryTask(new_ulid(upper=True), namespace, queue, workflow_type, fields, future)
        self._tasks[task.id] = task
        return task

    def claim(
        self, namespace: str, queue: str, worker_id: str, workflow_types: list[str], now: datetime
    ) -> dict[str, Any] | None:
        """Lease the oldest pending task of the queue this worker can answer."""
        for task in self._tasks.values():
            if task.status != "pending" or (task.namespace, task.queue) != (namespace, queue):
                continue
            if workflow_types and task.workflow_type not in workflow_types:
                continue
            task.status = "leased"
            task.attempt += 1
            task.lease_owner = worker_id
            task.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
            return {
                "query_task_id": task.id,
                "query_task_attempt": task.attempt,
                **task.fields,
                "task_queue": task.queue,
                "lease_owner": worker_id,
                "lease_expires_at": fmt_z(task.lease_expires_at),
            }
        return None

    def pending_counts(self, namespace: str) -> dict[str, int]:
        """Pending query tasks per queue of a namespace (task-queue admission)."""
        counts: dict[str, int] = {}
        for task in self._tasks.values():
            if task.namespace == namespace and task.status == "pending":
                counts[task.queue] = counts.get(task.queue, 0) + 1
        return counts

    def time_out(self, task: QueryTask) -> None:
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
        """Complete or fail a leased task after the ownership checks of §10.4."""
        self._prune()
        task = self._tasks.get(task_id)
        if task is None or task.namespace != namespace:
            return 404, {
                "query_task_id": task_id,
                "outcome": "rejected",
                "reason": "query_task_not_found",
                "error": f"Query task [{task_id}] was not found.",
                "status": 404,
            }
        base = {"query_task_id": task_id, "query_task_attempt": attempt, "outcome": "rejected"}
        if task.status != "leased":
            return 409, {
                **base,
                "reason": "query_task_not_leased",
                "error": "The query task is not leased.",
                "status": 409,
            }
        if task.lease_owner != owner:
            return 409, {
                **base,
                "reason": "lease_owner_mismatch",
                "error": "The query task is leased by another worker.",
                "lease_owner": task.lease_owner,
                "status": 409,
            }
        if task.attempt != attempt:
            return 409, {
                **base,
                "reason": "query_task_attempt_mismatch",
                "error": "The query task attempt does not match the current attempt.",
                "current_attempt": task.attempt,
                "status": 409,
            }
        assert task.lease_expires_at is not None
        if task.lease_expires_at <= now:
            return 409, {
                **base,
                "reason": "lease_expired",
                "error": "The query task lease has expired.",
                "lease_expires_at": fmt_z(task.lease_expires_at),
                "status": 409,
            }
        task.status = str(outcome["outcome"])
        if not task.outcome.done():
            task.outcome.set_result(outcome)
        body: dict[str, Any] = {
            "query_task_id": task_id,
            "query_task_attempt": attempt,
            "outcome": outcome["outcome"],
            "status": 200,
        }
        if outcome["outcome"] == "failed":
            body["reason"] = outcome["reason"]
        return 200, body
