"""What a 2.x worker registration adds, and graceful deregistration.

A 2.x registration is the ordinary one (``workers.register``: validation, the
fingerprint guard, drain intents) plus the fields the 2.x protocol requires and
later decisions read: the worker's capabilities and capability manifest, its
workflow command contracts (which updates have validators) and a fresh
incarnation token. Deregistration removes the registration and puts back the
workflow tasks it had leased; with the token it records a receipt that a retry
gets back unchanged for ``RECEIPT_SECONDS``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from durable_workflow.server.engine import workers
from durable_workflow.server.engine.errors import EngineError
from durable_workflow.server.store.leases import release_task
from durable_workflow.server.store.reads import get_worker
from durable_workflow.server.store.rows import TaskRow, WorkerDeregistrationRow
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import Tx, dumps, loads

RECEIPT_SECONDS = 600
HEARTBEAT_INTERVAL_SECONDS = 30


def register(tx: Tx, namespace: str, body: dict[str, Any], protocol_version: str) -> dict[str, Any]:
    """Register (or refresh) and return the 2.x registration envelope fields."""
    ack = workers.register(tx, namespace, body)
    worker_id = ack["worker_id"]
    capabilities = [c for c in body.get("capabilities") or [] if isinstance(c, str) and c]
    manifest = body.get("capability_manifest") or {}
    contracts = body.get("workflow_command_contracts") or {}
    token = secrets.token_hex(16)
    extra = {
        "capabilities": capabilities,
        "capability_manifest": manifest,
        "workflow_command_contracts": contracts if isinstance(contracts, dict) else {},
        "registration_token": token,
        "protocol_version": protocol_version,
    }
    tx.run(
        "UPDATE workers SET protocol_registration = ? WHERE namespace = ? AND worker_id = ?",
        (dumps(extra), namespace, worker_id),
    )
    return {
        **ack,
        "namespace": namespace,
        "build_id": body.get("build_id"),
        "capabilities": capabilities,
        "capability_manifest": manifest,
        "registration_token": token,
        "heartbeat_interval_seconds": HEARTBEAT_INTERVAL_SECONDS,
    }


def protocol_registration(tx: Tx, namespace: str, worker_id: str) -> dict[str, Any]:
    """The 2.x fields of a registration ({} for a generation-1 or unknown worker)."""
    row = get_worker(tx, namespace, worker_id)
    extra = None if row is None else loads(row["protocol_registration"])
    return extra if isinstance(extra, dict) else {}


def _not_registered(worker_id: str) -> EngineError:
    return EngineError(
        404,
        {
            "error": f"Worker [{worker_id}] is not registered in this namespace.",
            "reason": "worker_not_registered",
            "worker_id": worker_id,
        },
    )


def recover_leases(tx: Tx, namespace: str, worker_id: str) -> int:
    """Make the workflow tasks leased to ``worker_id`` ready again; how many there were."""
    leased = tx.all(
        "SELECT * FROM tasks WHERE namespace = ? AND task_type = 'workflow'"
        " AND status = 'leased' AND lease_owner = ?",
        (namespace, worker_id),
        row=TaskRow,
    )
    for task in leased:
        release_task(tx, task)
    return len(leased)


def deregister(tx: Tx, namespace: str, worker_id: str, token: str | None = None) -> dict[str, Any]:
    """Remove a registration, recovering its workflow-task leases (fenced when ``token``)."""
    if token is not None:
        tx.run("DELETE FROM worker_deregistrations WHERE expires_at <= ?", (tx.stamp,))
        receipt = tx.one(
            "SELECT * FROM worker_deregistrations WHERE namespace = ? AND worker_id = ?"
            " AND registration_token = ?",
            (namespace, worker_id, token),
            row=WorkerDeregistrationRow,
        )
        if receipt is not None:
            replayed: dict[str, Any] = loads(receipt["receipt"])
            return replayed
    row = get_worker(tx, namespace, worker_id)
    if row is None:
        raise _not_registered(worker_id)
    if token is not None:
        current = protocol_registration(tx, namespace, worker_id).get("registration_token")
        if current != token:
            raise EngineError(
                409,
                {
                    "error": f"The registration token does not match worker [{worker_id}]'s "
                    "current registration.",
                    "reason": "worker_registration_token_mismatch",
                    "worker_id": worker_id,
                },
            )
    recovered = recover_leases(tx, namespace, worker_id)
    tx.run("DELETE FROM workers WHERE namespace = ? AND worker_id = ?", (namespace, worker_id))
    result: dict[str, Any] = {
        "worker_id": worker_id,
        "outcome": "deregistered",
        "recovered_workflow_task_count": recovered,
    }
    if token is not None:
        result["registration_token"] = token
        tx.insert(
            "worker_deregistrations",
            {
                "namespace": namespace,
                "worker_id": worker_id,
                "registration_token": token,
                "receipt": dumps(result),
                "expires_at": fmt_z(tx.now + timedelta(seconds=RECEIPT_SECONDS)),
            },
        )
    return result
