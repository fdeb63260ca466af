"""Admission of long polls: each poll handler runs only while it holds a capacity slot.

Wraps the three poll handlers (workflow, activity, query tasks) so the matching
layer's :class:`~durable_workflow.server.matching.capacity.PollCapacity` counts every
held poll and a poll past the limit gets the typed 429 at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.matching.capacity import TASK_KINDS, PollCapacity

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _admitted(name: str, handler: Handler, capacity: PollCapacity) -> Handler:
    async def admitted(call: Call) -> Outcome:
        if not capacity.try_acquire():
            body = call.body if isinstance(call.body, dict) else {}
            queue = str(body.get("task_queue") or "")
            return 429, capacity.refusal(name, call.namespace, queue)
        try:
            return await handler(call)
        finally:
            capacity.release()

    return admitted


def admit_polls(handlers: dict[str, Handler], capacity: PollCapacity) -> dict[str, Handler]:
    """``handlers`` with every long-poll handler wrapped by ``capacity``."""
    return {
        name: _admitted(name, handler, capacity) if name in TASK_KINDS else handler
        for name, handler in handlers.items()
    }
