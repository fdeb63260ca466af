"""Admin system endpoints (control-plane.md §13), computed from the dev server's tables.

Reduced but same-keyed where upstream reports engine projections the dev
server does not keep. Passes act immediately in one transaction; none of
them is needed for correctness (the scheduler loop already expires leases,
enforces activity timeouts and fires timers).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from durable_workflow.server.engine import activity_timeouts
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.engine.runs import create_workflow_task, is_terminal
from durable_workflow.server.engine.workflow_tasks import repair_task
from durable_workflow.server.store.rows import TaskRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import fmt_offset, parse
from durable_workflow.server.store.tx import Tx


def task_repair() -> dict[str, Any]:
    """The repair policy and an empty candidate report (cluster info, repair pass)."""
    return {
        "policy": {
            "redispatch_after_seconds": 3,
            "loop_throttle_seconds": 5,
            "scan_limit": 25,
            "scan_strategy": "scope_fair_round_robin",
            "failure_backoff_max_seconds": 60,
            "failure_backoff_strategy": "exponential_by_repair_count",
        },
        "candidates": {
            "existing_task_candidates": 0,
            "missing_task_candidates": 0,
            "total_candidates": 0,
            "scan_limit": 25,
            "scan_strategy": "scope_fair_round_robin",
            "selected_existing_task_candidates": 0,
            "selected_missing_task_candidates": 0,
            "selected_total_candidates": 0,
            "existing_task_scan_limit_reached": False,
            "missing_task_scan_limit_reached": False,
            "scan_pressure": False,
            "oldest_task_candidate_created_at": None,
            "oldest_missing_run_started_at": None,
            "max_task_candidate_age_ms": 0,
            "max_missing_run_age_ms": 0,
            "scopes": [],
        },
    }


def limit_of(raw: Any, field: str = "limit") -> int:
    if raw is None:
        return 100
    if isinstance(raw, str) and raw.strip().isdecimal():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ValidationFailed({field: [f"The {field} must be an integer of at least 1."]})
    return min(raw, 100)


def _id_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > 100
        or not all(isinstance(v, str) and 1 <= len(v) <= 128 for v in value)
    ):
        raise ValidationFailed({key: [f"The {key} must be a list of at most 100 ids."]})
    return list(value)


def metrics(tx: Tx, namespace: str) -> dict[str, Any]:
    rows = tx.all(
        "SELECT r.workflow_type AS workflow_type, COUNT(*) AS failed FROM tasks t"
        " JOIN workflow_runs r ON r.run_id = t.run_id WHERE t.namespace = ?"
        " AND t.task_type = 'workflow' AND t.status = 'failed' GROUP BY r.workflow_type"
        " ORDER BY failed DESC LIMIT 20",
        (namespace,),
    )
    by_type = [{"workflow_type": r["workflow_type"], "max_consecutive_failures": r["failed"],
                "failed_task_count": r["failed"]} for r in rows]  # fmt: skip
    return {
        "generated_at": tx.stamp,
        "namespace": namespace,
        "metrics": {
            "dw_workflow_task_consecutive_failures": {
                "max_consecutive_failures": max((r["failed"] for r in rows), default=0),
                "failed_task_count": sum(r["failed"] for r in rows),
                "workflow_type_count": len(rows),
                "workflow_type_limit": 20,
                "workflow_types_truncated": False,
                "suppressed_workflow_type_count": 0,
                "suppressed_failed_task_count": 0,
                "label_cardinality_policy": "bounded_workflow_types",
                "by_workflow_type": by_type,
            },
            "dw_projection_drift_total": {
                "total": 0,
                "table_count": 0,
                "tables_with_drift": 0,
                "scope": "server",
                "label_cardinality_policy": "bounded_tables",
                "by_table": [],
            },
        },
        "cardinality": {
            "metric_label_sets": {
                "dw_workflow_task_consecutive_failures": "bounded_workflow_types",
                "dw_projection_drift_total": "bounded_tables",
            }
        },
    }


def _grouped(tx: Tx, sql: str, namespace: str) -> dict[str, int]:
    return {str(r["k"]): int(r["n"]) for r in tx.all(sql, (namespace,))}


def operator_metrics(tx: Tx, namespace: str) -> dict[str, Any]:
    runs = _grouped(
        tx, "SELECT status AS k, COUNT(*) AS n FROM workflow_runs WHERE namespace = ?"
        " GROUP BY status", namespace,
    )  # fmt: skip
    tasks = _grouped(
        tx, "SELECT task_type || ':' || status AS k, COUNT(*) AS n FROM tasks"
        " WHERE namespace = ? GROUP BY task_type, status", namespace,
    )  # fmt: skip
    activities = _grouped(
        tx, "SELECT status AS k, COUNT(*) AS n FROM activity_executions WHERE namespace = ?"
        " GROUP BY status", namespace,
    )  # fmt: skip
    workers = _grouped(
        tx, "SELECT status AS k, COUNT(*) AS n FROM workers WHERE namespace = ?"
        " GROUP BY status", namespace,
    )  # fmt: skip
    events = tx.one(
        "SELECT COUNT(*) AS n FROM history_events h JOIN workflow_runs r ON r.run_id = h.run_id"
        " WHERE r.namespace = ?",
        (namespace,),
    )
    ready = sum(n for k, n in tasks.items() if k.endswith(":ready"))
    return {
        "namespace": namespace,
        "operator_metrics": {
            "generated_at": tx.stamp,
            "runs": runs,
            "tasks": tasks,
            "activities": activities,
            "backlog": {"ready_tasks": ready},
            "repair": task_repair()["candidates"],
            "starts": {"total": sum(runs.values())},
            "history": {"event_count": 0 if events is None else events["n"]},
            "command_contracts": {},
            "projections": {},
            "workers": workers,
            "backend": {"database": "sqlite", "journal_mode": "wal"},
            "structural_limits": {},
            "update_wait": {"completion_timeout_seconds": 10},
            "repair_policy": task_repair()["policy"],
        },
    }


def repair_status(tx: Tx, namespace: str) -> dict[str, Any]:
    report = task_repair()
    expired = tx.one(
        "SELECT COUNT(*) AS n, MIN(lease_expires_at) AS oldest FROM tasks WHERE namespace = ?"
        " AND status = 'leased' AND lease_expires_at <= ?",
        (namespace, tx.stamp),
    )
    count = 0 if expired is None else int(expired["n"])
    candidates = report["candidates"]
    candidates.update(
        existing_task_candidates=count,
        total_candidates=count,
        selected_existing_task_candidates=min(count, 25),
        selected_total_candidates=min(count, 25),
        oldest_task_candidate_created_at=expired["oldest"] if expired else None,
    )
    return report


def repair_pass(tx: Tx, namespace: str, body: dict[str, Any]) -> Outcome:
    run_ids = _id_list(body, "run_ids")
    instance = body.get("instance_id")
    if instance is not None and (not isinstance(instance, str) or not 1 <= len(instance) <= 128):
        raise ValidationFailed({"instance_id": ["The instance id must be 1 to 128 characters."]})
    sql = (
        "SELECT t.* FROM tasks t JOIN workflow_runs r ON r.run_id = t.run_id"
        " WHERE t.namespace = ? AND t.task_type = 'workflow' AND t.status = 'leased'"
        " AND t.lease_expires_at <= ?"
    )
    params: list[Any] = [namespace, tx.stamp]
    if run_ids:
        sql += f" AND t.run_id IN ({', '.join('?' for _ in run_ids)})"
        params += run_ids
    if instance:
        sql += " AND r.workflow_id = ?"
        params.append(instance)
    expired = tx.all(sql + " LIMIT 25", tuple(params), row=TaskRow)
    for task in expired:
        repair_task(tx, task, record=True)
    missing = 0
    targets = list(run_ids)
    if instance:
        current = tx.one(
            "SELECT current_run_id FROM workflow_instances WHERE workflow_id = ? AND namespace = ?",
            (instance, namespace),
        )
        if current and current["current_run_id"]:
            targets.append(current["current_run_id"])
    for run_id in targets:
        run = tx.one(
            "SELECT * FROM workflow_runs WHERE run_id = ? AND namespace = ?",
            (run_id, namespace),
            row=WorkflowRunRow,
        )
        if run is None or is_terminal(run["status"]):
            continue
        if tx.one("SELECT 1 FROM tasks WHERE run_id = ? AND status IN ('ready', 'leased')",
                  (run_id,)) is None:  # fmt: skip
            create_workflow_task(tx, run, {"workflow_wait_kind": "repair"})
            missing += 1
    activity = activity_timeouts.enforce(tx, 100)
    return 200, {
        "connection": None, "queue": None, "run_ids": run_ids, "instance_id": instance,
        "respect_throttle": False, "throttled": False,
        "selected_existing_task_candidates": len(expired),
        "selected_missing_task_candidates": missing,
        "selected_total_candidates": len(expired) + missing,
        "repaired_existing_tasks": len(expired), "repaired_missing_tasks": missing,
        "dispatched_tasks": len(expired) + missing, "existing_task_failures": [],
        "missing_run_failures": [], "deadline_expired_candidates": 0,
        "deadline_expired_tasks_created": 0, "deadline_expired_failures": [],
        "activity_timeout_candidates": activity, "activity_timeouts_enforced": activity,
        "activity_timeout_failures": [], "selected_command_contract_candidates": 0,
        "backfilled_command_contracts": 0, "command_contract_backfill_unavailable": 0,
        "command_contract_failures": [],
    }  # fmt: skip


def _expired_activities(tx: Tx, limit: int) -> list[str]:
    rows = tx.conn.execute(activity_timeouts.DEADLINE_SQL, {"now": tx.stamp, "limit": limit + 1})
    return [str(r["id"]) for r in rows]


def activity_timeout_status(tx: Tx, limit: int) -> dict[str, Any]:
    ids = _expired_activities(tx, limit)
    return {"expired_count": min(len(ids), limit), "expired_execution_ids": ids[:limit],
            "scan_limit": limit, "scan_pressure": len(ids) > limit}  # fmt: skip


def activity_timeout_pass(tx: Tx, body: dict[str, Any]) -> Outcome:
    limit = limit_of(body.get("limit"))
    wanted = _id_list(body, "execution_ids")
    expired = _expired_activities(tx, limit)
    candidates = wanted or expired[:limit]
    results = []
    for execution_id in candidates:
        if execution_id in expired:
            results.append({"execution_id": execution_id, "outcome": "enforced",
                            "has_retry": False})  # fmt: skip
        else:
            results.append({"execution_id": execution_id, "outcome": "skipped",
                            "reason": "deadline_not_expired"})  # fmt: skip
    if any(r["outcome"] == "enforced" for r in results):
        activity_timeouts.enforce(tx, limit)
    enforced = sum(1 for r in results if r["outcome"] == "enforced")
    return 200, {"processed": len(results), "enforced": enforced,
                 "skipped": len(results) - enforced, "failed": 0, "results": results}  # fmt: skip


def _retention_cutoff(tx: Tx, namespace: str) -> tuple[int, str]:
    row = tx.one("SELECT retention_days FROM namespaces WHERE name = ?", (namespace,))
    days = 30 if row is None else int(row["retention_days"])
    return days, (tx.now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retention_status(tx: Tx, namespace: str, limit: int) -> dict[str, Any]:
    days, cutoff = _retention_cutoff(tx, namespace)
    rows = tx.all(
        "SELECT run_id FROM workflow_runs WHERE namespace = ? AND closed_at IS NOT NULL"
        " AND archived_at IS NULL AND closed_at < ? ORDER BY closed_at LIMIT ?",
        (namespace, cutoff, limit + 1),
    )
    ids = [r["run_id"] for r in rows]
    return {"namespace": namespace, "retention_days": days,
            "cutoff": fmt_offset(parse(cutoff)), "expired_run_count": min(len(ids), limit),
            "expired_run_ids": ids[:limit], "scan_limit": limit,
            "scan_pressure": len(ids) > limit}  # fmt: skip


def _prune(tx: Tx, run: WorkflowRunRow) -> dict[str, Any]:
    run_id = run["run_id"]
    deleted = {}
    for table in ("history_events", "tasks", "timers", "workflow_updates", "workflow_commands",
                  "condition_waits"):  # fmt: skip
        deleted[table] = tx.run(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
    deleted["activity_attempts"] = tx.run(
        "DELETE FROM activity_attempts WHERE execution_id IN"
        " (SELECT id FROM activity_executions WHERE run_id = ?)",
        (run_id,),
    )
    deleted["activity_executions"] = tx.run(
        "DELETE FROM activity_executions WHERE run_id = ?", (run_id,)
    )
    deleted["workflow_runs"] = tx.run("DELETE FROM workflow_runs WHERE run_id = ?", (run_id,))
    return {"run_id": run_id, "outcome": "pruned",
            "history_events_deleted": deleted["history_events"],
            "tasks_deleted": deleted["tasks"], "external_payloads_deleted": 0,
            "deleted": deleted}  # fmt: skip


def retention_pass(tx: Tx, namespace: str, body: dict[str, Any]) -> Outcome:
    limit = limit_of(body.get("limit"))
    wanted = _id_list(body, "run_ids")
    _, cutoff = _retention_cutoff(tx, namespace)
    if not wanted:
        wanted = retention_status(tx, namespace, limit)["expired_run_ids"]
    results = []
    for run_id in wanted[:limit]:
        run = tx.one(
            "SELECT * FROM workflow_runs WHERE run_id = ? AND namespace = ?",
            (run_id, namespace),
            row=WorkflowRunRow,
        )
        if run is None:
            results.append({"run_id": run_id, "outcome": "skipped", "reason": "run_not_found"})
        elif not is_terminal(run["status"]):
            results.append({"run_id": run_id, "outcome": "skipped", "reason": "run_not_terminal"})
        elif run["archived_at"]:
            results.append({"run_id": run_id, "outcome": "skipped", "reason": "run_archived"})
        elif cast(str, run["closed_at"]) >= cutoff:  # a terminal run is closed
            results.append({"run_id": run_id, "outcome": "skipped",
                            "reason": "retention_not_expired"})  # fmt: skip
        else:
            results.append(_prune(tx, run))
    pruned = sum(1 for r in results if r["outcome"] == "pruned")
    return 200, {"processed": len(results), "pruned": pruned,
                 "skipped": len(results) - pruned, "failed": 0, "results": results}  # fmt: skip
