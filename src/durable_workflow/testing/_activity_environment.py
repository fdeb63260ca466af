"""``ActivityEnvironment``: call one activity as a worker would, without a server.

The activity gets a real ``ActivityContext`` (``activity.context()`` works)
with its ``info`` filled in; every heartbeat's details are captured in
``heartbeats``; :meth:`ActivityEnvironment.cancel` asks it to stop, which it
sees as a worker's activity does: the next heartbeat raises
``ActivityCancelled`` and ``is_cancelled`` turns true. Sync activities run in
a thread (so ``heartbeat_sync`` works), async ones on the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from durable_workflow.activity import ActivityContext, ActivityInfo, _activity_scope

__all__ = ["ActivityEnvironment"]


class ActivityEnvironment:
    """Runs activities with captured heartbeats and deliverable cancellation.

    The keyword arguments fill ``ActivityInfo`` (``activity_type`` defaults to
    the function's ``@activity.defn`` name). ``on_heartbeat`` is called with
    each heartbeat's details (e.g. to cancel after the third one).
    """

    def __init__(
        self,
        *,
        activity_type: str | None = None,
        task_queue: str = "test-queue",
        attempt_number: int = 1,
        workflow_id: str = "test-workflow",
        run_id: str = "test-run",
        activity_id: str = "test-activity",
        worker_id: str = "test-worker",
        on_heartbeat: Callable[[dict[str, Any] | None], None] | None = None,
    ) -> None:
        if attempt_number < 1:
            raise ValueError("attempt_number must be >= 1")
        self.activity_type = activity_type
        self.task_queue = task_queue
        self.attempt_number = attempt_number
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.activity_id = activity_id
        self.worker_id = worker_id
        self.on_heartbeat = on_heartbeat
        #: The details of every heartbeat, in order (``None`` for a bare heartbeat).
        self.heartbeats: list[dict[str, Any] | None] = []
        #: The info of the last (or running) attempt.
        self.info: ActivityInfo | None = None
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Request cancellation: the activity's next heartbeat raises ``ActivityCancelled``.

        Safe from any thread, before or during :meth:`run`.
        """
        self._cancel.set()

    async def _heartbeat(self, details: dict[str, Any] | None) -> Mapping[str, Any]:
        self.heartbeats.append(details)
        if self.on_heartbeat is not None:
            self.on_heartbeat(details)
        return {"cancel_requested": self._cancel.is_set()}

    def _context(self, fn: Callable[..., Any]) -> ActivityContext:
        name = self.activity_type or getattr(fn, "__activity_name__", None) or fn.__name__
        self.info = ActivityInfo(
            task_id=f"test-task-{uuid.uuid4().hex[:8]}",
            activity_type=str(name),
            activity_attempt_id=f"test-attempt-{uuid.uuid4().hex[:8]}",
            attempt_number=self.attempt_number,
            task_queue=self.task_queue,
            worker_id=self.worker_id,
            workflow_id=self.workflow_id,
            run_id=self.run_id,
            activity_id=self.activity_id,
        )
        return ActivityContext(
            self.info, heartbeat=self._heartbeat, loop=asyncio.get_running_loop()
        )

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn(*args)`` as an activity attempt and return its result (or raise)."""
        ctx = self._context(fn)
        if inspect.iscoroutinefunction(fn):
            with _activity_scope(ctx):
                return await fn(*args)

        def call() -> Any:
            with _activity_scope(ctx):
                return fn(*args)

        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(None, context.run, call)

    def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        """:meth:`run` from synchronous test code (starts and closes its own event loop)."""
        return asyncio.run(self.run(fn, *args))
