"""Task-lease operations shared by every task type (workflow, activity)."""

from __future__ import annotations

from durable_workflow.server.store.rows import TaskRow
from durable_workflow.server.store.tx import Tx, queue_key


def release_task(tx: Tx, task: TaskRow) -> None:
    """Put a leased task back to ``ready`` now (a repair: ``repair_count`` + 1).

    Its queue's pollers are woken, so the next claim can take it at once.
    """
    tx.update(
        "tasks",
        "id",
        task["id"],
        {
            "status": "ready",
            "lease_owner": None,
            "lease_expires_at": None,
            "leased_at": None,
            "available_at": tx.stamp,
            "repair_count": task["repair_count"] + 1,
            "updated_at": tx.stamp,
        },
    )
    tx.wakes.add(queue_key(task["namespace"], task["queue"]))
