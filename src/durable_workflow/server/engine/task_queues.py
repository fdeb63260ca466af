"""Task queue views and build-id rollout (control-plane.md §11).

The dev server has no admission caps, so every server cap is null and the
status is decided by workers and slots alone (``no_active_workers`` ->
``no_slots`` -> ``saturated`` -> ``accepting``). Drain intents are kept per
(namespace, queue, build id); ``''`` is the unversioned cohort.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from durable_workflow.server.engine.errors import ValidationFailed
from durable_workflow.server.engine.worker_views import stale_before
from durable_workflow.server.store.rows import BuildIdIntentRow, WorkerRow
from durable_workflow.server.store.timefmt import parse
from durable_workflow.server.store.tx import Tx, loads

_KINDS = (("workflow", "workflow_tasks"), ("activity", "activity_tasks"))


# Query tasks a queue holds before new queries are refused (the query broker enforces it).
MAX_PENDING_PER_QUEUE = 1024


def queue_names(tx: Tx, namespace: str) -> list[str]:
    rows = tx.all(
        "SELECT DISTINCT queue AS name FROM tasks WHERE namespace = ? AND queue IS NOT NULL"
        " AND task_type IN ('workflow', 'activity')"
        " UNION SELECT DISTINCT task_queue AS name FROM workers WHERE namespace = ?",
        (namespace, namespace),
    )
    return sorted({r["name"] for r in rows if r["name"]})


def _counts(tx: Tx, namespace: str, queue: str, kind: str) -> dict[str, int]:
    row = tx.one(
        "SELECT SUM(status = 'ready') AS ready, SUM(status = 'leased') AS leased,"
        " SUM(status = 'leased' AND lease_expires_at <= ?) AS expired FROM tasks"
        " WHERE namespace = ? AND queue = ? AND task_type = ?",
        (tx.stamp, namespace, queue, kind),
    )
    row = row or {}
    return {
        "ready_count": int(row.get("ready") or 0),
        "leased_count": int(row.get("leased") or 0),
        "expired_lease_count": int(row.get("expired") or 0),
    }


def _pollers(tx: Tx, namespace: str, queue: str, horizon: str) -> list[WorkerRow]:
    return tx.all(
        "SELECT * FROM workers WHERE namespace = ? AND task_queue = ?"
        " ORDER BY last_heartbeat_at < ?, worker_id",
        (namespace, queue, horizon),
        row=WorkerRow,
    )


def _admission(
    kind: str, counts: dict[str, int], pollers: list[WorkerRow], horizon: str
) -> dict[str, Any]:
    fresh = [p for p in pollers if p["status"] == "active" and p["last_heartbeat_at"] >= horizon]
    column = f"max_concurrent_{kind}_tasks"
    slots = sum(int(cast("Mapping[str, Any]", p)[column]) for p in fresh)
    leased = counts["leased_count"]
    if not fresh:
        status = "no_active_workers"
    elif slots <= 0:
        status = "no_slots"
    elif leased >= slots:
        status = "saturated"
    else:
        status = "accepting"
    caps = ("server_max_active_leases_per_queue", "server_max_active_leases_per_namespace",
            "server_max_dispatches_per_minute", "server_max_dispatches_per_minute_per_namespace",
            "server_max_dispatches_per_minute_per_budget_group",
            "server_remaining_active_lease_capacity",
            "server_remaining_namespace_active_lease_capacity",
            "server_remaining_dispatch_capacity", "server_remaining_namespace_dispatch_capacity",
            "server_remaining_budget_group_dispatch_capacity")  # fmt: skip
    usage = ("server_active_lease_count", "server_namespace_active_lease_count",
             "server_dispatch_count_this_minute", "server_namespace_dispatch_count_this_minute",
             "server_budget_group_dispatch_count_this_minute")  # fmt: skip
    return {
        "budget_source": f"worker_registration.max_concurrent_{kind}_tasks",
        "server_budget_source": f"server.admission.{kind}_tasks.max_active_leases_per_queue",
        "active_worker_count": len(fresh),
        "configured_slot_count": slots,
        "leased_count": leased,
        "ready_count": counts["ready_count"],
        "available_slot_count": max(0, slots - leased),
        **{cap: None for cap in caps},
        **{name: 0 for name in usage},
        "server_active_lease_count": leased,
        "server_dispatch_budget_group": None,
        "server_lock_required": False,
        "server_lock_supported": True,
        "status": status,
    }


def _query_admission(pending: int) -> dict[str, Any]:
    return {
        "budget_source": "server.query_tasks.max_pending_per_queue",
        "max_pending_per_queue": MAX_PENDING_PER_QUEUE,
        "approximate_pending_count": pending,
        "remaining_pending_capacity": max(0, MAX_PENDING_PER_QUEUE - pending),
        "lock_required": True,
        "lock_supported": True,
        "status": "full" if pending >= MAX_PENDING_PER_QUEUE else "accepting",
    }


def summary(
    tx: Tx, namespace: str, queue: str, stale_seconds: float, pending_queries: int
) -> dict[str, Any]:
    """The list item (name, namespace, stats, repair, admission) plus what describe adds."""
    horizon = stale_before(tx, stale_seconds)
    pollers = _pollers(tx, namespace, queue, horizon)
    counts = {key: _counts(tx, namespace, queue, kind) for kind, key in _KINDS}
    oldest = tx.one(
        "SELECT t.id, t.task_type, t.run_id, t.available_at, r.workflow_id FROM tasks t"
        " LEFT JOIN workflow_runs r ON r.run_id = t.run_id WHERE t.namespace = ? AND t.queue = ?"
        " AND t.status = 'ready' AND t.task_type IN ('workflow', 'activity')"
        " ORDER BY t.available_at LIMIT 1",
        (namespace, queue),
    )
    age = (
        0.0
        if oldest is None
        else max(0.0, (tx.now - parse(oldest["available_at"])).total_seconds())
    )
    active = sum(1 for p in pollers if p["last_heartbeat_at"] >= horizon)
    expired = sum(c["expired_lease_count"] for c in counts.values())
    return {
        "name": queue,
        "namespace": namespace,
        "stats": {
            "approximate_backlog_count": sum(c["ready_count"] for c in counts.values()),
            "approximate_backlog_age": f"{int(age)}s",
            "approximate_backlog_age_seconds": int(age),
            "oldest_ready_task": None
            if oldest is None
            else {
                "task_id": oldest["id"],
                "task_type": oldest["task_type"],
                "workflow_id": oldest["workflow_id"],
                "run_id": oldest["run_id"],
                "available_at": oldest["available_at"],
                "age_seconds": int(age),
            },
            **counts,
            "pollers": {
                "active_count": active,
                "stale_count": len(pollers) - active,
                "stale_after_seconds": int(stale_seconds),
            },
        },
        "repair": {
            "candidates": expired,
            "dispatch_failed": 0,
            "expired_leases": expired,
            "dispatch_overdue": 0,
            "needs_attention": expired > 0,
            "policy": {"redispatch_after_seconds": 3},
        },
        "admission": {
            "workflow_tasks": _admission("workflow", counts["workflow_tasks"], pollers, horizon),
            "activity_tasks": _admission("activity", counts["activity_tasks"], pollers, horizon),
            "query_tasks": _query_admission(pending_queries),
        },
        "_pollers": pollers,
        "_horizon": horizon,
    }


def describe(
    tx: Tx, namespace: str, queue: str, stale_seconds: float, pending_queries: int
) -> dict[str, Any]:
    item = summary(tx, namespace, queue, stale_seconds, pending_queries)
    horizon = item.pop("_horizon")
    pollers = [
        {
            "worker_id": p["worker_id"], "runtime": p["runtime"],
            "sdk_version": p["sdk_version"], "build_id": p["build_id"],
            "last_heartbeat_at": p["last_heartbeat_at"],
            "status": "stale" if p["last_heartbeat_at"] < horizon else p["status"],
            "is_stale": p["last_heartbeat_at"] < horizon,
            "supported_workflow_types": loads(p["supported_workflow_types"]) or [],
            "supported_activity_types": loads(p["supported_activity_types"]) or [],
            "max_concurrent_workflow_tasks": p["max_concurrent_workflow_tasks"],
            "max_concurrent_activity_tasks": p["max_concurrent_activity_tasks"],
        }
        for p in item.pop("_pollers")
    ]  # fmt: skip
    leases = tx.all(
        "SELECT t.id, t.task_type, t.run_id, t.lease_owner, t.lease_expires_at, t.attempt_count,"
        " r.workflow_id FROM tasks t LEFT JOIN workflow_runs r ON r.run_id = t.run_id"
        " WHERE t.namespace = ? AND t.queue = ? AND t.status = 'leased'"
        " AND t.task_type IN ('workflow', 'activity') ORDER BY t.lease_expires_at LIMIT 50",
        (namespace, queue),
    )
    current = []
    for lease in leases:
        entry = {"task_id": lease["id"], "task_type": lease["task_type"],
                 "workflow_id": lease["workflow_id"], "run_id": lease["run_id"],
                 "lease_owner": lease["lease_owner"],
                 "lease_expires_at": lease["lease_expires_at"],
                 "is_expired": lease["lease_expires_at"] <= tx.stamp}  # fmt: skip
        if lease["task_type"] == "workflow":
            entry["workflow_task_attempt"] = lease["attempt_count"]
        else:
            attempt = tx.one(
                "SELECT id, attempt_number FROM activity_attempts WHERE task_id = ?"
                " ORDER BY attempt_number DESC LIMIT 1",
                (lease["id"],),
            )
            entry["activity_attempt_id"] = None if attempt is None else attempt["id"]
            entry["attempt_number"] = None if attempt is None else attempt["attempt_number"]
        current.append(entry)
    return {"name": item["name"], "namespace": namespace, "pollers": pollers,
            "stats": item["stats"], "current_leases": current, "repair": item["repair"],
            "admission": item["admission"]}  # fmt: skip


_STATUS_ORDER = ("active", "active_with_draining", "draining", "stale_only", "no_workers")


def build_ids(tx: Tx, namespace: str, queue: str, stale_seconds: float) -> dict[str, Any]:
    horizon = stale_before(tx, stale_seconds)
    cohorts: dict[str, dict[str, Any]] = {}
    for worker in tx.all(
        "SELECT * FROM workers WHERE namespace = ? AND task_queue = ?",
        (namespace, queue),
        row=WorkerRow,
    ):
        key = worker["build_id"] or ""
        cohort = cohorts.setdefault(key, {"workers": [], "intent": None})
        cohort["workers"].append(worker)
    for intent in tx.all(
        "SELECT * FROM build_id_intents WHERE namespace = ? AND task_queue = ?",
        (namespace, queue),
        row=BuildIdIntentRow,
    ):
        cohorts.setdefault(intent["build_id"], {"workers": [], "intent": None})["intent"] = intent
    out = []
    for key, cohort in cohorts.items():
        workers, intent = cohort["workers"], cohort["intent"]
        stale = [w for w in workers if w["last_heartbeat_at"] < horizon]
        fresh = [w for w in workers if w["last_heartbeat_at"] >= horizon]
        active = [w for w in fresh if w["status"] == "active"]
        draining = [w for w in fresh if w["status"] == "draining"]
        drain_intent = intent["drain_intent"] if intent else "active"
        if active and (draining or drain_intent == "draining"):
            rollout = "active_with_draining"
        elif active:
            rollout = "active"
        elif draining or drain_intent == "draining":
            rollout = "draining"
        elif stale:
            rollout = "stale_only"
        else:
            rollout = "no_workers"
        beats = [w["last_heartbeat_at"] for w in workers]
        seen = [w["registered_at"] for w in workers] + ([intent["first_seen_at"]] if intent else [])
        out.append({
            "build_id": key or None, "rollout_status": rollout, "drain_intent": drain_intent,
            "drained_at": intent["drained_at"] if intent else None,
            "active_worker_count": len(active), "draining_worker_count": len(draining),
            "stale_worker_count": len(stale), "total_worker_count": len(workers),
            "runtimes": sorted({w["runtime"] for w in workers}),
            "sdk_versions": sorted({w["sdk_version"] for w in workers if w["sdk_version"]}),
            "last_heartbeat_at": max(beats) if beats else None,
            "first_seen_at": min(seen) if seen else None,
        })  # fmt: skip
    out.sort(key=lambda c: c["last_heartbeat_at"] or "", reverse=True)
    out.sort(key=lambda c: (_STATUS_ORDER.index(c["rollout_status"]), c["build_id"] is None))
    return {"namespace": namespace, "task_queue": queue,
            "stale_after_seconds": int(stale_seconds), "build_ids": out}  # fmt: skip


def set_intent(
    tx: Tx, namespace: str, queue: str, body: dict[str, Any], intent: str
) -> dict[str, Any]:
    """Drain (``intent='draining'``) or resume a build-id cohort; idempotent."""
    if "build_id" not in body:
        raise ValidationFailed({"build_id": ["The build id field must be present."]})
    raw = body["build_id"]
    if raw is not None and (not isinstance(raw, str) or len(raw) > 255):
        raise ValidationFailed({"build_id": ["The build id must be a string of at most 255."]})
    key = (raw or "").strip()
    existing = tx.one(
        "SELECT * FROM build_id_intents WHERE namespace = ? AND task_queue = ? AND build_id = ?",
        (namespace, queue, key),
        row=BuildIdIntentRow,
    )
    if intent == "draining":
        drained_at = existing["drained_at"] if existing and existing["drained_at"] else tx.stamp
    else:
        drained_at = None
    tx.run(
        "INSERT INTO build_id_intents (namespace, task_queue, build_id, drain_intent, drained_at,"
        " first_seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (namespace, task_queue, build_id)"
        " DO UPDATE SET drain_intent = excluded.drain_intent, drained_at = excluded.drained_at",
        (namespace, queue, key, intent, drained_at, tx.stamp),
    )
    status_from, status_to = (
        ("active", "draining") if intent == "draining" else ("draining", "active")
    )
    tx.run(
        "UPDATE workers SET status = ?, updated_at = ? WHERE namespace = ? AND task_queue = ?"
        " AND COALESCE(build_id, '') = ? AND status = ?",
        (status_to, tx.stamp, namespace, queue, key, status_from),
    )
    return {"namespace": namespace, "task_queue": queue, "build_id": key or None,
            "drain_intent": intent, "drained_at": drained_at}  # fmt: skip


def list_queues(
    tx: Tx, namespace: str, stale_seconds: float, pending: dict[str, int]
) -> dict[str, Any]:
    """Every queue of the namespace with its summary (``pending``: query tasks per queue)."""
    items = []
    for name in queue_names(tx, namespace):
        item = summary(tx, namespace, name, stale_seconds, pending.get(name, 0))
        items.append({k: v for k, v in item.items() if not k.startswith("_")})
    return {"namespace": namespace, "task_queues": items}
