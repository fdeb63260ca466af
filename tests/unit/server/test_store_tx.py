"""Tx row reads: typed whole-row reads, update_row, and the shared by-key reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from durable_workflow.server.store.database import Store
from durable_workflow.server.store.reads import get_execution, get_run, get_worker
from durable_workflow.server.store.rows import TaskRow
from durable_workflow.server.store.tx import Tx

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
STAMP = "2026-01-02T03:04:05.000000Z"


@pytest.fixture
def tx(tmp_path: Path) -> Iterator[Tx]:
    store = Store(tmp_path / "dev.sqlite")
    try:
        with store.transaction() as conn:
            yield Tx(conn, NOW)
    finally:
        store.close()


def _insert_task(tx: Tx, task_id: str) -> None:
    tx.insert(
        "tasks",
        {"id": task_id, "namespace": "default", "run_id": "r1", "task_type": "workflow",
         "status": "ready", "queue": "q", "available_at": tx.stamp, "created_at": tx.stamp,
         "updated_at": tx.stamp},
    )  # fmt: skip


def test_a_typed_read_returns_the_whole_row_in_column_order(tx: Tx) -> None:
    _insert_task(tx, "t1")
    task = tx.one("SELECT * FROM tasks WHERE id = ?", ("t1",), row=TaskRow)
    assert task is not None
    assert list(task.items()) == [
        ("id", "t1"), ("namespace", "default"), ("run_id", "r1"), ("task_type", "workflow"),
        ("status", "ready"), ("queue", "q"), ("compatibility", None), ("available_at", STAMP),
        ("leased_at", None), ("lease_owner", None), ("lease_expires_at", None),
        ("attempt_count", 0), ("repair_count", 0), ("payload", "{}"), ("last_error", None),
        ("created_at", STAMP), ("updated_at", STAMP),
    ]  # fmt: skip
    _insert_task(tx, "t2")
    rows = tx.all("SELECT * FROM tasks ORDER BY id", row=TaskRow)
    assert [r["id"] for r in rows] == ["t1", "t2"]
    # Named parameters work as in sqlite3.
    named = tx.all("SELECT * FROM tasks WHERE id = :id", {"id": "t2"}, row=TaskRow)
    assert [r["id"] for r in named] == ["t2"]


def test_update_row_changes_the_table_and_the_row_in_hand(tx: Tx) -> None:
    _insert_task(tx, "t1")
    task = tx.one("SELECT * FROM tasks WHERE id = ?", ("t1",), row=TaskRow)
    assert task is not None
    tx.update_row("tasks", task, {"status": "leased", "lease_owner": "w1", "attempt_count": 1})
    assert (task["status"], task["lease_owner"], task["attempt_count"]) == ("leased", "w1", 1)
    assert tx.one("SELECT * FROM tasks WHERE id = ?", ("t1",), row=TaskRow) == task


def test_reads_by_key_find_the_row_or_none(tx: Tx) -> None:
    assert get_run(tx, "missing") is None
    assert get_execution(tx, "missing") is None
    assert get_worker(tx, "default", "missing") is None
    tx.insert(
        "workers",
        {"namespace": "default", "worker_id": "w1", "task_queue": "q", "runtime": "python",
         "status": "active", "registered_at": tx.stamp, "last_heartbeat_at": tx.stamp},
    )  # fmt: skip
    worker = get_worker(tx, "default", "w1")
    assert worker is not None
    assert (worker["worker_id"], worker["supported_workflow_types"]) == ("w1", "[]")
    assert get_worker(tx, "other", "w1") is None
