"""The plain workflow task the dev server adds after an applied update, kept out of history.

The real server creates no workflow task when a worker completes an update task
(only a pending signal or update gets one), so a workflow whose wait an update
satisfied would stay parked until its next signal or timer. The dev server adds
this follow-up task so such workflows move on. Since the real server has no such
task, its traces must not differ from what the real server records:

- a completion that only re-opens the wait still open (same key and fingerprint)
  records nothing: the real server would not have asked, and a re-open recorded
  after a signal accepted during the lease makes upstream 0.4.53's worker fail to
  replay (it pins that signal to the first open, then finds the second unconsumed);
- a signal accepted while the follow-up is still ready takes it over as its own
  signal task, which the real server would have created for that signal.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.conditions import latest_open, reopens
from durable_workflow.server.engine.runs import create_workflow_task, has_open_workflow_task
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, dumps, loads

# Private marker in the task payload (never in the poll response: RESUME_KEYS).
MARKER = "_update_follow_up"


def create(tx: Tx, run: WorkflowRunRow) -> str | None:
    """A plain task after an update was applied, unless the run already has one open."""
    if has_open_workflow_task(tx, run["run_id"]):
        return None
    return create_workflow_task(tx, run, {"workflow_wait_kind": "update", MARKER: True})


def without_repeated_open(
    tx: Tx, task: TaskRow, run_id: str, commands: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The follow-up's commands minus a re-open of the wait that is still open."""
    if not (loads(task["payload"]) or {}).get(MARKER):
        return commands
    wait = latest_open(tx, run_id)
    return [command for command in commands if not reopens(wait, command)]


def hand_to_signal(tx: Tx, run_id: str, context: dict[str, Any]) -> bool:
    """Turn a ready (not yet leased) follow-up into the signal's task; False if none."""
    for row in tx.all(
        "SELECT id, payload FROM tasks WHERE run_id = ? AND task_type = 'workflow'"
        " AND status = 'ready'",
        (run_id,),
    ):
        if (loads(row["payload"]) or {}).get(MARKER):
            tx.update("tasks", "id", row["id"], {"payload": dumps(context), "updated_at": tx.stamp})
            return True
    return False
