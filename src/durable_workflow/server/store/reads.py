"""Whole-row reads by key that many engine modules repeat, typed by their row shapes."""

from __future__ import annotations

from durable_workflow.server.store.rows import ActivityExecutionRow, WorkerRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx


def get_run(tx: Tx, run_id: str) -> WorkflowRunRow | None:
    return tx.one("SELECT * FROM workflow_runs WHERE run_id = ?", (run_id,), row=WorkflowRunRow)


def get_execution(tx: Tx, execution_id: str) -> ActivityExecutionRow | None:
    return tx.one(
        "SELECT * FROM activity_executions WHERE id = ?", (execution_id,), row=ActivityExecutionRow
    )


def get_worker(tx: Tx, namespace: str, worker_id: str) -> WorkerRow | None:
    return tx.one(
        "SELECT * FROM workers WHERE namespace = ? AND worker_id = ?",
        (namespace, worker_id),
        row=WorkerRow,
    )
