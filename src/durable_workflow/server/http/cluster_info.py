"""The ``GET /api/cluster/info`` discovery document (cluster-info.md §2).

Versions and schema ids come from the generated manifest; capability flags
say only what this dev server really implements.
"""

from __future__ import annotations

import copy
from typing import Any

from durable_workflow import _dev_extensions as dev_extensions
from durable_workflow._generated import manifest
from durable_workflow._version import __version__
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import structural_limits
from durable_workflow.server.engine.commands import SUPPORTED_COMMANDS
from durable_workflow.server.engine.system import task_repair
from durable_workflow.server.http import control_plane_block
from durable_workflow.server.http.compression import ENCODINGS, HISTORY_THRESHOLD_EVENTS

# Dev-server behaviours beyond the upstream snapshot that clients may rely on.
EXTENSIONS = (
    "start_duplicate_reason",
    "workflow_started_timestamp",
    "signals_without_declared_contract",
    "signal_arguments_in_history",
    "signal_follow_up_task",
    "updates_without_declared_contract",
    "update_follow_up_task",
    "child_result_in_history",
    "child_cancel_terminate_recorded",
    "parent_close_policy_on_any_close",
    "run_deadlines_enforced",
    *dev_extensions.GEN1_ONLY,
)


def worker_contract_pointers() -> dict[str, dict[str, Any]]:
    """The five worker contract pointers, copied from the manifest (one source of truth)."""
    worker = manifest.MANIFEST["worker_protocol"]
    names = (
        "external_execution_surface",
        "external_executor_config",
        "invocable_carrier",
        "external_task_input",
        "external_task_result",
    )
    return {name: copy.deepcopy(worker[f"{name}_contract"]) for name in names}


def server_capabilities(config: ServerConfig) -> dict[str, Any]:
    """The object added to every worker-plane response (worker-protocol.md §6)."""
    return {
        "long_poll_timeout": max(1, round(config.poll_timeout)),
        "supported_workflow_task_commands": list(SUPPORTED_COMMANDS),
        "workflow_task_poll_request_idempotency": True,
        "history_page_size_default": config.history_page_size_default,
        "history_page_size_max": config.history_page_size_max,
        "query_tasks": True,
        "activity_retry_policy": True,
        "activity_timeouts": True,
        "child_workflow_retry_policy": True,
        "child_workflow_timeouts": True,
        "parent_close_policy": True,
        "non_retryable_failures": True,
        "response_compression": list(ENCODINGS) if config.compression else [],
        "history_compression": {
            "supported_encodings": list(ENCODINGS),
            "compression_threshold": HISTORY_THRESHOLD_EVENTS,
        },
        **worker_contract_pointers(),
    }


def _capabilities(config: ServerConfig) -> dict[str, Any]:
    implemented = {
        "workflow_tasks", "activity_tasks", "signals", "queries", "updates", "search_attributes",
        "child_workflows", "schedules", "schedule_jitter", "schedule_max_runs", "history_export",
        "bridge_adapter_outcome_contract",
        "child_workflow_retry_policy", "parent_close_policy", "child_workflow_timeouts",
        "continue_as_new",
        "activity_timeouts", "activity_retry_policy", "non_retryable_failures",
        "payload_codec_envelope", "payload_codec_envelope_responses",
    }  # fmt: skip
    names = (
        "workflow_tasks", "activity_tasks", "signals", "queries", "updates", "schedules",
        "schedule_jitter", "schedule_max_runs", "search_attributes", "history_export",
        "continue_as_new", "child_workflows", "activity_timeouts", "activity_retry_policy",
        "child_workflow_retry_policy", "child_workflow_timeouts", "parent_close_policy",
        "non_retryable_failures", "history_retention", "payload_codec_envelope",
        "payload_codec_envelope_responses", "bridge_adapter_outcome_contract",
        "external_executor_config_contract", "invocable_carrier_contract",
    )  # fmt: skip
    caps: dict[str, Any] = {name: name in implemented for name in names}
    caps["payload_codecs"] = ["avro"]
    caps["response_compression"] = list(ENCODINGS) if config.compression else []
    caps["extensions"] = list(EXTENSIONS)
    return caps


