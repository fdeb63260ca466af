"""The unit of work: one write transaction plus the wake-ups it must signal.

Wake keys are collected while the transaction runs and delivered to the
listeners only after COMMIT, so a woken poller always sees the new rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from durable_workflow.server.store.timefmt import fmt_z

if TYPE_CHECKING:
    from durable_workflow.server.engine.external_payloads import ExternalPayloads

WakeKey = tuple[str, ...]
# A row shape from durable_workflow.server.store.rows.
Row = TypeVar("Row")
# Positional (?) or named (:name) query parameters.
Params = tuple[Any, ...] | Mapping[str, Any]


def queue_key(namespace: str, queue: str | None) -> WakeKey:
    """Wake key for pollers of one (namespace, task queue)."""
    return ("queue", namespace, queue or "")


def run_key(run_id: str) -> WakeKey:
    """Wake key for history long-polls on one run."""
    return ("run", run_id)


def closed_key(run_id: str) -> WakeKey:
    """Wake key for waits on a run's close: only its terminal event wakes them."""
    return ("closed", run_id)


SCHEDULER_KEY: WakeKey = ("scheduler",)


@dataclass
class Tx:
    conn: sqlite3.Connection
    now: datetime
    wakes: set[WakeKey] = field(default_factory=set)
    # The server's external-payload resolver; None means references are refused.
    external: ExternalPayloads | None = None
    # How the server frames payloads it encodes itself: the 0.4.53 ``0x00`` wrapper
    # (generation 1) or the 2.x single-object ``Value`` frame (generation 2).
    payload_framing: Literal["wrapper", "value"] = "wrapper"
    # The earliest new due time (storage format) this transaction gave the scheduler.
    scheduler_due: str | None = None
    # ``now`` in storage format, formatted once: a transaction reads it many times.
    stamp: str = field(init=False)

    def __post_init__(self) -> None:
        self.stamp = fmt_z(self.now)

    def wake_scheduler(self, due: str | None = None) -> None:
        """New scheduler work falls due at ``due`` (None: now, or not known).

        With a time, the engine wakes the scheduler only when it sleeps past that
        moment -- a new 300 s lease rarely comes due before the leases already held.
        """
        if due is None:
            self.wakes.add(SCHEDULER_KEY)
        elif self.scheduler_due is None or due < self.scheduler_due:
            self.scheduler_due = due

    @overload
    def one(self, sql: str, params: Params = ()) -> dict[str, Any] | None: ...
    @overload
    def one(self, sql: str, params: Params = (), *, row: type[Row]) -> Row | None: ...
    def one(self, sql: str, params: Params = (), *, row: object = None) -> Any:
        """The first row, or None. ``row=`` names its shape when the query selects ``*``."""
        found = self.conn.execute(sql, params).fetchone()
        return None if found is None else dict(found)

    @overload
    def all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...
    @overload
    def all(self, sql: str, params: Params = (), *, row: type[Row]) -> list[Row]: ...
    def all(self, sql: str, params: Params = (), *, row: object = None) -> Any:
        """Every row. ``row=`` names their shape when the query selects ``*``."""
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def insert(self, table: str, values: Mapping[str, Any]) -> None:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))

    def update(self, table: str, key: str, key_value: Any, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{c} = ?" for c in values)
        self.conn.execute(
            f"UPDATE {table} SET {sets} WHERE {key} = ?", (*values.values(), key_value)
        )

    def update_row(self, table: str, row: Mapping[str, Any], values: dict[str, Any]) -> None:
        """:meth:`update` a row by ``id``, and the row in hand alike."""
        self.update(table, "id", row["id"], values)
        # ``values`` are columns of ``row``'s shape, which a TypedDict cannot say of a dict.
        cast("dict[str, Any]", row).update(values)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def drop_nulls(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
