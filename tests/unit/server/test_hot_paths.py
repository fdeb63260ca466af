"""Hot paths: claim candidates in pages, the indexes behind hot queries, and claims that
wake the scheduler only when their lease expires before its next look."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from server_engine_helpers import start, worker

from durable_workflow.server.engine import workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.store.candidates import LIMIT, PAGE, ready_tasks
from durable_workflow.server.store.database import Store
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx


def _plan(engine: Engine, sql: str, params: tuple[object, ...]) -> list[str]:
    with engine.store.read() as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def _one_query_order(engine: Engine) -> list[str]:
    with engine.store.read() as conn:
        rows = conn.execute(
            "SELECT id FROM tasks WHERE namespace = 'default' AND queue = 'q'"
            " AND task_type = 'workflow' AND status = 'ready' ORDER BY available_at, id LIMIT ?",
            (LIMIT,),
        ).fetchall()
    return [row[0] for row in rows]


def test_candidates_come_in_claim_order_and_stop_at_the_limit(engine: Engine) -> None:
    for i in range(LIMIT + PAGE + 3):
        start(engine, f"wf-{i}")
    with engine.store.read() as conn:
        tx = Tx(conn, engine.clock())
        given = [row["id"] for row in ready_tasks(tx, "default", "q", "workflow", "9999")]
    assert given == _one_query_order(engine)
    assert len(given) == LIMIT


def test_a_claim_reaches_a_task_past_the_first_page(engine: Engine) -> None:
    for i in range(PAGE + 5):
        start(engine, f"other-{i}", workflow_type="other")
    start(engine, "mine")
    picky = worker(engine, supported_workflow_types=["greeting"])
    task = engine.tx(workflow_tasks.claim, engine.config, picky)
    assert task is not None and task["workflow_id"] == "mine"


def test_hot_queries_are_served_by_indexes(engine: Engine) -> None:
    claim = _plan(
        engine,
        "SELECT * FROM tasks WHERE namespace = ? AND queue = ? AND task_type = ?"
        " AND status = 'ready' AND available_at <= ? AND (available_at, id) > (?, ?)"
        " ORDER BY available_at, id LIMIT 10",
        ("default", "q", "workflow", "9999", "", ""),
    )
    assert any("tasks_ready" in step for step in claim)
    assert not any("TEMP B-TREE" in step for step in claim), claim
    open_activities = _plan(
        engine,
        "SELECT * FROM activity_executions WHERE status IN ('pending', 'running')"
        " AND schedule_to_close_deadline_at <= ?",
        ("9999",),
    )
    assert any("activity_executions_status" in step for step in open_activities)
    busy = _plan(
        engine,
        "SELECT 1 FROM tasks WHERE run_id = ? AND task_type = 'workflow' AND id != ?"
        " AND status = 'leased' AND +lease_expires_at > ?",
        ("r", "t", fmt_z(engine.clock())),
    )
    assert any("tasks_run" in step for step in busy), busy


def test_a_database_of_the_previous_schema_gains_the_indexes(tmp_path: Path) -> None:
    from durable_workflow.server.store import schema as store_module

    path = tmp_path / "v9.sqlite"
    store = Store(path)
    with store.transaction() as conn:
        conn.execute("DROP INDEX tasks_ready")
        conn.execute("CREATE INDEX tasks_ready ON tasks (namespace, queue, task_type, status,"
                     " available_at)")  # fmt: skip
        conn.execute("DROP INDEX activity_executions_status")
        # Undo migration 11 too, so the database is the version-9 shape again.
        conn.execute("ALTER TABLE workers DROP COLUMN protocol_registration")
        conn.execute("DROP TABLE worker_deregistrations")
        conn.execute("ALTER TABLE condition_waits DROP COLUMN occurrence_id")
        conn.execute("UPDATE schema_version SET version = 9")
    store.close()
    assert store_module.SCHEMA_VERSION >= 10
    reopened = Store(path)
    try:
        with reopened.read() as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            columns = [row[2] for row in conn.execute("PRAGMA index_info(tasks_ready)")]
        assert "activity_executions_status" in names
        assert columns[-2:] == ["available_at", "id"]
    finally:
        reopened.close()


def _claim_wakes(engine: Engine, asleep_for: float | None) -> set[tuple[str, ...]]:
    start(engine)
    polling = worker(engine)
    seen: set[tuple[str, ...]] = set()
    engine.add_listener(seen.update)
    now = engine.clock()
    engine.scheduler_asleep_until = (
        None if asleep_for is None else fmt_z(now + timedelta(seconds=asleep_for))
    )
    assert engine.tx(workflow_tasks.claim, engine.config, polling) is not None
    return seen


def test_a_claim_wakes_a_scheduler_that_is_not_asleep(engine: Engine) -> None:
    assert SCHEDULER_KEY in _claim_wakes(engine, None)


def test_a_claim_wakes_a_scheduler_sleeping_past_the_new_lease_expiry(engine: Engine) -> None:
    assert SCHEDULER_KEY in _claim_wakes(engine, 3600.0)


def test_a_claim_lets_a_scheduler_sleep_that_wakes_before_the_lease_expires(
    engine: Engine,
) -> None:
    assert SCHEDULER_KEY not in _claim_wakes(engine, 10.0)
