"""Names of the dev server's behaviours beyond the protocol (``capabilities.extensions``).

One list for both sides: the dev server advertises them (generation 1 only) and the
SDK uses one only where advertised (``ServerProfile.dev_extension``), so any other
server sees exactly the protocol's requests. docs/compat.md describes each.
"""

from __future__ import annotations

__all__ = [
    "CLOSED_RUNS_WAIT",
    "EAGER_ACTIVITY_DISPATCH",
    "EAGER_WORKFLOW_TASKS",
    "GEN1_ONLY",
    "HISTORY_WAIT_FOR_CLOSE",
]

# The history long poll held until the run closes (``wait_for_close=1``).
HISTORY_WAIT_FOR_CLOSE = "history_wait_for_close"
# A workflow-task completion returns the activity tasks it scheduled, leased to the worker.
EAGER_ACTIVITY_DISPATCH = "eager_activity_dispatch"
# ``POST /api/dev/closed-runs``: which of many runs have closed, held until one does
# (``_dev_operations.CLOSED_RUNS``).
CLOSED_RUNS_WAIT = "closed_runs_wait"
# A workflow-task or activity completion returns ready workflow tasks, leased to the worker.
EAGER_WORKFLOW_TASKS = "eager_workflow_tasks"
# Generation 2 follows the 2.x specs, which have none of them.
GEN1_ONLY = (
    HISTORY_WAIT_FOR_CLOSE,
    EAGER_ACTIVITY_DISPATCH,
    CLOSED_RUNS_WAIT,
    EAGER_WORKFLOW_TASKS,
)
