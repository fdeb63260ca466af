"""Read views of runs for the control plane: describe, list runs, visibility list.

Shapes follow control-plane.md §7.1, §7.3-§7.5; lookups answer the
documented 404 reasons (``instance_not_found``, ``run_not_found``).
"""

from __future__ import annotations

from typing import Any

from durable_workflow._event_types import TERMINAL_EVENT_TYPES
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.errors import not_found
from durable_workflow.server.engine.history import (
    control_event,
    decode_token,
    encode_token,
    read_page,
)
from durable_workflow.server.engine.payload_codec import (
    is_external_envelope,
    try_decode,
    wire_envelope,
)
from durable_workflow.server.engine.runs import OPEN_STATUSES, is_terminal, status_bucket
from durable_workflow.server.store.rows import HistoryEventRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import offset_from_stored
from durable_workflow.server.store.tx import Tx, dumps, loads


def find_instance_run(tx: Tx, namespace: str, workflow_id: str) -> WorkflowRunRow:
    """The current (highest run_number) run of an instance, or 404 instance_not_found."""
    run = tx.one(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND namespace = ?"
        " ORDER BY run_number DESC LIMIT 1",
        (workflow_id, namespace),
        row=WorkflowRunRow,
    )
    if run is None:
        raise not_found("instance_not_found", "Workflow not found.", workflow_id=workflow_id)
    return run


def find_run(tx: Tx, namespace: str, workflow_id: str, run_id: str) -> WorkflowRunRow:
    run = tx.one(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND run_id = ? AND namespace = ?",
        (workflow_id, run_id, namespace),
        row=WorkflowRunRow,
    )
    if run is None:
        raise not_found(
            "run_not_found", "Workflow run not found.", workflow_id=workflow_id, run_id=run_id
        )
    return run


def _json_or_empty(text: str | None) -> Any:
    value = loads(text)
    return value if value else []


def run_view(tx: Tx, run: WorkflowRunRow) -> dict[str, Any]:
    """The describe body shared by describe and describe-run (control-plane §7.3)."""
    instance = tx.one(
        "SELECT current_run_id, run_count FROM workflow_instances WHERE workflow_id = ?",
        (run["workflow_id"],),
    )
    terminal = is_terminal(run["status"])
    codec = run["payload_codec"]
    decoded_input = try_decode(codec, run["arguments"])
    wait_kind = None
    if not terminal:
        wait_kind = pending_wait_kind(tx, run["run_id"])
    return {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "namespace": run["namespace"],
        "workflow_type": run["workflow_type"],
        "business_key": run["business_key"],
        "status": run["status"],
        "status_bucket": status_bucket(run["status"]),
        "is_terminal": terminal,
        "closed_reason": run["closed_reason"],
        "task_queue": run["task_queue"],
        "run_number": run["run_number"],
        "run_count": None if instance is None else instance["run_count"],
        "is_current_run": None if instance is None else instance["current_run_id"] == run["run_id"],
        "compatibility": run["compatibility"],
        "payload_codec": codec,
        "execution_timeout_seconds": run["execution_timeout_seconds"],
        "run_timeout_seconds": run["run_timeout_seconds"],
        "execution_deadline_at": offset_from_stored(run["execution_deadline_at"]),
        "run_deadline_at": offset_from_stored(run["run_deadline_at"]),
        "input": decoded_input
        if isinstance(decoded_input, list) or is_external_envelope(decoded_input)
        else [],
        "output": try_decode(codec, run["output"]),
        "input_envelope": wire_envelope(codec, run["arguments"]),
        "output_envelope": wire_envelope(codec, run["output"]),
        "started_at": run["started_at"],
        "closed_at": run["closed_at"],
        "last_progress_at": offset_from_stored(run["last_progress_at"]),
        "wait_kind": wait_kind,
        "wait_reason": None,
        "memo": _json_or_empty(run["memo"]),
        "search_attributes": _json_or_empty(run["search_attributes"]),
        "actions": {
            "can_signal": False,
            "can_query": False,
            "can_update": False,
            "can_cancel": False,
            "can_terminate": False,
            "can_repair": False,
            "can_archive": False,
        },
    }


