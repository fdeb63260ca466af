"""The generation-2 worker ``server_capabilities`` object and the protocol version facts.

Versions come from the vendored worker-protocol document's negotiation extension.
The object is the generation-1 one (what the engine implements either way) plus
the entries the 2.x ``WorkerServerCapabilities`` schema requires. A required entry
for a feature this server does not implement says ``supported: false`` with the
contract facts the schema pins; optional 1.20 features it lacks (cooperative
cancellation, prepared local activities, worker sessions, ...) are not advertised.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from durable_workflow._spec_validation import load_document
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.cluster_info import server_capabilities as gen1_capabilities

WORKER_DOCUMENT = "worker-protocol-api.openapi.yaml"
DEREGISTRATION_RECEIPT_SECONDS = 600
TASK_KINDS = ("workflow", "update_validation")
UPDATE_VALIDATION_FAILURE_REASONS = (
    "update_validation_task_not_found",
    "duplicate_update_validation_completion",
    "update_validation_task_not_leased",
    "update_validation_lease_owner_mismatch",
    "stale_update_validation_completion",
    "update_validation_lease_expired",
    "update_validator_worker_lost",
)


def _extension(name: str) -> dict[str, Any]:
    value: dict[str, Any] = load_document(WORKER_DOCUMENT)[f"x-durable-workflow-{name}"]
    return value


@cache
def advertised_version() -> str:
    """The worker protocol version a 2.x server advertises by default ("1.20")."""
    return str(_extension("worker-protocol-negotiation")["default_advertised_version"])


@cache
def accepted_versions() -> tuple[str, ...]:
    """Request header values accepted: same major, minor up to the advertised one."""
    return tuple(_extension("worker-protocol-negotiation")["accepted_request_versions_by_default"])


def version_at_least(version: str, minimum: str) -> bool:
    """``1.17 >= 1.13`` as numbers (both come from the accepted set)."""
    have, need = (tuple(int(p) for p in v.split(".")) for v in (version, minimum))
    return have >= need


def _memo_updates() -> dict[str, Any]:
    contract = _extension("workflow-memo-update-contract")
    return {
        "supported": False,
        "type": contract["command"]["type"],
        "minimum_protocol_version": contract["minimum_protocol_version"],
        "worker_capability": contract["worker_capability"],
        "required_fields": list(contract["command"]["required_fields"]),
        "entries": {"shape": contract["command"]["entries"]},
        "merge": {"rule": contract["merge"], "order": contract["canonical_order"]},
        "history": copy.deepcopy(contract["history_event"]),
        "idempotency": {"task_fence": list(contract["task_fence"])},
        "continue_as_new": "merged memo is inherited before commands on the continued run",
        "external_payloads": {"resolution_owner": contract["external_payload_resolution_owner"]},
    }


def _message_streams() -> dict[str, Any]:
    contract = _extension("message-streams-contract")
    return {
        "schema": "durable-workflow.v2.message-streams.contract",
        "version": 1,
        "capability_flag": contract["worker_capability"],
        "minimum_worker_protocol_version": contract["minimum_protocol_version"],
        "supported": False,
    }


def _typed_search_attributes() -> dict[str, Any]:
    contract = _extension("typed-search-attributes-contract")
    return {
        "supported": False,
        "minimum_worker_protocol_version": contract["minimum_protocol_version"],
        "worker_capability": contract["worker_capability"],
        "canonical_types": list(contract["canonical_type_names"]),
        "command_field": "attribute_types",
        "history_field": "attribute_types",
        "legacy_history_rule": "absent_metadata_is_unknown_type_identity",
    }


def condition_wait_identity() -> dict[str, Any]:
    """Implemented: the field is kept on the command's events (engine/conditions.py)."""
    contract = _extension("condition-wait-occurrence-identity-contract")
    return {
        "supported": True,
        "minimum_worker_protocol_version": contract["minimum_protocol_version"],
        "command_type": contract["command"]["type"],
        "command_field": contract["command"]["field"],
        "history_field": contract["history"]["field"],
        "history_events": list(contract["history"]["event_types"]),
        "history_routing": "requires_minimum_worker_protocol_version",
    }


def _synchronous_update_validation() -> dict[str, Any]:
    return {
        "supported": True,
        "minimum_protocol_version": "1.13",
        "acceptance_boundary": "validator_approved",
        "worker_capability": "update_validation_tasks",
        "workflow_contract_field": "update_validators",
        "task_poll": {
            "strategy": "multiplexed",
            "endpoint": "/worker/workflow-tasks/poll",
            "request_field": "task_kinds",
            "task_kinds": list(TASK_KINDS),
            "default_task_kinds": ["workflow"],
            "response_discriminator": "task.task_kind",
            "poll_request_id_binding": "normalized_task_kind_set",
            "poll_request_id_conflict_reason": "poll_request_task_kinds_conflict",
        },
        "completion": {
            "approve_endpoint": "/worker/update-validation-tasks/{taskId}/approve",
            "reject_endpoint": "/worker/update-validation-tasks/{taskId}/reject",
            "fence_fields": ["lease_owner", "update_validation_attempt"],
            "typed_failure_reasons": list(UPDATE_VALIDATION_FAILURE_REASONS),
        },
    }


def _local_activities() -> dict[str, Any]:
    return {
        "schema": "durable-workflow.v2.local-activity.contract",
        "version": 1,
        "supported": False,
        "worker_capability": "local_activities",
        "minimum_worker_protocol_version": "1.18",
        "execution": {},
        "retry": {},
        "timeouts": {},
        "visibility": {},
    }


def _sticky_execution() -> dict[str, Any]:
    return {
        "feature": "sticky_execution",
        "supported": False,
        "worker_capability": "sticky_execution",
        "minimum_worker_protocol_version": "1.18",
        "cache_key_fields": ["workflow_id", "run_id", "build_id"],
        "correctness_fallback": "cold_replay",
        "metrics": ["hit", "miss", "eviction", "forced_cold_replay"],
    }


# Entries whose cluster-info shape describes another runtime's implementation (the
# envelope pins local_activities to the PHP runtime contract): unsupported here, so
# cluster info leaves them out while worker envelopes carry the required supported=false.
WORKER_ENVELOPE_ONLY = ("local_activities",)


def server_capabilities(config: ServerConfig) -> dict[str, Any]:
    """The ``server_capabilities`` of every generation-2 worker-plane response."""
    return {
        **gen1_capabilities(config),
        "workflow_memo_updates": _memo_updates(),
        "message_streams": _message_streams(),
        "typed_search_attributes": _typed_search_attributes(),
        "condition_wait_occurrence_identity": condition_wait_identity(),
        "update_validation_tasks": True,
        "synchronous_update_validation": _synchronous_update_validation(),
        "local_activities": _local_activities(),
        "sticky_execution": _sticky_execution(),
        "worker_deregistration_fencing": {
            "schema": "durable-workflow.v2.worker-deregistration.v1",
            "supported": True,
            "endpoint": "/worker/registrations/{workerId}/deregister",
            "receipt_retention_seconds": DEREGISTRATION_RECEIPT_SECONDS,
        },
    }
