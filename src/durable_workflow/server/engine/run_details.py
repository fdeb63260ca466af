"""What one run is waiting on and how it links to other runs: the web UI's run page.

The describe body (:func:`run_views.run_view`) says what a run is; this adds
what an operator asks next: which activities, timers, condition waits and
updates are still open (with their deadlines), the continue-as-new chain, the
parent and children, and the history events (read with the control-plane's
event shape).
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.history import control_event, read_page
from durable_workflow.server.engine.run_views import find_instance_run, find_run, run_view
from durable_workflow.server.store.rows import (
    ActivityExecutionRow,
    ChildLinkRow,
    ConditionWaitRow,
    TimerRow,
    WorkflowRunRow,
    WorkflowUpdateRow,
)
from durable_workflow.server.store.tx import Tx, loads


def _run_ref(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"workflow_id": row["workflow_id"], "run_id": row["run_id"], "status": row["status"]}


def _chain(tx: Tx, run: WorkflowRunRow) -> dict[str, Any]:
    """Continued-from / continued-to runs, the parent run and the children started."""
    columns = "SELECT workflow_id, run_id, status FROM workflow_runs"
    previous = None
    if run["continued_from_run_id"]:
        previous = tx.one(columns + " WHERE run_id = ?", (run["continued_from_run_id"],))
    following = tx.one(columns + " WHERE continued_from_run_id = ?", (run["run_id"],))
    parent = tx.one(
        "SELECT l.parent_workflow_id AS workflow_id, l.parent_run_id AS run_id, r.status"
        " FROM child_links l LEFT JOIN workflow_runs r ON r.run_id = l.parent_run_id"
        " WHERE l.child_workflow_id = ? AND l.namespace = ? ORDER BY l.created_at DESC LIMIT 1",
        (run["workflow_id"], run["namespace"]),
    )
    links = tx.all(
        "SELECT * FROM child_links WHERE parent_run_id = ? ORDER BY sequence",
        (run["run_id"],),
        row=ChildLinkRow,
    )
    children = []
    for link in links:
        child = tx.one(
            "SELECT workflow_id, run_id, status, workflow_type FROM workflow_runs"
            " WHERE workflow_id = ? ORDER BY run_number DESC LIMIT 1",
            (link["child_workflow_id"],),
        )
        children.append(
            {
                "workflow_id": link["child_workflow_id"],
                "run_id": None if child is None else child["run_id"],
                "status": None if child is None else child["status"],
                "workflow_type": None if child is None else child["workflow_type"],
                "parent_close_policy": link["parent_close_policy"],
                "link_status": link["status"],
            }
        )
    return {
        "continued_from": _run_ref(previous),
        "continued_to": _run_ref(following),
        "parent": _run_ref(parent),
        "children": children,
    }


def _open_work(tx: Tx, run_id: str) -> dict[str, Any]:
    """Open activities, pending timers, open condition waits and accepted updates."""
    activities = tx.all(
        "SELECT * FROM activity_executions WHERE run_id = ? AND status IN ('pending', 'running')"
        " ORDER BY sequence",
        (run_id,),
        row=ActivityExecutionRow,
    )
    timers = tx.all(
        "SELECT * FROM timers WHERE run_id = ? AND status = 'pending' ORDER BY fire_at",
        (run_id,),
        row=TimerRow,
    )
    waits = tx.all(
        "SELECT * FROM condition_waits WHERE run_id = ? AND status = 'open' ORDER BY sequence",
        (run_id,),
        row=ConditionWaitRow,
    )
    deadlines = {t["id"]: t["fire_at"] for t in timers}
    updates = tx.all(
        "SELECT * FROM workflow_updates WHERE run_id = ? AND status = 'accepted'"
        " ORDER BY accepted_at",
        (run_id,),
        row=WorkflowUpdateRow,
    )
    return {
        "pending_activities": [
            {
                "activity_execution_id": a["id"],
                "activity_type": a["activity_type"],
                "status": a["status"],
                "queue": a["queue"],
                "attempt_count": a["attempt_count"],
                "started_at": a["started_at"],
                "last_heartbeat_at": a["last_heartbeat_at"],
                "retry_policy": loads(a["retry_policy"]),
                "deadlines": {
                    "schedule_to_start": a["schedule_deadline_at"],
                    "start_to_close": a["close_deadline_at"],
                    "schedule_to_close": a["schedule_to_close_deadline_at"],
                    "heartbeat": a["heartbeat_deadline_at"],
                },
            }
            for a in activities
        ],
        "pending_timers": [
            {
                "timer_id": t["id"],
                "sequence": t["sequence"],
                "delay_seconds": t["delay_seconds"],
                "fire_at": t["fire_at"],
                "timer_kind": t["timer_kind"],
            }
            for t in timers
        ],
        "open_condition_waits": [
            {
                "condition_wait_id": w["id"],
                "sequence": w["sequence"],
                "condition_key": w["condition_key"],
                "timeout_seconds": w["timeout_seconds"],
                "deadline": deadlines.get(w["timer_id"] or ""),
                "opened_at": w["created_at"],
            }
            for w in waits
        ],
        "pending_updates": [
            {
                "update_id": u["id"],
                "update_name": u["update_name"],
                "accepted_at": u["accepted_at"],
            }
            for u in updates
        ],
    }


def run_details(
    tx: Tx, namespace: str, workflow_id: str, run_id: str | None = None
) -> dict[str, Any]:
    """The describe body of a run (the instance's current one without ``run_id``), its chain
    (``chain``) and its open work (``pending_*``, ``open_condition_waits``)."""
    run = (
        find_run(tx, namespace, workflow_id, run_id)
        if run_id
        else find_instance_run(tx, namespace, workflow_id)
    )
    return {**run_view(tx, run), "chain": _chain(tx, run), **_open_work(tx, run["run_id"])}


def history_events(tx: Tx, run_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The first ``limit`` events of a run (control-plane shape) and whether more exist."""
    rows, more = read_page(tx, run_id, 0, limit)
    return [control_event(r) for r in rows], more
