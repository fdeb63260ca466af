"""A 2.x server's discovery document and worker-plane answers for unit tests on MockTransport.

Shaped by the vendored specs (contracts/server-2.x): ``cluster_info()`` validates against
``cluster-info-envelope.schema.json`` and its server capabilities against the generated
``WorkerServerCapabilities`` model (``test_gen2_support.py`` checks both), so a test that
passes against it talks to what a 2.x server publishes, not to a guess.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

from durable_workflow._generated import manifest

SPECS = Path(__file__).resolve().parents[2] / "contracts" / "server-2.x"
PROTOCOL = "1.20"

_UPDATE_VALIDATION = {
    "supported": True,
    "minimum_protocol_version": "1.13",
    "acceptance_boundary": "validator_approved",
    "worker_capability": "update_validation_tasks",
    "workflow_contract_field": "update_validators",
    "task_poll": {
        "strategy": "multiplexed",
        "endpoint": "/worker/workflow-tasks/poll",
        "request_field": "task_kinds",
        "task_kinds": ["workflow", "update_validation"],
        "default_task_kinds": ["workflow"],
        "response_discriminator": "task.task_kind",
        "poll_request_id_binding": "normalized_task_kind_set",
        "poll_request_id_conflict_reason": "poll_request_task_kinds_conflict",
    },
    "completion": {
        "approve_endpoint": "/worker/update-validation-tasks/{taskId}/approve",
        "reject_endpoint": "/worker/update-validation-tasks/{taskId}/reject",
        "fence_fields": ["lease_owner", "update_validation_attempt"],
        "typed_failure_reasons": [
            "update_validation_task_not_found",
            "duplicate_update_validation_completion",
            "update_validation_task_not_leased",
            "update_validation_lease_owner_mismatch",
            "stale_update_validation_completion",
            "update_validation_lease_expired",
            "update_validator_worker_lost",
        ],
    },
}


def server_capabilities() -> dict[str, Any]:
    """``worker_protocol.server_capabilities`` of a 2.x server that offers query tasks."""
    return {
        "supported_workflow_task_commands": [
            "complete_workflow",
            "fail_workflow",
            "schedule_activity",
            "start_timer",
            "complete_update",
            "fail_update",
        ],
        "workflow_task_poll_request_idempotency": True,
        "workflow_memo_updates": {
            "supported": False,
            "type": "upsert_memo",
            "minimum_protocol_version": "1.14",
            "worker_capability": "memo_upserts",
            "required_fields": ["type", "entries"],
            "entries": {},
            "merge": {},
            "history": {},
            "idempotency": {},
            "continue_as_new": "merged memo is inherited before commands on the continued run",
            "external_payloads": {},
        },
        "message_streams": {
            "schema": "durable-workflow.v2.message-streams.contract",
            "version": 1,
            "capability_flag": "message_streams",
            "minimum_worker_protocol_version": "1.15",
            "supported": False,
        },
        "typed_search_attributes": {
            "supported": False,
            "minimum_worker_protocol_version": "1.16",
            "worker_capability": "typed_search_attributes",
            "canonical_types": [
                "string",
                "keyword",
                "keyword_list",
                "int",
                "float",
                "bool",
                "datetime",
            ],
            "command_field": "attribute_types",
            "history_field": "attribute_types",
            "legacy_history_rule": "absent_metadata_is_unknown_type_identity",
        },
        "condition_wait_occurrence_identity": {
            "supported": True,
            "minimum_worker_protocol_version": "1.17",
            "command_type": "open_condition_wait",
            "command_field": "condition_wait_occurrence_id",
            "history_field": "condition_wait_occurrence_id",
            "history_events": [
                "ConditionWaitOpened",
                "ConditionWaitSatisfied",
                "ConditionWaitTimedOut",
                "TimerScheduled",
                "TimerFired",
                "TimerCancelled",
            ],
            "history_routing": "requires_minimum_worker_protocol_version",
        },
        "update_validation_tasks": True,
        "synchronous_update_validation": copy.deepcopy(_UPDATE_VALIDATION),
        "local_activities": {
            "schema": "durable-workflow.v2.local-activity.contract",
            "version": 1,
            "supported": False,
            "worker_capability": "local_activities",
            "minimum_worker_protocol_version": "1.18",
            "execution": {},
            "retry": {},
            "timeouts": {},
            "visibility": {},
        },
        "sticky_execution": {
            "feature": "sticky_execution",
            "supported": False,
            "worker_capability": "sticky_execution",
            "minimum_worker_protocol_version": "1.18",
            "cache_key_fields": ["workflow_id", "run_id", "build_id"],
            "correctness_fallback": "cold_replay",
            "metrics": ["hit", "miss", "eviction", "forced_cold_replay"],
        },
        "query_tasks": True,
    }


def cluster_info(*, protocol: str = PROTOCOL, **capability_overrides: Any) -> dict[str, Any]:
    """A 2.x ``/api/cluster/info``; ``capability_overrides`` replace top-level capabilities."""
    capabilities: dict[str, Any] = {
        "workflow_tasks": True,
        "activity_tasks": True,
        "signals": True,
        "queries": True,
        "updates": True,
        "schedules": True,
        "history_export": True,
        "payload_codec_envelope": True,
        "payload_codec_envelope_responses": True,
        "bridge_adapter_outcome_contract": True,
        "replay_verification_contract": True,
        "external_executor_config_contract": True,
        "invocable_carrier_contract": True,
        "payload_codecs": ["avro"],
        "response_compression": ["gzip"],
    }
    capabilities.update(capability_overrides)
    return {
        "server_id": "unit-2x",
        "version": "2.4.0",
        "default_namespace": "default",
        "supported_sdk_versions": {"python": ">=2.0"},
        "capabilities": capabilities,
        "worker_fleet": {
            "namespace": "default",
            "active_workers": 0,
            "queues": [],
            "build_ids": [],
            "workers": [],
        },
        "task_repair": {"policy": {}, "candidates": []},
        "limits": {
            "max_payload_bytes": 2 * 1024 * 1024,
            "max_memo_bytes": 65536,
            "max_search_attributes": 100,
            "max_pending_activities": 2000,
            "max_pending_children": 2000,
        },
        "structural_limits": {},
        "topology": {
            "schema": "durable-workflow.v2.topology",
            "version": 1,
            "supported_shapes": ["single_node"],
            "current_shape": "single_node",
        },
        "coordination_health": {
            "schema": "durable-workflow.v2.coordination-health",
            "version": 1,
            "status": "ok",
            "checks": [],
        },
        "client_compatibility": {"authority": "protocol_manifests"},
        "surface_stability_contract": {
            "schema": "durable-workflow.v2.surface-stability.contract",
            "version": 1,
            "authority_url": "https://durable-workflow.com/docs/surface-stability",
            "stability_levels": [],
            "release_rules": [],
            "field_visibility_rule": "additive",
            "surface_families": {},
            "release_check": {},
        },
        "platform_protocol_specs": {
            "schema": "durable-workflow.v2.platform-protocol-specs.catalog",
            "version": 16,
            "catalog_url": "https://durable-workflow.com/platform-protocol-specs.json",
            "authority_url": "https://durable-workflow.com/docs/platform-protocol-specs",
            "formats": [],
            "owner_repos": [],
            "status_levels": [],
            "evolution_rules": [],
            "specs": {},
            "release_check": {},
        },
        "platform_conformance_suite": {
            "schema": "durable-workflow.v2.platform-conformance.suite",
            "version": 1,
            "authority_doc": "docs/conformance.md",
            "surface_stability_authority": "surface_stability_contract",
            "result_schema": "durable-workflow.v2.platform-conformance.result",
            "result_version": 1,
            "conformance_levels": [],
            "targets": [],
            "fixture_catalog": {},
            "pass_fail_rules": {},
            "harness_contract": {},
            "release_gates": {},
        },
        "sdk_neutrality_contract": {
            "schema": "durable-workflow.v2.sdk-neutrality.contract",
            "version": 1,
            "authority_url": "https://durable-workflow.com/docs/sdk-neutrality",
        },
        "auth_composition_contract": dict(manifest.AUTH_COMPOSITION_CONTRACT),
        "control_plane": {
            "version": 2,
            "request_contract": {
                "schema": "durable-workflow.v2.control-plane-request.contract",
                "version": 1,
            },
        },
        "worker_protocol": {"version": protocol, "server_capabilities": server_capabilities()},
        "bridge_adapter_outcome_contract": {},
        "replay_verification_contract": {},
    }


def worker_envelope(**fields: Any) -> dict[str, Any]:
    """A worker-plane answer: ``protocol_version`` and ``server_capabilities`` plus ``fields``."""
    return {"protocol_version": PROTOCOL, "server_capabilities": server_capabilities(), **fields}


def load_schema(name: str) -> Any:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


class Gen2Server:
    """A MockTransport handler: discovery answers ``info``; routes map to canned answers.

    Records every request; an unrouted request is a 404 with the worker error shape.
    """

    def __init__(self, info: dict[str, Any] | None = None) -> None:
        self.info = info if info is not None else cluster_info()
        self.routes: dict[tuple[str, str], Any] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, answer: Any, status: int = 200) -> None:
        self.routes[(method, path)] = (status, answer)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/cluster/info":
            return httpx.Response(200, json=self.info)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"reason": "not_found", "message": request.url.path})
        status, answer = route
        body = answer(request) if callable(answer) else answer
        return body if isinstance(body, httpx.Response) else httpx.Response(status, json=body)

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.sent(path) if r.content]
