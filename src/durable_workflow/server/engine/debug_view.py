"""The diagnostic body of ``GET …/debug`` (control-plane.md §7.6), reduced but same-keyed.

Upstream derives it from projections the dev server does not keep; here it
is computed from the run, its open tasks and activities, and the queue's
registered workers. The SDK does not read it; operators do.
"""

from __future__ import annotations

from typing import Any, cast

from durable_workflow.server.engine.payload_codec import EXTERNAL_MARKER_PREFIX, load_exposed
from durable_workflow.server.engine.run_views import find_instance_run, find_run, run_view
from durable_workflow.server.engine.runs import is_terminal, status_bucket
from durable_workflow.server.store.rows import ActivityExecutionRow, HistoryEventRow, TaskRow
from durable_workflow.server.store.tx import Tx, drop_nulls, dumps, loads

PREVIEW_MAX_BYTES = 1024
_TRUE = ("1", "true", "on", "yes")


def wants_payload(raw: str | None) -> bool:
    return (raw or "").strip().lower() in _TRUE


def _last_event(tx: Tx, run_id: str, include_payload: bool) -> dict[str, Any] | None:
    row = tx.one(
        "SELECT * FROM history_events WHERE run_id = ? ORDER BY sequence DESC LIMIT 1",
        (run_id,),
        row=HistoryEventRow,
    )
    if row is None:
        return None
    payload = load_exposed(row["payload"])
    raw = row["payload"] if EXTERNAL_MARKER_PREFIX not in row["payload"] else dumps(payload)
    size = len(raw.encode("utf-8"))
    keys = sorted(payload) if isinstance(payload, dict) else []
    preview = None
    if include_payload:
        text = raw.encode("utf-8")[:PREVIEW_MAX_BYTES].decode("utf-8", "ignore")
        preview = {"encoding": "json", "size_bytes": size, "max_bytes": PREVIEW_MAX_BYTES,
                   "truncated": size > PREVIEW_MAX_BYTES, "data": text}  # fmt: skip
    return {
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "timestamp": row["recorded_at"],
        "payload_summary": {
            "included": include_payload,
            "encoding": "json",
            "size_bytes": size,
            "top_level_type": type(payload).__name__ if payload is not None else "null",
            "top_level_key_count": len(keys),
            "top_level_keys": keys[:20],
            "top_level_keys_truncated": len(keys) > 20,
            "preview_max_bytes": PREVIEW_MAX_BYTES,
        },
        "payload_preview": preview,
    }


def _pollers(tx: Tx, namespace: str, queue: str) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT worker_id, build_id, last_heartbeat_at, supported_workflow_types,"
        " supported_activity_types FROM workers WHERE namespace = ?"
        " AND task_queue = ? AND status = 'active'",
        (namespace, queue),
    )


def _poller_item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("worker_id", "build_id", "last_heartbeat_at")}


def _registered(pollers: list[dict[str, Any]], column: str) -> set[str] | None:
    """The types the pollers registered; None when one registered none (it may take any)."""
    lists = [loads(p[column]) or [] for p in pollers]
    if not lists or any(not names for names in lists):
        return None
    return {name for names in lists for name in names}


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _registration_findings(
    tx: Tx,
    namespace: str,
    queue: str,
    pollers: list[dict[str, Any]],
    run: Any,
    activities: list[Any],
) -> list[dict[str, Any]]:
    """Types the run needs that no active worker of their queue registered (beyond upstream)."""
    found = []
    workflow_types = _registered(pollers, "supported_workflow_types")
    if workflow_types is not None and run["workflow_type"] not in workflow_types:
        found.append({"severity": "error", "code": "workflow_type_not_registered",
                      "message": f"No worker polling task queue [{queue}] registers workflow type "
                                 f"[{run['workflow_type']}] (registered there: "
                                 f"{_names(workflow_types)})."})  # fmt: skip
    for activity in activities:
        activity_queue = activity["queue"] or queue
        workers = pollers if activity_queue == queue else _pollers(tx, namespace, activity_queue)
        activity_types = _registered(workers, "supported_activity_types")
        if activity_types is not None and activity["activity_type"] not in activity_types:
            found.append({"severity": "error", "code": "activity_type_not_registered",
                          "message": f"No worker polling task queue [{activity_queue}] registers "
                                     f"activity type [{activity['activity_type']}] (registered "
                                     f"there: {_names(activity_types)})."})  # fmt: skip
        failure = _exception_message(activity["exception"])
        if failure is not None:
            found.append({"severity": "warning", "code": "activity_retrying",
                          "message": f"Activity [{activity['activity_type']}] failed "
                                     f"{activity['attempt_count']} attempt(s); last failure: "
                                     f"{failure}"})  # fmt: skip
    return found


def _exception_message(raw: str | None) -> str | None:
    exception = loads(raw) if raw else None
    if isinstance(exception, dict) and isinstance(exception.get("message"), str):
        return str(exception["message"])
    return None


