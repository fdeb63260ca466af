"""The bridge adapter webhook (control-plane.md §14): start, signal or update from an adapter.

Every answer is a bridge-adapter outcome document (schema and version from
the manifest). Signal/update redeliveries with the same adapter, action,
idempotency key, name and workflow are answered ``duplicate`` without a
second command.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from durable_workflow._generated import manifest
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import runs, signals, updates
from durable_workflow.server.engine.errors import EngineError, Outcome
from durable_workflow.server.store.tx import Tx

ACTIONS = ("start_workflow", "signal_workflow", "update_workflow")
_KEY = re.compile(r"^[a-zA-Z0-9._:-]+$")
_TARGET_KEYS = ("workflow_id", "workflow_type", "signal_name", "update_name", "task_queue",
                "business_key")  # fmt: skip


def _outcome(adapter: str, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    raw_target = body.get("target")
    target: dict[str, Any] = raw_target if isinstance(raw_target, dict) else {}
    doc = {
        "schema": manifest.BRIDGE_ADAPTER_OUTCOME_CONTRACT_SCHEMA,
        "version": manifest.BRIDGE_ADAPTER_OUTCOME_CONTRACT_VERSION,
        "adapter": adapter,
        "action": body.get("action") if isinstance(body.get("action"), str) else None,
        "idempotency_key": body.get("idempotency_key")
        if isinstance(body.get("idempotency_key"), str)
        else None,
        "target": {k: target[k] for k in _TARGET_KEYS if isinstance(target.get(k), str)},
        "correlation": body.get("correlation") or None,
        **fields,
    }
    return {k: v for k, v in doc.items() if v is not None}


def _rejected(
    adapter: str, body: dict[str, Any], reason: str, message: str, **extra: Any
) -> Outcome:
    return 422, _outcome(adapter, body, accepted=False, outcome="rejected", reason=reason,
                         message=message, **extra)  # fmt: skip


def _validate(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    key = body.get("idempotency_key")
    if not isinstance(key, str) or not key or len(key) > 255:
        errors["idempotency_key"] = ["The idempotency key is required (at most 255)."]
    target = body.get("target")
    if not isinstance(target, dict):
        return {**errors, "target": ["The target field is required."]}
    action = body["action"]
    required = {"start_workflow": ("workflow_type",),
                "signal_workflow": ("workflow_id", "signal_name"),
                "update_workflow": ("workflow_id", "update_name")}[action]  # fmt: skip
    for field in required:
        value = target.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > 255:
            errors[f"target.{field}"] = [f"The target.{field} field is required."]
    workflow_id = target.get("workflow_id")
    if workflow_id is not None and (
        not isinstance(workflow_id, str) or len(workflow_id) > 128 or not _KEY.match(workflow_id)
    ):
        errors["target.workflow_id"] = ["The target.workflow_id is invalid."]
    policy = target.get("duplicate_policy")
    if policy is not None and policy not in ("reject_duplicate", "use_existing"):
        errors["target.duplicate_policy"] = ["The selected duplicate policy is invalid."]
    return errors


def _start(
    tx: Tx, cfg: ServerConfig, namespace: str, adapter: str, body: dict[str, Any]
) -> Outcome:
    target = body["target"]
    digest = hashlib.sha256(body["idempotency_key"].encode()).hexdigest()[:32]
    workflow_id = target.get("workflow_id") or f"bridge-{adapter.lower()}-{digest}"
    policy = target.get("duplicate_policy") or "use_existing"
    start = {"workflow_id": workflow_id, "workflow_type": target["workflow_type"],
             "task_queue": target.get("task_queue"), "business_key": target.get("business_key"),
             "input": body.get("input"),
             "duplicate_policy": "use-existing" if policy == "use_existing"
             else "fail"}  # fmt: skip
    try:
        status, started = runs.start_workflow(
            tx, namespace, {k: v for k, v in start.items() if v is not None},
            max_memo_bytes=cfg.max_memo_bytes,
        )  # fmt: skip
    except EngineError as exc:
        return _rejected(adapter, body, "unknown_target", str(exc.body.get("message") or ""))
    engine_outcome = started["outcome"]
    fields = {"workflow_id": started["workflow_id"], "run_id": started["run_id"],
              "workflow_type": started["workflow_type"],
              "control_plane_outcome": engine_outcome}  # fmt: skip
    if engine_outcome == "returned_existing_active":
        return 200, _outcome(adapter, body, accepted=True, outcome="duplicate",
                             reason="duplicate_start", **fields)  # fmt: skip
    del status
    return 202, _outcome(adapter, body, accepted=True, outcome="accepted", **fields)


def _message(
    tx: Tx, cfg: ServerConfig, namespace: str, adapter: str, body: dict[str, Any]
) -> Outcome:
    target = body["target"]
    action = body["action"]
    name = target["signal_name"] if action == "signal_workflow" else target["update_name"]
    workflow_id = target["workflow_id"]
    seen = tx.one(
        "SELECT run_id FROM bridge_deliveries WHERE namespace = ? AND adapter = ? AND action = ?"
        " AND idempotency_key = ? AND target_name = ? AND workflow_id = ?",
        (namespace, adapter, action, body["idempotency_key"], name, workflow_id),
    )
    if seen is not None:
        return 200, _outcome(adapter, body, accepted=True, outcome="duplicate",
                             workflow_id=workflow_id, run_id=seen["run_id"],
                             control_plane_outcome="deduped_existing_command")  # fmt: skip
    request: dict[str, Any] = {}
    if body.get("input") is not None:
        request["input"] = body["input"]
    try:
        if action == "signal_workflow":
            status, result = signals.signal(tx, namespace, workflow_id, name, request)
        else:
            for key in ("wait_for", "wait_timeout_seconds"):
                if target.get(key) is not None:
                    request[key] = target[key]
            status, result, _ = updates.submit(tx, cfg, namespace, workflow_id, name, request, None)
            result = result if result.get("outcome") or status >= 400 else {
                **result, "outcome": "update_accepted"}  # fmt: skip
    except EngineError as exc:
        reason = str(exc.body.get("reason"))
        if reason == "instance_not_found":
            return _rejected(adapter, body, "unknown_target", "Workflow not found.")
        return _rejected(adapter, body, reason, str(exc.body.get("message") or reason))
    if status >= 400:
        return _rejected(adapter, body, str(result.get("rejection_reason") or result.get("reason")),
                         str(result.get("message") or "rejected"))  # fmt: skip
    tx.insert("bridge_deliveries", {
        "namespace": namespace, "adapter": adapter, "action": action,
        "idempotency_key": body["idempotency_key"], "target_name": name,
        "workflow_id": workflow_id, "run_id": result.get("run_id"),
        "created_at": tx.stamp})  # fmt: skip
    return 202, _outcome(adapter, body, accepted=True, outcome="accepted",
                         workflow_id=workflow_id, run_id=result.get("run_id"),
                         control_plane_outcome=result.get("outcome"))  # fmt: skip


def deliver(tx: Tx, cfg: ServerConfig, namespace: str, raw_adapter: str, raw_body: Any) -> Outcome:
    adapter = raw_adapter.strip()
    body = raw_body if isinstance(raw_body, dict) else {}
    if not adapter or not _KEY.match(adapter):
        return _rejected(adapter, body, "unsupported_routing", "The adapter key is invalid.")
    if body.get("action") not in ACTIONS:
        return _rejected(adapter, body, "unsupported_action", "The action is not supported.")
    errors = _validate(body)
    if errors:
        return _rejected(adapter, body, "malformed_payload", "The bridge payload is invalid.",
                         errors=errors)  # fmt: skip
    if body["action"] == "start_workflow":
        return _start(tx, cfg, namespace, adapter, body)
    return _message(tx, cfg, namespace, adapter, body)
