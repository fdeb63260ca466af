"""Signals (control-plane.md §7.8, engine-semantics.md §8), with the dev-server stances.

Upstream admits only signal names declared by a PHP workflow class, so SDK
workflows never receive signals there. Here any valid name is accepted
(engine-semantics.md §19 gap 0), ``SignalReceived`` carries the argument
blob and its codec (gap 2), and a signal that arrives while a workflow task
is leased gets a follow-up task after that completion (gap 13). All three
are advertised as extensions in cluster info.
"""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine.closing import command_response
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import accept_payload
from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.payload_codec import encode_payload, is_inline_envelope
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.engine.runs import (
    create_workflow_task,
    has_open_workflow_task,
    is_terminal,
)
from durable_workflow.server.engine.update_follow_up import hand_to_signal
from durable_workflow.server.store.rows import WorkflowRunRow
from durable_workflow.server.store.tx import Tx, drop_nulls, loads
from durable_workflow.server.store.ulid import new_ulid

MAX_NAME_BYTES = 256


def validate_name(name: str, field: str = "signal_name") -> None:
    """Operation names: non-empty, at most 256 bytes, no control characters."""
    if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValidationFailed({field: [f"The {field} must be 1 to {MAX_NAME_BYTES} bytes."]})
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise ValidationFailed({field: [f"The {field} must not contain control characters."]})


def encode_arguments(tx: Tx, namespace: str, raw: Any, run_codec: str) -> tuple[str | None, str]:
    """Signal/update ``input`` as (blob, codec); an external reference is verified first."""
    if raw is None:
        return None, run_codec
    marker = accept_payload(tx, namespace, "input", raw)
    if marker is not None:
        return marker, str(raw["codec"])
    if is_inline_envelope(raw) and isinstance(raw["blob"], str):
        return str(raw["blob"]), str(raw["codec"])
    if isinstance(raw, list):
        return encode_payload(tx, raw), run_codec
    raise ValidationFailed({"input": ["The input must be an array of arguments or an envelope."]})


def signal_context(signal_id: str, name: str, command_id: str) -> dict[str, Any]:
    """Resume context of a workflow task created for a signal (engine-semantics.md §5.1)."""
    return {
        "workflow_wait_kind": "signal",
        "resume_source_kind": "workflow_signal",
        "resume_source_id": signal_id,
        "workflow_signal_id": signal_id,
        "signal_name": name,
        "workflow_command_id": command_id,
    }


def signal(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    name: str,
    body: dict[str, Any],
    requested_run_id: str | None = None,
) -> Outcome:
    """Record a signal on the current run; 202 ``signal_received`` or a rejection."""
    validate_name(name)
    run = find_instance_run(tx, namespace, workflow_id)
    if requested_run_id is not None and requested_run_id != run["run_id"]:
        raise EngineError(
            409,
            {
                "message": "Commands cannot target historical runs. Target the current run.",
                "workflow_id": workflow_id,
                "run_id": requested_run_id,
                "reason": "historical_run_command_rejected",
                "target_scope": "run",
            },
        )
    blob, codec = encode_arguments(tx, namespace, body.get("input"), run["payload_codec"])
    command_id = new_ulid()
    terminal = is_terminal(run["status"])
    tx.insert(
        "workflow_commands",
        {"id": command_id, "namespace": namespace, "workflow_id": workflow_id,
         "run_id": run["run_id"], "type": "signal", "payload_codec": codec, "payload": blob,
         "status": "rejected" if terminal else "accepted",
         "outcome": "rejected_not_active" if terminal else "signal_received",
         "rejection_reason": "run_not_active" if terminal else None, "created_at": tx.stamp},
    )  # fmt: skip
    if terminal:
        rejected = command_response(
            run, command_id, requested_run_id, status="rejected",
            outcome="rejected_not_active", reason="run_not_active", rejection="run_not_active",
        )  # fmt: skip
        rejected["signal_name"] = name
        rejected["message"] = f"Workflow run [{run['run_id']}] is not active."
        return 409, rejected
    signal_id = new_ulid()
    append_event(
        tx,
        run["run_id"],
        "SignalReceived",
        {
            "workflow_command_id": command_id,
            "signal_id": signal_id,
            "workflow_instance_id": workflow_id,
            "workflow_run_id": run["run_id"],
            "signal_name": name,
            "arguments": blob,
            "payload_codec": codec,
            "command": drop_nulls(
                {
                    "id": command_id,
                    "type": "signal",
                    "target_name": name,
                    "payload_codec": codec,
                    "payload": blob,
                    "source": "control_plane",
                    "status": "accepted",
                    "outcome": "signal_received",
                    "accepted_at": tx.stamp,
                }
            ),
        },
        command_id=command_id,
    )
    context = signal_context(signal_id, name, command_id)
    if not has_open_workflow_task(tx, run["run_id"]):
        create_workflow_task(tx, run, context)
    else:
        hand_to_signal(tx, run["run_id"], context)
    accepted = command_response(
        run, command_id, requested_run_id, status="accepted",
        outcome="signal_received", reason=None, rejection=None,
    )  # fmt: skip
    accepted["signal_name"] = name
    return 202, accepted


def follow_up_after_completion(tx: Tx, run: WorkflowRunRow, seen_sequence: int) -> str | None:
    """A task for signals recorded after the completing worker read its history."""
    if has_open_workflow_task(tx, run["run_id"]):
        return None
    row = tx.one(
        "SELECT payload FROM history_events WHERE run_id = ? AND event_type = 'SignalReceived'"
        " AND sequence > ? ORDER BY sequence LIMIT 1",
        (run["run_id"], seen_sequence),
    )
    if row is None:
        return None
    payload = loads(row["payload"])
    return create_workflow_task(
        tx,
        run,
        signal_context(
            payload["signal_id"], payload["signal_name"], payload["workflow_command_id"]
        ),
    )