def pending_wait_kind(tx: Tx, run_id: str) -> str | None:
    """What an open run waits on: an open activity, else a pending timer, else nothing."""
    if tx.one(
        "SELECT 1 FROM activity_executions WHERE run_id = ? AND status IN ('pending','running')",
        (run_id,),
    ):
        return "activity"
    if tx.one("SELECT 1 FROM timers WHERE run_id = ? AND status = 'pending'", (run_id,)):
        return "timer"
    return None


def list_runs(tx: Tx, namespace: str, workflow_id: str) -> dict[str, Any]:
    find_instance_run(tx, namespace, workflow_id)
    rows = tx.all(
        "SELECT * FROM workflow_runs WHERE workflow_id = ? AND namespace = ? ORDER BY run_number",
        (workflow_id, namespace),
        row=WorkflowRunRow,
    )
    return {
        "workflow_id": workflow_id,
        "run_count": len(rows),
        "runs": [
            {
                "run_id": r["run_id"],
                "run_number": r["run_number"],
                "workflow_type": r["workflow_type"],
                "business_key": r["business_key"],
                "status": r["status"],
                "task_queue": r["task_queue"],
                "started_at": r["started_at"],
                "closed_at": r["closed_at"],
            }
            for r in rows
        ],
    }


_BUCKET_STATUSES = {
    "running": ("pending", "running", "waiting"),
    "completed": ("completed",),
    "failed": ("failed", "cancelled", "terminated"),
}