def _control_plane() -> dict[str, Any]:
    return {
        "version": manifest.CONTROL_PLANE_VERSION,
        "header": manifest.CONTROL_PLANE_HEADER,
        "response_contract": {
            "schema": manifest.CONTROL_PLANE_RESPONSE_SCHEMA,
            "version": manifest.CONTROL_PLANE_RESPONSE_VERSION,
            "contract": control_plane_block.contract_ref(),
            "projected_fields": list(control_plane_block.PROJECTED_FIELDS),
            "operations": {
                op: control_plane_block.operation_spec(op) for op in control_plane_block.OPERATIONS
            },
        },
        "request_contract": {
            "schema": manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
            "version": manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
            "operations": {
                "start": {
                    "fields": {
                        "duplicate_policy": {
                            "canonical_values": ["fail", "use-existing"],
                            "rejected_aliases": {"use_existing": "use-existing"},
                        },
                        "execution_timeout_seconds": {"type": "integer", "min": 1},
                        "run_timeout_seconds": {"type": "integer", "min": 1},
                    },
                    "unsupported_fields": [
                        "workflow_execution_timeout",
                        "workflow_run_timeout",
                        "workflow_task_timeout",
                        "retry_policy",
                        "idempotency_key",
                        "request_id",
                    ],
                }
            },
        },
    }


def _worker_protocol(config: ServerConfig) -> dict[str, Any]:
    pointers = worker_contract_pointers()
    return {
        "version": manifest.WORKER_PROTOCOL_VERSION,
        "server_capabilities": server_capabilities(config),
        "external_execution_surface_contract": pointers["external_execution_surface"],
        "external_executor_config_contract": pointers["external_executor_config"],
        "invocable_carrier_contract": pointers["invocable_carrier"],
        "external_task_input_contract": pointers["external_task_input"],
        "external_task_result_contract": pointers["external_task_result"],
        # Beyond upstream's keys: the header and the request versions accepted.
        "header": manifest.WORKER_PROTOCOL_HEADER,
        "accepted_request_versions": list(manifest.ACCEPTED_WORKER_PROTOCOL_VERSIONS),
    }


def _client_compatibility() -> dict[str, Any]:
    pointers = worker_contract_pointers()
    worker_required: dict[str, Any] = {
        "version": manifest.WORKER_PROTOCOL_VERSION,
        "header": manifest.WORKER_PROTOCOL_HEADER,
    }
    for key, value in pointers.items():
        worker_required[f"{key}_contract"] = {
            "schema": value["schema"],
            "version": value["version"],
        }
    return {
        "schema": manifest.CLIENT_COMPATIBILITY_SCHEMA,
        "version": manifest.CLIENT_COMPATIBILITY_VERSION,
        "authority": "protocol_manifests",
        "top_level_version_role": "informational",
        "fail_closed": True,
        "required_protocols": {
            "auth_composition": {
                "schema": manifest.AUTH_COMPOSITION_CONTRACT_SCHEMA,
                "version": manifest.AUTH_COMPOSITION_CONTRACT_VERSION,
            },
            "control_plane": {
                "version": manifest.CONTROL_PLANE_VERSION,
                "header": manifest.CONTROL_PLANE_HEADER,
                "request_contract": {
                    "schema": manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
                    "version": manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
                },
            },
            "worker_protocol": worker_required,
        },
    }


def cluster_info(config: ServerConfig, worker_fleet: dict[str, Any]) -> dict[str, Any]:
    """The whole document, keys in the order of cluster-info.md §2.

    Manifest sections upstream does not publish (e.g. ``history_export``) follow
    at the end, so ``compat_check`` can compare every manifest entry.
    """
    document: dict[str, Any] = {
        "server_id": config.server_id,
        "version": __version__,
        "default_namespace": config.default_namespace,
        "supported_sdk_versions": {"python": ">=0.2,<1.0"},
        "capabilities": _capabilities(config),
        "worker_fleet": worker_fleet,
        "task_repair": task_repair(),
        "limits": {
            **manifest.LIMITS,
            "max_payload_bytes": config.max_payload_bytes,
            "max_memo_bytes": config.max_memo_bytes,
        },
        "structural_limits": structural_limits.advertised(config),
        "client_compatibility": _client_compatibility(),
        "auth_composition_contract": manifest.AUTH_COMPOSITION_CONTRACT,
        "control_plane": _control_plane(),
        "worker_protocol": _worker_protocol(config),
        "bridge_adapter_outcome_contract": {
            "schema": manifest.BRIDGE_ADAPTER_OUTCOME_CONTRACT_SCHEMA,
            "version": manifest.BRIDGE_ADAPTER_OUTCOME_CONTRACT_VERSION,
        },
    }
    for key, value in manifest.MANIFEST.items():
        if key not in document and key not in ("schema", "version"):
            document[key] = copy.deepcopy(value)
    return document
