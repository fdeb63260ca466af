"""What a control-plane query needs from the store: the run, its history, a worker.

A query is routed to workers only when an active, fresh, non-PHP
registration on the run's queue supports the run's type (worker-protocol.md
§10); "fresh" means a heartbeat within the staleness window, or -- a
dev-server stance, since the SDK heartbeats only every 60 s -- a poll seen
recently by this process.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.errors import EngineError, ValidationFailed
from durable_workflow.server.engine.external_payloads import accept_payload
from durable_workflow.server.engine.history import worker_event
from durable_workflow.server.engine.payload_codec import (
    encode_payload,
    is_inline_envelope,
    wire_envelope,
)
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.store.rows import HistoryEventRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, loads


def historical_run_error(workflow_id: str, run_id: str) -> EngineError:
    return EngineError(
        409,
        {
            "message": "Commands cannot target historical runs. Target the current run.",
            "workflow_id": workflow_id,
            "run_id": run_id,
            "reason": "historical_run_command_rejected",
            "target_scope": "run",
        },
    )


def query_arguments(tx: Tx, namespace: str, raw: Any, run_codec: str) -> dict[str, Any]:
    """The task's ``query_arguments`` envelope (nulls when the caller sent none).

    An external reference is verified, then handed to the worker as the reference.
    """
    if raw is None:
        if tx.payload_framing == "value":  # 2.x has no null envelope: no arguments is []
            return {"codec": run_codec, "blob": encode_payload(tx, [])}
        return {"codec": None, "blob": None}
    marker = accept_payload(tx, namespace, "input", raw)
    if marker is not None:
        return wire_envelope(str(raw["codec"]), marker) or {}
    if is_inline_envelope(raw) and isinstance(raw["blob"], str):
        return {"codec": raw["codec"], "blob": raw["blob"]}
    if isinstance(raw, list):
        return {"codec": run_codec, "blob": encode_payload(tx, raw)}
    raise ValidationFailed({"input": ["The input must be an array of arguments or an envelope."]})


def has_query_worker(
    tx: Tx, run: WorkflowRunRow, fresh_after: str, recent_pollers: set[str]
) -> bool:
    queue = run["task_queue"] or "default"
    rows = tx.all(
        "SELECT worker_id, supported_workflow_types, last_heartbeat_at FROM workers"
        " WHERE namespace = ? AND task_queue = ? AND status = 'active' AND runtime != 'php'",
        (run["namespace"], queue),
    )
    for row in rows:
        if row["last_heartbeat_at"] < fresh_after and row["worker_id"] not in recent_pollers:
            continue
        types = loads(row["supported_workflow_types"]) or []
        if not types or run["workflow_type"] in types:
            return True
    return False


def query_target(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    requested_run_id: str | None,
    query_name: str,
    raw_input: Any,
    fresh_after: str,
    recent_pollers: set[str],
) -> tuple[WorkflowRunRow, dict[str, Any] | None]:
    """The current run and the task fields, or None fields when no worker can answer."""
    run = find_instance_run(tx, namespace, workflow_id)
    if requested_run_id is not None and requested_run_id != run["run_id"]:
        raise historical_run_error(workflow_id, requested_run_id)
    codec = run["payload_codec"]
    arguments = query_arguments(tx, namespace, raw_input, codec)
    if not has_query_worker(tx, run, fresh_after, recent_pollers):
        return run, None
    rows = tx.all(
        "SELECT * FROM history_events WHERE run_id = ? ORDER BY sequence",
        (run["run_id"],),
        row=HistoryEventRow,
    )
    fields = {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_type": run["workflow_type"],
        "query_name": query_name,
        "payload_codec": codec,
        "workflow_arguments": wire_envelope(codec, run["arguments"]),
        "query_arguments": arguments,
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
        "history_events": [worker_event(r) for r in rows],
    }
    return run, fields
