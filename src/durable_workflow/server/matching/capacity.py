"""How many long polls the server holds at once, and the typed refusal past that.

Every held poll costs a task, a client watch and a socket. Past ``limit`` a new
poll is answered at once with the protocol's capacity response (2.x
``WorkerPollBackpressure``: 429 ``long_poll_capacity_exhausted``, ``task: null``,
``retryable: true``, ``retry_after_seconds``) instead of piling up until requests
time out; the worker retries after the advertised delay.
"""

from __future__ import annotations

from typing import Any

RETRY_AFTER_SECONDS = 1
TASK_KINDS = {
    "workflow-task.poll": ("workflow_task", "worker"),
    "activity.poll": ("activity_task", "worker"),
    "query-task.poll": ("query_task", "query"),
}


class PollCapacity:
    """A counter of held long polls with a ceiling (single event loop: no lock needed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.refused = 0

    def try_acquire(self) -> bool:
        if self.held >= self.limit:
            self.refused += 1
            return False
        self.held += 1
        return True

    def release(self) -> None:
        self.held -= 1

    def refusal(self, operation: str, namespace: str, task_queue: str) -> dict[str, Any]:
        """The 429 body for a poll of ``operation`` refused for capacity."""
        task_kind, wait_pool = TASK_KINDS[operation]
        message = (
            f"The server holds its maximum of {self.limit} long polls; retry after "
            f"{RETRY_AFTER_SECONDS}s."
        )
        return {
            "task": None,
            "poll_status": "long_poll_capacity_exhausted",
            "reason": "long_poll_capacity_exhausted",
            "error": message,
            "message": message,
            "namespace": namespace,
            "task_queue": task_queue,
            "task_kind": task_kind,
            "wait_pool": wait_pool,
            "retryable": True,
            "retry_after_seconds": RETRY_AFTER_SECONDS,
        }
