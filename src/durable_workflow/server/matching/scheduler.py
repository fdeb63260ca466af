"""The scheduler loop: fires timers and expires leases, sleeping until the next due time.

One loop, woken early when a transaction brings new work due before the loop
would look again (engine-semantics.md §18 lists the background work it replaces).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from durable_workflow.server.engine import timers
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.matching.wakeups import Notifier, wait_for
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import SCHEDULER_KEY

log = logging.getLogger(__name__)


class Scheduler:
    """One loop that fires timers and expires leases, sleeping until the next due time."""

    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self.engine = engine
        self.notifier = notifier
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            event = self.notifier.subscribe(SCHEDULER_KEY)
            try:
                try:
                    while self.engine.tx(timers.run_due_work):
                        await asyncio.sleep(0)
                    due = self.engine.tx(timers.next_due_at)
                except Exception:  # keep the loop alive; look again soon (e.g. disk full)
                    log.exception("scheduler pass failed")
                    due = self.engine.clock()
                now = self.engine.clock()
                wait = 3600.0 if due is None else (due - now).total_seconds()
                if wait <= 0:
                    # Due work that a pass could not handle: back off instead of spinning.
                    wait = 1.0
                self.engine.scheduler_asleep_until = fmt_z(now + timedelta(seconds=wait))
                await wait_for(event, wait + 0.001)
            finally:
                self.engine.scheduler_asleep_until = None
                self.notifier.unsubscribe(SCHEDULER_KEY, event)
