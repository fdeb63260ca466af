"""The ``eager_workflow_tasks`` extension (generation 1 only, docs/compat.md).

A workflow-task completion or an activity outcome (complete, fail) that carries
``workflow_task_slots: N`` gets, once it is recorded and in the same transaction,
up to N ready workflow tasks claimed for the reporting worker exactly as its own
``workflow-task.poll`` would claim them (:func:`workflow_tasks.claim` on its
registration), in the answer's ``workflow_tasks``. The worker saves the poll round
trip that would otherwise follow; a task it never completes is recovered when its
lease expires, as for a polled one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import workers, workflow_tasks
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.store.tx import Tx

WORKFLOW_TASK_SLOTS = "workflow_task_slots"
WORKFLOW_TASKS = "workflow_tasks"


def record_then_claim(
    tx: Tx,
    cfg: ServerConfig,
    namespace: str,
    body: dict[str, Any],
    record: Callable[[Tx], Outcome],
) -> Outcome:
    """``record`` the outcome; when it is accepted (200) and asked for, claim tasks too.

    The slot count is checked before ``record`` runs, so a bad one applies nothing.
    """
    slots = workflow_tasks.requested_slots(body, WORKFLOW_TASK_SLOTS)
    status, answer = record(tx)
    if slots is None or status != 200:
        return status, answer
    owner = body.get("lease_owner")  # ``record`` has checked it is the lease holder
    return status, {**answer, WORKFLOW_TASKS: claim(tx, cfg, namespace, str(owner), slots, body)}


def claim(
    tx: Tx, cfg: ServerConfig, namespace: str, worker_id: str, slots: int, body: dict[str, Any]
) -> list[dict[str, Any]]:
    """Up to ``slots`` workflow tasks leased to ``worker_id`` as its polls would lease them."""
    worker = workers.registered_worker(tx, namespace, worker_id)
    claimed: list[dict[str, Any]] = []
    if worker is None:  # not a registered worker: it polls as before
        return claimed
    page_size = body.get("history_page_size")
    while len(claimed) < slots:
        task = workflow_tasks.claim(tx, cfg, worker, page_size)
        if task is None:
            break
        claimed.append(task)
    return claimed
