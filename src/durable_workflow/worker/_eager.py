"""Eager activity dispatch: activity tasks handed back in a workflow-task completion.

A server advertising the ``eager_activity_dispatch`` extension (the dev server,
generation 1; docs/compat.md) leases the activity tasks a completion schedules
on this worker's queue to this worker and returns them in the completion
response, so they start without an activity-poll round trip. The worker asks
for at most as many as it has free activity slots right now: the slots are
taken before the completion is sent, handed to the returned tasks, and the
unused ones given back. An eager task is leased exactly as a polled one, so
lease expiry, timeouts and retries are the server's as usual. Against any other
server nothing is reserved and the completion carries no extra field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from typing import Any

__all__ = ["EagerActivities"]

#: The extension name in the server's ``capabilities.extensions``.


class EagerActivities:
    """Lends this worker's free activity slots to its workflow-task completions."""

    def __init__(
        self,
        task_queue: str,
        activity_types: Collection[str],
        slots: asyncio.Semaphore,
        start: Callable[[dict[str, Any]], None],
        accepting: Callable[[], bool],
    ) -> None:
        self.task_queue = task_queue
        self.activity_types = activity_types
        self.slots = slots
        # Runs one leased activity task in a slot already taken (the worker's _start_task).
        self._start = start
        self._accepting = accepting
        #: Activity tasks received in completion responses (for tests and tuning).
        self.dispatched = 0

    def _wanted(self, commands: Sequence[dict[str, Any]]) -> int:
        return sum(
            1
            for command in commands
            if command.get("type") == "schedule_activity"
            and command.get("queue") == self.task_queue
            and command.get("activity_type") in self.activity_types
        )

    async def reserve(self, commands: Sequence[dict[str, Any]]) -> int:
        """Take up to one free slot per activity the commands schedule here; never waits."""
        if not self._accepting():
            return 0
        wanted = self._wanted(commands)
        taken = 0
        while taken < wanted and not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            taken += 1
        return taken

    def settle(self, reserved: int, answer: dict[str, Any] | None) -> None:
        """Start the tasks the completion returned; give the other reserved slots back."""
        tasks = answer.get("eager_activity_tasks") if isinstance(answer, dict) else None
        started = 0
        for task in tasks if isinstance(tasks, list) else []:
            if started >= reserved or not isinstance(task, dict) or not task.get("task_id"):
                continue
            started += 1
            self.dispatched += 1
            self._start(task)
        for _ in range(reserved - started):
            self.slots.release()
