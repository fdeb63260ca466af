"""The SQLite store: WAL, durability modes, schema versioning, seeding, ULIDs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from durable_workflow.server.store.database import Store
from durable_workflow.server.store.schema import SCHEMA_VERSION
from durable_workflow.server.store.ulid import new_ulid


def _pragma(store: Store, name: str) -> object:
    with store.read() as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_new_file_is_wal_with_normal_sync_and_seeded(tmp_path: Path) -> None:
    store = Store(tmp_path / "a" / "dev.sqlite")
    try:
        assert _pragma(store, "journal_mode") == "wal"
        assert _pragma(store, "synchronous") == 1  # NORMAL
        assert store.schema_version() == SCHEMA_VERSION
        with store.read() as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM namespaces")]
        assert names == ["default"]
    finally:
        store.close()


def test_full_durability_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite"
    Store(path).close()
    store = Store(path, durability="full")
    try:
        assert _pragma(store, "synchronous") == 2  # FULL
        with store.read() as conn:
            assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
            assert conn.execute("SELECT COUNT(*) FROM namespaces").fetchone()[0] == 1
    finally:
        store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this server"):
        Store(path)


def test_failed_transaction_rolls_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "dev.sqlite")
    try:
        with pytest.raises(ValueError), store.transaction() as conn:
            conn.execute(
                "INSERT INTO namespaces (name, created_at, updated_at) VALUES ('x', 'a', 'a')"
            )
            raise ValueError("abort")
        with store.read() as conn:
            assert conn.execute("SELECT COUNT(*) FROM namespaces").fetchone()[0] == 1
    finally:
        store.close()


def test_ulids_are_sortable_and_cased() -> None:
    ids = [new_ulid() for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200
    assert all(len(i) == 26 and i == i.lower() for i in ids)
    upper = new_ulid(upper=True)
    assert upper == upper.upper() and len(upper) == 26


def test_ulid_encoding_is_crockford_base32_most_significant_first() -> None:
    from durable_workflow.server.store.ulid import _encode

    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for value, length in ((0, 10), (1, 10), (2**48 - 1, 10), (2**80 - 1, 16), (123456789, 16)):
        expected = "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(length)))
        assert _encode(value, length) == expected
    assert _encode(2**48 - 1, 10) == "7ZZZZZZZZZ"


def test_an_older_schema_is_migrated_on_open(tmp_path: Path) -> None:
    from durable_workflow.server.store import schema as store_module

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for statement in store_module.MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        with store.read() as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(timers)")}
            assert {"timer_kind", "condition_wait_id"} <= columns
            assert db.execute("SELECT COUNT(*) FROM condition_waits").fetchone()[0] == 0
    finally:
        store.close()
