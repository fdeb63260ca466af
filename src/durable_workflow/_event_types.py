"""History event types both sides of the wire name (history-events.md §3).

The client reads a run's ending from them (``client._history``) and the dev server
wakes the waiters of a closing run on them (``server.engine.history``).
"""

from __future__ import annotations

__all__ = ["TERMINAL_EVENT_TYPES"]

# The events that close a run; the last one of them in a history is how it ended.
TERMINAL_EVENT_TYPES = frozenset(
    {
        "WorkflowCompleted",
        "WorkflowFailed",
        "WorkflowTerminated",
        "WorkflowCancelled",
        "WorkflowTimedOut",
        "WorkflowContinuedAsNew",
    }
)
