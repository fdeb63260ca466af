"""SQLite storage for the dev server: one file, WAL, schema migrated on open.

Every state transition runs inside :meth:`Store.transaction` -- one short
``BEGIN IMMEDIATE`` write transaction, so events, tasks and counters change
together or not at all. ``synchronous=NORMAL`` (default) keeps every
committed transaction across a process kill; ``FULL`` adds power-loss
durability.

The schema and its migrations are in :mod:`durable_workflow.server.store.schema`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

from durable_workflow.server.store.owner_lock import OwnerLock
from durable_workflow.server.store.schema import MIGRATIONS, SCHEMA_VERSION
from durable_workflow.server.store.timefmt import fmt_z, utcnow

Durability = Literal["normal", "full"]


class Store:
    """One SQLite connection guarded by a lock; callers use short transactions."""

    def __init__(self, path: str | Path, *, durability: Durability = "normal") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._owner = OwnerLock.acquire(self.path)  # DatabaseInUse for a second server
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            sync = "FULL" if durability == "full" else "NORMAL"
            self._conn.execute(f"PRAGMA synchronous={sync}")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._owner.release()
            raise

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row["version"])
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"database {self.path} has schema version {current}, newer than this "
                    f"server ({SCHEMA_VERSION})"
                )
            for script in MIGRATIONS[current:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            stamp = fmt_z(utcnow())
            conn.execute(
                "INSERT OR IGNORE INTO namespaces (name, description, retention_days, status,"
                " created_at, updated_at) VALUES ('default', 'Default namespace', 30, 'active',"
                " ?, ?)",
                (stamp, stamp),
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; commits on success, rolls back on error."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc):
                    raise
                # A read-only database: work that only reads still runs (deferred); a write
                # fails at its statement with the same error, and the caller answers 503.
                self._conn.execute("BEGIN")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (disk full, I/O error) can leave the transaction open or
                # already rolled back by SQLite: end it either way so the next one can begin.
                if self._conn.in_transaction:
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (a deferred transaction, so several SELECTs agree)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        with self.read() as conn:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row["version"])

    def ping(self) -> bool:
        """True when the database answers a trivial query (health check)."""
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self._owner.release()
