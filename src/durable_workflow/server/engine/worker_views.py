"""Worker management views: list, describe, deregister (control-plane.md §12).

A registration is reported ``stale`` when its last heartbeat is older than
the staleness window (the stored status is kept otherwise).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durable_workflow.server.engine.errors import ValidationFailed, not_found
from durable_workflow.server.engine.worker_registrations import recover_leases
from durable_workflow.server.store.reads import get_worker
from durable_workflow.server.store.rows import WorkerRow
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import Tx, loads


def stale_before(tx: Tx, stale_seconds: float) -> str:
    return fmt_z(tx.now - timedelta(seconds=stale_seconds))


def worker_item(row: WorkerRow, horizon: str) -> dict[str, Any]:
    stale = row["last_heartbeat_at"] < horizon
    return {
        "worker_id": row["worker_id"],
        "namespace": row["namespace"],
        "task_queue": row["task_queue"],
        "runtime": row["runtime"],
        "sdk_version": row["sdk_version"],
        "build_id": row["build_id"],
        "supported_workflow_types": loads(row["supported_workflow_types"]) or [],
        "supported_activity_types": loads(row["supported_activity_types"]) or [],
        "workflow_definition_fingerprints": loads(row["workflow_definition_fingerprints"]) or [],
        "max_concurrent_workflow_tasks": row["max_concurrent_workflow_tasks"],
        "max_concurrent_activity_tasks": row["max_concurrent_activity_tasks"],
        "status": "stale" if stale else row["status"],
        "last_heartbeat_at": row["last_heartbeat_at"],
        "registered_at": row["registered_at"],
    }


def list_workers(
    tx: Tx, namespace: str, query: dict[str, str], stale_seconds: float
) -> dict[str, Any]:
    status = query.get("status")
    if status is not None and status not in ("active", "draining"):
        raise ValidationFailed({"status": ["The selected status is invalid."]})
    sql = "SELECT * FROM workers WHERE namespace = ?"
    params: list[Any] = [namespace]
    if query.get("task_queue"):
        sql += " AND task_queue = ?"
        params.append(query["task_queue"])
    if status:
        sql += " AND status = ?"
        params.append(status)
    rows = tx.all(sql + " ORDER BY last_heartbeat_at DESC, worker_id", tuple(params), row=WorkerRow)
    horizon = stale_before(tx, stale_seconds)
    return {
        "namespace": namespace,
        "stale_after_seconds": int(stale_seconds),
        "workers": [worker_item(r, horizon) for r in rows],
    }


def _find(tx: Tx, namespace: str, worker_id: str) -> WorkerRow:
    row = get_worker(tx, namespace, worker_id)
    if row is None:
        raise not_found("worker_not_found", f"Worker [{worker_id}] not found.")
    return row


def describe(tx: Tx, namespace: str, worker_id: str, stale_seconds: float) -> dict[str, Any]:
    row = _find(tx, namespace, worker_id)
    item = worker_item(row, stale_before(tx, stale_seconds))
    item["updated_at"] = row["updated_at"] or row["last_heartbeat_at"]
    return item


def deregister(tx: Tx, namespace: str, worker_id: str) -> dict[str, Any]:
    """Remove a registration; its leased workflow tasks are ready again at once.

    Upstream's 0.x control plane leaves them leased until the lease expires; a
    worker deregisters on shutdown, so waiting out its leases only delays the runs
    (docs/compat.md).
    """
    _find(tx, namespace, worker_id)
    recover_leases(tx, namespace, worker_id)
    tx.run("DELETE FROM workers WHERE namespace = ? AND worker_id = ?", (namespace, worker_id))
    return {"worker_id": worker_id, "outcome": "deregistered"}


def fleet(tx: Tx, namespace: str) -> dict[str, Any]:
    """The ``worker_fleet`` block of cluster info: every registration of the namespace."""
    rows = tx.all(
        "SELECT * FROM workers WHERE namespace = ? ORDER BY worker_id", (namespace,), row=WorkerRow
    )
    return {
        "namespace": namespace,
        "active_workers": len(rows),
        "active_worker_scopes": len(rows),
        "queues": sorted({r["task_queue"] for r in rows}),
        "build_ids": sorted({r["build_id"] for r in rows if r["build_id"]}),
        "workers": [
            {
                "worker_id": r["worker_id"],
                "queues": [r["task_queue"]],
                "build_ids": [r["build_id"]] if r["build_id"] else [],
                "recorded_at": r["last_heartbeat_at"],
                "expires_at": None,
            }
            for r in rows
        ],
    }