def _recent_failures(tx: Tx, run_id: str, activities: list[Any]) -> list[dict[str, Any]]:
    """Failed workflow tasks and the last failure of retrying activities, newest first."""
    failures: list[dict[str, Any]] = [
        {
            "failure_id": t["id"],
            "source_kind": "workflow_task",
            "source_id": t["id"],
            "message": t["last_error"],
            "created_at": t["updated_at"],
        }
        for t in tx.all(
            "SELECT * FROM tasks WHERE run_id = ? AND task_type = 'workflow' AND status = 'failed'"
            " AND last_error IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 10",
            (run_id,),
            row=TaskRow,
        )
    ]
    for activity in activities:
        message = _exception_message(activity["exception"])
        if message is not None:
            failures.append({"failure_id": activity["id"], "source_kind": "activity_execution",
                             "source_id": activity["id"], "message": message,
                             "created_at": activity["created_at"]})  # fmt: skip
    return failures[:10]


def debug(
    tx: Tx, namespace: str, workflow_id: str, run_id: str | None, include_payload: bool
) -> dict[str, Any]:
    run = (
        find_run(tx, namespace, workflow_id, run_id)
        if run_id
        else find_instance_run(tx, namespace, workflow_id)
    )
    view = run_view(tx, run)
    tasks = tx.all(
        "SELECT * FROM tasks WHERE run_id = ? AND task_type = 'workflow'"
        " AND status IN ('ready', 'leased') ORDER BY id LIMIT 25",
        (run["run_id"],),
        row=TaskRow,
    )
    # A leased task has a lease expiry.
    expired = [
        t for t in tasks if t["status"] == "leased" and cast(str, t["lease_expires_at"]) <= tx.stamp
    ]
    activities = tx.all(
        "SELECT * FROM activity_executions WHERE run_id = ? AND status IN ('pending', 'running')",
        (run["run_id"],),
        row=ActivityExecutionRow,
    )
    queue = run["task_queue"] or "default"
    pollers = _pollers(tx, namespace, queue)
    findings = []
    terminal = is_terminal(run["status"])
    failures = _recent_failures(tx, run["run_id"], activities)
    if not terminal and not pollers:
        findings.append({"severity": "warning", "code": "no_active_pollers",
                         "message": f"No active worker polls task queue [{queue}]."})  # fmt: skip
    if not terminal:
        findings.extend(_registration_findings(tx, namespace, queue, pollers, run, activities))
        if not tasks and failures and failures[0]["source_kind"] == "workflow_task":
            message = f"The last workflow task failed: {failures[0]['message']}"
            findings.append({"severity": "error", "code": "task_problem", "message": message})
    if expired:
        findings.append({"severity": "warning", "code": "expired_leases",
                         "message": f"{len(expired)} workflow task lease(s) expired."})  # fmt: skip
    if terminal:
        diagnostic = "terminal"
    elif expired:
        diagnostic = "needs_attention"
    elif tasks or activities:
        diagnostic = "pending_work"
    elif view["wait_kind"]:
        diagnostic = "waiting"
    else:
        diagnostic = "running"
    execution = drop_nulls(
        {
            "status": run["status"],
            "status_bucket": status_bucket(run["status"]),
            "is_terminal": terminal,
            "workflow_type": run["workflow_type"],
            "task_queue": run["task_queue"],
            "compatibility": run["compatibility"],
            "run_number": run["run_number"],
            "started_at": run["started_at"],
            "closed_at": run["closed_at"],
            "last_progress_at": run["last_progress_at"],
            "wait_kind": view["wait_kind"],
            "last_event": _last_event(tx, run["run_id"], include_payload),
        }
    )
    return {
        "generated_at": tx.stamp,
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "namespace": namespace,
        "diagnostic_status": diagnostic,
        "execution": execution,
        "pending_workflow_tasks": [
            {
                "task_id": t["id"],
                "task_type": "workflow",
                "status": t["status"],
                "queue": t["queue"],
                "compatibility": t["compatibility"],
                "available_at": t["available_at"],
                "leased_at": t["leased_at"],
                "lease_owner": t["lease_owner"],
                "lease_expires_at": t["lease_expires_at"],
                "attempt_count": t["attempt_count"],
                "repair_count": t["repair_count"],
                "wait_context": loads(t["payload"]),
            }
            for t in tasks
        ],
        "pending_activities": [
            {
                "activity_execution_id": a["id"],
                "activity_type": a["activity_type"],
                "status": a["status"],
                "queue": a["queue"],
                "attempt_count": a["attempt_count"],
                "current_attempt_id": a["current_attempt_id"],
                "started_at": a["started_at"],
                "last_heartbeat_at": a["last_heartbeat_at"],
                "last_failure": _exception_message(a["exception"]),
            }
            for a in activities
        ],
        "task_queue": {"name": queue, "pollers": [_poller_item(p) for p in pollers]},
        "recent_failures": failures,
        "compatibility": {
            "run": {"compatibility": run["compatibility"], "task_queue": queue},
            "task_queue_pollers": len(pollers),
            "namespace_worker_fleet": sorted({p["worker_id"] for p in pollers}),
        },
        "findings": findings,
    }
