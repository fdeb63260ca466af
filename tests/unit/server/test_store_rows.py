"""The row TypedDicts match the migrated schema column for column, type for type."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from durable_workflow.server.store import rows
from durable_workflow.server.store.database import Store

# Every table of the schema and its row shape; schema_version is the migrator's own.
TABLE_ROWS: dict[str, type] = {
    "namespaces": rows.NamespaceRow,
    "workflow_instances": rows.WorkflowInstanceRow,
    "workflow_runs": rows.WorkflowRunRow,
    "workflow_commands": rows.WorkflowCommandRow,
    "history_events": rows.HistoryEventRow,
    "tasks": rows.TaskRow,
    "activity_executions": rows.ActivityExecutionRow,
    "activity_attempts": rows.ActivityAttemptRow,
    "timers": rows.TimerRow,
    "workers": rows.WorkerRow,
    "condition_waits": rows.ConditionWaitRow,
    "workflow_updates": rows.WorkflowUpdateRow,
    "child_links": rows.ChildLinkRow,
    "search_attribute_definitions": rows.SearchAttributeDefinitionRow,
    "build_id_intents": rows.BuildIdIntentRow,
    "schedules": rows.ScheduleRow,
    "schedule_events": rows.ScheduleEventRow,
    "bridge_deliveries": rows.BridgeDeliveryRow,
    "worker_deregistrations": rows.WorkerDeregistrationRow,
}
_SQL_TYPES = {"TEXT": str, "INTEGER": int}


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """table -> column -> expected Python type, from PRAGMA table_info."""
    store = Store(Path(tmp_path_factory.mktemp("rows")) / "dev.sqlite")
    try:
        with store.read() as conn:
            tables = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if r[0] != "schema_version"
            ]
            out: dict[str, dict[str, object]] = {}
            for table in tables:
                out[table] = {}
                for _cid, name, sql_type, notnull, _default, pk in conn.execute(
                    f"PRAGMA table_info({table})"
                ):
                    py = _SQL_TYPES[sql_type]
                    out[table][name] = py if notnull or pk else py | None
            return out
    finally:
        store.close()


def test_every_table_has_a_row_shape(columns: dict[str, dict[str, object]]) -> None:
    assert set(TABLE_ROWS) == set(columns)
    declared = {
        v for v in vars(rows).values() if typing.is_typeddict(v) and v.__module__ == rows.__name__
    }
    # Every shape is a table's row, or the part of one that an insert writes.
    assert declared - set(TABLE_ROWS.values()) == {rows.NewWorkflowRun}
    assert set(TABLE_ROWS.values()) <= declared


@pytest.mark.parametrize("table", sorted(TABLE_ROWS))
def test_row_shape_matches_table(table: str, columns: dict[str, dict[str, object]]) -> None:
    shape = TABLE_ROWS[table]
    hints = typing.get_type_hints(shape)
    # Same columns in the same order as SELECT * returns them.
    assert list(hints) == list(columns[table])
    assert hints == columns[table]
    assert shape.__required_keys__ == frozenset(hints)  # type: ignore[attr-defined]


def test_a_new_run_is_a_run_row_without_the_archive_columns() -> None:
    new = typing.get_type_hints(rows.NewWorkflowRun)
    full = typing.get_type_hints(rows.WorkflowRunRow)
    assert set(full) - set(new) == {"archived_at", "archive_command_id", "archive_reason"}
    assert all(full[k] == v for k, v in new.items())
