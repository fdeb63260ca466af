"""Which updates need a pre-accept validation task (2.x), and what the task carries.

An update needs one when an active worker of the run's task queue registered
(2.x registration) a workflow command contract whose ``update_validators`` name
it. The task carries what the worker replays the workflow from -- the history,
the start arguments -- and the update's arguments, all as they would be given to
a query task. Nothing is written: validation happens before acceptance.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.history import worker_event
from durable_workflow.server.engine.payload_codec import wire_envelope
from durable_workflow.server.engine.query_targets import historical_run_error, query_arguments
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.engine.runs import is_terminal
from durable_workflow.server.store.rows import HistoryEventRow, WorkflowRunRow
from durable_workflow.server.store.tx import Tx, loads


def _validators(tx: Tx, run: WorkflowRunRow, fresh_after: str) -> list[str]:
    """Update names with a declared validator among the queue's live 2.x registrations."""
    rows = tx.all(
        "SELECT protocol_registration, last_heartbeat_at FROM workers"
        " WHERE namespace = ? AND task_queue = ? AND status = 'active'"
        " AND protocol_registration IS NOT NULL",
        (run["namespace"], run["task_queue"] or "default"),
    )
    names: set[str] = set()
    for row in rows:
        if row["last_heartbeat_at"] < fresh_after:
            continue
        contracts = (loads(row["protocol_registration"]) or {}).get("workflow_command_contracts")
        contract = contracts.get(run["workflow_type"]) if isinstance(contracts, dict) else None
        declared = contract.get("update_validators") if isinstance(contract, dict) else None
        if isinstance(declared, list):
            names.update(str(name) for name in declared)
    return sorted(names)


def validation_target(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    requested_run_id: str | None,
    update_name: str,
    raw_input: Any,
    fresh_after: str,
) -> tuple[WorkflowRunRow, dict[str, Any] | None]:
    """The current run and the validation task's fields; None when no validator applies."""
    run = find_instance_run(tx, namespace, workflow_id)
    if requested_run_id is not None and requested_run_id != run["run_id"]:
        raise historical_run_error(workflow_id, requested_run_id)
    if is_terminal(run["status"]) or update_name not in _validators(tx, run, fresh_after):
        return run, None
    codec = run["payload_codec"]
    rows = tx.all(
        "SELECT * FROM history_events WHERE run_id = ? ORDER BY sequence",
        (run["run_id"],),
        row=HistoryEventRow,
    )
    return run, {
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "workflow_type": run["workflow_type"],
        "compatibility": run["compatibility"],
        "update_name": update_name,
        "update_arguments": query_arguments(tx, namespace, raw_input, codec),
        "payload_codec": codec,
        "workflow_arguments": wire_envelope(codec, run["arguments"]),
        "run_status": run["status"],
        "last_history_sequence": run["last_history_sequence"],
        "history_events": [worker_event(r) for r in rows],
    }
