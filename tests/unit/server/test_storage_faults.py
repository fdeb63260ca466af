"""Which SQLite errors are storage faults (a typed 503) and which stay server errors."""

from __future__ import annotations

import sqlite3

import pytest

from durable_workflow.server.http.storage_faults import storage_refusal


@pytest.mark.parametrize(
    ("message", "reason", "state"),
    [
        ("database or disk is full", "storage_pressure", "draining"),
        ("attempt to write a readonly database", "storage_admission_unavailable", "fenced"),
        ("disk I/O error", "storage_admission_unavailable", "fenced"),
        ("database is locked", "storage_admission_unavailable", "fenced"),
    ],
)
def test_storage_faults_by_message(message: str, reason: str, state: str) -> None:
    body = storage_refusal(sqlite3.OperationalError(message))
    assert body is not None
    assert (body["reason"], body["storage_state"]) == (reason, state)
    assert body["retryable"] is True and body["retry_after_seconds"] >= 1


def test_real_sqlite_error_codes_are_read(tmp_path: object) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA query_only=ON")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("CREATE TABLE t (x)")
    body = storage_refusal(caught.value)
    assert body is not None and body["reason"] == "storage_admission_unavailable"


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("no such table: nope"),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        RuntimeError("database or disk is full"),
    ],
)
def test_other_errors_are_not_storage_faults(exc: Exception) -> None:
    assert storage_refusal(exc) is None
