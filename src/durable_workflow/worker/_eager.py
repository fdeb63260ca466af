"""Eager dispatch: tasks handed back in the answer to a completion, leased to this worker.

Two extensions of the dev server (generation 1; docs/compat.md), each used only
where ``capabilities.extensions`` advertises it:

- ``eager_activity_dispatch``: a workflow-task completion receives the activity
  tasks it scheduled on this worker's queue (:class:`EagerActivities`);
- ``eager_workflow_tasks``: a workflow-task completion or an activity outcome
  receives ready workflow tasks of this worker's queue, claimed as its poll would
  claim them (:class:`EagerWorkflowTasks`).

Either saves the poll round trip that would otherwise fetch the task. The worker
asks for at most as many tasks as it has free slots of that kind right now: the
slots are taken (never waited for) before the request is sent, handed to the
returned tasks, and the unused ones given back. An eager task is leased exactly
as a polled one, so lease expiry, timeouts and retries are the server's as usual.
Against any other server nothing is reserved and the request carries no extra field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

__all__ = ["EagerActivities", "EagerSlots", "EagerWorkflowTasks", "lending_workflow_slots"]

T = TypeVar("T")


class EagerSlots:
    """Lends free slots of one task kind to requests whose answer may carry such tasks."""

    def __init__(
        self,
        answer_field: str,
        slots: asyncio.Semaphore,
        start: Callable[[dict[str, Any]], None],
        accepting: Callable[[], bool],
    ) -> None:
        self.answer_field = answer_field
        self.slots = slots
        # Runs one leased task in a slot already taken (the worker's _start_task).
        self._start = start
        self._accepting = accepting
        #: Tasks received in answers (for tests and tuning).
        self.dispatched = 0

    async def take(self, wanted: int) -> int:
        """Up to ``wanted`` free slots; never waits, and none while the worker stops."""
        if not self._accepting():
            return 0
        taken = 0
        while taken < wanted and not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            taken += 1
        return taken

    def settle(self, reserved: int, answer: Any) -> None:
        """Start the tasks the answer carries; give the other reserved slots back."""
        tasks = answer.get(self.answer_field) if isinstance(answer, dict) else None
        started = 0
        for task in tasks if isinstance(tasks, list) else []:
            if started >= reserved or not isinstance(task, dict) or not task.get("task_id"):
                continue
            started += 1
            self.dispatched += 1
            self._start(task)
        for _ in range(reserved - started):
            self.slots.release()


class EagerActivities(EagerSlots):
    """Lends free activity slots to workflow-task completions (``eager_activity_dispatch``)."""

    def __init__(
        self,
        task_queue: str,
        activity_types: Collection[str],
        slots: asyncio.Semaphore,
        start: Callable[[dict[str, Any]], None],
        accepting: Callable[[], bool],
    ) -> None:
        super().__init__("eager_activity_tasks", slots, start, accepting)
        self.task_queue = task_queue
        self.activity_types = activity_types

    def _wanted(self, commands: Sequence[dict[str, Any]]) -> int:
        return sum(
            1
            for command in commands
            if command.get("type") == "schedule_activity"
            and command.get("queue") == self.task_queue
            and command.get("activity_type") in self.activity_types
        )

    async def reserve(self, commands: Sequence[dict[str, Any]]) -> int:
        """One free slot per activity the commands schedule on this worker's queue."""
        return await self.take(self._wanted(commands))


class EagerWorkflowTasks(EagerSlots):
    """Lends free workflow-task slots to task completions (``eager_workflow_tasks``).

    One slot per completion: a completion frees the slot of the task (or activity)
    it reports, so one task back keeps the worker as busy as before.
    """

    def __init__(
        self,
        slots: asyncio.Semaphore,
        start: Callable[[dict[str, Any]], None],
        accepting: Callable[[], bool],
        history_page_size: int | None,
    ) -> None:
        super().__init__("workflow_tasks", slots, start, accepting)
        # The first history page the worker's polls ask for.
        self.history_page_size = history_page_size

    def fields(self, reserved: int) -> dict[str, Any]:
        """The request keywords asking for ``reserved`` tasks (none when 0)."""
        if reserved < 1:
            return {}
        return {"workflow_task_slots": reserved, "history_page_size": self.history_page_size}


async def lending_workflow_slots(
    lender: EagerWorkflowTasks | None, request: Callable[[dict[str, Any]], Awaitable[T]]
) -> T:
    """``request(keywords)``, asking for a workflow task when a slot is free; run what came.

    Without a lender (the server does not advertise the extension) the keywords are
    empty, so the request is exactly the protocol's.
    """
    reserved = await lender.take(1) if lender is not None else 0
    answer: T | None = None
    try:
        answer = await request(lender.fields(reserved) if lender is not None else {})
        return answer
    finally:
        if lender is not None:
            lender.settle(reserved, answer)