def list_workflows(
    tx: Tx,
    namespace: str,
    *,
    workflow_type: str | None,
    status: str | None,
    query: str | None,
    page_size: int,
    offset: int,
    run_status: str | None = None,
    task_queue: str | None = None,
    id_prefix: str | None = None,
    search_attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run summaries of the namespace, newest first (control-plane.md §7.1).

    The keyword filters after ``offset`` are the web UI's (one exact status, queue,
    workflow-id prefix, search attributes equal to a value); the API sends none.
    """
    sql = "SELECT * FROM workflow_runs WHERE namespace = ?"
    params: list[Any] = [namespace]
    if workflow_type:
        sql += " AND workflow_type = ?"
        params.append(workflow_type)
    if status:
        statuses = _BUCKET_STATUSES[status]
        sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
        params.extend(statuses)
    if query:
        like = "%" + _like_escape(query) + "%"
        sql += " AND (workflow_id LIKE ? ESCAPE '\\' OR business_key LIKE ? ESCAPE '\\')"
        params.extend([like, like])
    if run_status:
        sql += " AND status = ?"
        params.append(run_status)
    if task_queue:
        sql += " AND task_queue = ?"
        params.append(task_queue)
    if id_prefix:
        sql += " AND workflow_id LIKE ? ESCAPE '\\'"
        params.append(_like_escape(id_prefix) + "%")
    for key, value in (search_attributes or {}).items():
        # A scalar attribute equal to the value, or a list attribute holding it.
        path = '$."' + key.replace('"', "") + '"'
        sql += (
            " AND (CAST(json_extract(search_attributes, ?) AS TEXT) = ?"
            " OR EXISTS (SELECT 1 FROM json_each(search_attributes, ?)"
            " WHERE CAST(value AS TEXT) = ?))"
        )
        params.extend([path, value, path, value])
    sql += " ORDER BY started_at DESC, run_id DESC LIMIT ? OFFSET ?"
    params.extend([page_size + 1, offset])
    rows = tx.all(sql, tuple(params), row=WorkflowRunRow)
    page = rows[:page_size]
    items = [
        {
            "workflow_id": r["workflow_id"],
            "run_id": r["run_id"],
            "workflow_type": r["workflow_type"],
            "business_key": r["business_key"],
            "status": r["status"],
            "status_bucket": status_bucket(r["status"]),
            "task_queue": r["task_queue"],
            "is_terminal": is_terminal(r["status"]),
            "started_at": r["started_at"],
            "closed_at": r["closed_at"],
            "search_attributes": _json_or_empty(r["search_attributes"]),
        }
        for r in page
    ]
    more = len(rows) > page_size
    return {
        "workflows": items,
        "workflow_count": len(items),
        "next_page_token": encode_token(offset + page_size) if more else None,
    }


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_facets(tx: Tx, namespace: str) -> dict[str, Any]:
    """Runs per status, and the workflow types and task queues in use (the UI's filters)."""
    counts = {
        str(r["status"]): int(r["n"])
        for r in tx.all(
            "SELECT status, COUNT(*) AS n FROM workflow_runs WHERE namespace = ? GROUP BY status",
            (namespace,),
        )
    }
    types = tx.all(
        "SELECT DISTINCT workflow_type FROM workflow_runs WHERE namespace = ? ORDER BY 1",
        (namespace,),
    )
    queues = tx.all(
        "SELECT DISTINCT task_queue FROM workflow_runs WHERE namespace = ?"
        " AND task_queue IS NOT NULL ORDER BY 1",
        (namespace,),
    )
    return {
        "status_counts": counts,
        "total": sum(counts.values()),
        "workflow_types": [str(r["workflow_type"]) for r in types],
        "task_queues": [str(r["task_queue"]) for r in queues],
    }


def describe_workflow(tx: Tx, namespace: str, workflow_id: str) -> dict[str, Any]:
    return run_view(tx, find_instance_run(tx, namespace, workflow_id))


def describe_run(tx: Tx, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
    return run_view(tx, find_run(tx, namespace, workflow_id, run_id))


def history_page(
    tx: Tx,
    cfg: ServerConfig,
    namespace: str,
    workflow_id: str,
    run_id: str,
    *,
    page_size: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """One control-plane history page; an undecodable token reads from the start."""
    size = page_size or cfg.control_history_page_size_default
    find_run(tx, namespace, workflow_id, run_id)
    rows, more = read_page(tx, run_id, decode_token(page_token) or 0, size)
    return {
        "workflow_id": workflow_id,
        "run_id": run_id,
        "events": [control_event(r) for r in rows],
        "next_page_token": encode_token(rows[-1]["sequence"]) if more and rows else None,
    }


def last_sequence(tx: Tx, run_id: str) -> int:
    row = tx.one("SELECT last_history_sequence FROM workflow_runs WHERE run_id = ?", (run_id,))
    return 0 if row is None else int(row["last_history_sequence"])


def run_closed(tx: Tx, run_id: str) -> bool:
    """Whether the run has closed (its closing event is in the same transaction)."""
    row = tx.one("SELECT status FROM workflow_runs WHERE run_id = ?", (run_id,))
    return row is not None and row["status"] not in OPEN_STATUSES


def run_payload_codec(tx: Tx, run_id: str) -> str | None:
    row = tx.one("SELECT payload_codec FROM workflow_runs WHERE run_id = ?", (run_id,))
    return None if row is None else row["payload_codec"]


_TERMINAL_TYPES_SQL = ", ".join(f"'{name}'" for name in TERMINAL_EVENT_TYPES)


def closed_runs(tx: Tx, namespace: str, runs: dict[str, str]) -> dict[str, Any]:
    """Which of ``runs`` (run id -> workflow id) have closed, each with its terminal event.

    ``closed`` lists each closed run's status, codec and last terminal event as a history
    page shows it (none for a run closed without one); ``unknown`` the run ids not found
    in the namespace under their workflow id. One query reads every run's status; a
    second reads the terminal events, only when some run has closed.
    """
    rows = tx.all(
        "SELECT run_id, workflow_id, status, payload_codec FROM workflow_runs"
        " WHERE namespace = ? AND run_id IN (SELECT value FROM json_each(?))",
        (namespace, dumps(list(runs))),
    )
    found = {row["run_id"]: row for row in rows if runs.get(row["run_id"]) == row["workflow_id"]}
    closed = [row for row in found.values() if row["status"] not in OPEN_STATUSES]
    terminal: dict[str, dict[str, Any]] = {}
    if closed:
        events = tx.all(
            "SELECT * FROM history_events WHERE run_id IN (SELECT value FROM json_each(?))"
            f" AND event_type IN ({_TERMINAL_TYPES_SQL}) ORDER BY run_id, sequence",
            (dumps([row["run_id"] for row in closed]),),
            row=HistoryEventRow,
        )
        for event in events:
            terminal[event["run_id"]] = control_event(event)  # the last one wins
    return {
        "closed": [
            {
                "workflow_id": row["workflow_id"],
                "run_id": row["run_id"],
                "status": row["status"],
                "payload_codec": row["payload_codec"],
                "events": [terminal[row["run_id"]]] if row["run_id"] in terminal else [],
            }
            for row in closed
        ],
        "unknown": [run_id for run_id in runs if run_id not in found],
    }
