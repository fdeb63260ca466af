"""Appending history events and reading them back in pages.

Offloaded values are stored as markers and shown as their
``{codec, external_storage}`` envelopes whenever an event is read out.

Event ``sequence`` is ``last_history_sequence + 1`` inside the recording
transaction (history-events.md §2.1); page tokens are base64 of the decimal
last sequence on the page (worker-protocol.md §9.3).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from durable_workflow._event_types import TERMINAL_EVENT_TYPES
from durable_workflow.server.engine.payload_codec import load_exposed
from durable_workflow.server.store.rows import HistoryEventRow, TaskRow
from durable_workflow.server.store.tx import Tx, closed_key, drop_nulls, dumps, run_key
from durable_workflow.server.store.ulid import new_ulid


def append_event(
    tx: Tx,
    run_id: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    task: TaskRow | None = None,
    command_id: str | None = None,
) -> int:
    """Record one event on a run and return its sequence."""
    row = tx.one("SELECT last_history_sequence FROM workflow_runs WHERE run_id = ?", (run_id,))
    if row is None:
        raise LookupError(f"run {run_id} does not exist")
    sequence = int(row["last_history_sequence"]) + 1
    body = dict(payload)
    if task is not None and "task" not in body:
        body["task"] = task_snapshot(task)
    tx.insert(
        "history_events",
        {
            "id": new_ulid(),
            "run_id": run_id,
            "sequence": sequence,
            "event_type": event_type,
            "payload": dumps(body),
            "workflow_task_id": None if task is None else task["id"],
            "workflow_command_id": command_id,
            "recorded_at": tx.stamp,
        },
    )
    tx.run(
        "UPDATE workflow_runs SET last_history_sequence = ?, updated_at = ? WHERE run_id = ?",
        (sequence, tx.stamp, run_id),
    )
    tx.wakes.add(run_key(run_id))
    if event_type in TERMINAL_EVENT_TYPES:
        tx.wakes.add(closed_key(run_id))
    return sequence


def task_snapshot(task: TaskRow) -> dict[str, Any]:
    """The ``task`` snapshot key copied into payloads (history-events.md §1.1)."""
    return drop_nulls(
        {
            "id": task["id"],
            "type": task["task_type"],
            "status": task["status"],
            "available_at": task["available_at"],
            "leased_at": task.get("leased_at"),
            "lease_owner": task.get("lease_owner"),
            "lease_expires_at": task.get("lease_expires_at"),
            "attempt_count": task.get("attempt_count"),
            "repair_count": task.get("repair_count"),
            "queue": task.get("queue"),
            "compatibility": task.get("compatibility"),
        }
    )


def worker_event(row: HistoryEventRow) -> dict[str, Any]:
    """An event as the worker plane shows it (history-events.md §1)."""
    return {
        "id": row["id"],
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "payload": load_exposed(row["payload"]),
        "workflow_task_id": row["workflow_task_id"],
        "workflow_command_id": row["workflow_command_id"],
        "recorded_at": row["recorded_at"],
    }


def control_event(row: HistoryEventRow) -> dict[str, Any]:
    """An event as the control-plane history endpoint shows it (control-plane §8.1)."""
    return {
        "sequence": row["sequence"],
        "event_type": row["event_type"],
        "timestamp": row["recorded_at"],
        "payload": load_exposed(row["payload"]),
    }


def read_page(tx: Tx, run_id: str, after: int, size: int) -> tuple[list[HistoryEventRow], bool]:
    """Events with sequence > ``after`` (at most ``size``) and whether more exist."""
    rows = tx.all(
        "SELECT * FROM history_events WHERE run_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
        (run_id, after, size + 1),
        row=HistoryEventRow,
    )
    return rows[:size], len(rows) > size


def encode_token(sequence: int) -> str:
    return base64.b64encode(str(sequence).encode("ascii")).decode("ascii")


def decode_token(token: str | None) -> int | None:
    """The sequence a page token names, or None if it is not a valid token."""
    if token is None:
        return None
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdecimal() and int(text) < 2**63 else None
