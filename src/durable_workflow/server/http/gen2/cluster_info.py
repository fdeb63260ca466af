"""The generation-2 ``GET /api/cluster/info`` document (cluster-info-envelope.schema.json).

It is the generation-1 document (same engine, same limits, same repair policy)
reshaped where the 2.x envelope differs: the worker protocol advertises the
vendored document's default version with the 2.x capabilities, the control plane
publishes the update wait stages, and the manifests the envelope requires that
the 0.x line lacks (topology, coordination health, surface stability, protocol
catalog, conformance suite, SDK neutrality, replay verification) describe this
process. The protocol catalog is the vendored one.

One deviation is deliberate: the envelope types ``worker_protocol.version`` as an
integer, while the worker-protocol document's negotiation extension says that
path carries the advertised ``"1.20"`` and upstream SDK 2.12.0 refuses a server
whose value is not ``MAJOR.MINOR`` -- the string wins (docs/server-generations.md).
"""

from __future__ import annotations

import copy
from typing import Any

from durable_workflow import _dev_extensions as dev_extensions
from durable_workflow._spec_validation import load_document
from durable_workflow._version import __version__
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.updates import WAIT_FOR
from durable_workflow.server.http.cluster_info import cluster_info as gen1_cluster_info
from durable_workflow.server.http.gen2 import capabilities

SERVER_VERSION = f"2.0.0+python-dev-server.{__version__}"
CATALOG = "platform-protocol-specs.json"


def _catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = copy.deepcopy(load_document(CATALOG))
    catalog.setdefault("catalog_url", catalog["authority_url"])
    return catalog


def _surface_stability(catalog: dict[str, Any]) -> dict[str, Any]:
    families: dict[str, list[str]] = {}
    for spec_id, spec in catalog["specs"].items():
        families.setdefault(str(spec.get("surface_family")), []).append(spec_id)
    return {
        "schema": "durable-workflow.v2.surface-stability.contract",
        "version": 1,
        "authority_url": catalog["authority_url"],
        "stability_levels": copy.deepcopy(catalog["status_levels"]),
        "release_rules": copy.deepcopy(catalog["evolution_rules"]),
        "field_visibility_rule": "additive_fields_may_appear_consumers_ignore_unknown",
        "surface_families": {name: {"specs": ids} for name, ids in sorted(families.items())},
        "release_check": copy.deepcopy(catalog["release_check"]),
    }


def _conformance_suite(catalog: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": "durable-workflow.v2.platform-conformance.suite",
        "version": 1,
        "authority_doc": catalog["authority_url"],
        "surface_stability_authority": "durable-workflow.v2.surface-stability.contract",
        "result_schema": "durable-workflow.v2.platform-conformance.result",
        "result_version": 1,
        "conformance_levels": {},
        "targets": {"python_dev_server": {"generation": 2}},
        "fixture_catalog": {},
        "pass_fail_rules": {},
        "harness_contract": {},
        "release_gates": {},
    }


def _control_plane(gen1: dict[str, Any]) -> dict[str, Any]:
    control = copy.deepcopy(gen1)
    control["version"] = int(control["version"])
    operations = control["request_contract"]["operations"]
    operations["update"] = {"fields": {"wait_for": {"canonical_values": list(WAIT_FOR)}}}
    return control


def _worker_protocol(config: ServerConfig, gen1: dict[str, Any]) -> dict[str, Any]:
    server_capabilities = capabilities.server_capabilities(config)
    for key in capabilities.WORKER_ENVELOPE_ONLY:
        server_capabilities.pop(key, None)
    return {
        **copy.deepcopy(gen1),
        "version": capabilities.advertised_version(),
        "server_capabilities": server_capabilities,
        "accepted_request_versions": list(capabilities.accepted_versions()),
    }


def _worker_fleet(fleet: dict[str, Any]) -> dict[str, Any]:
    """2.x lists the scopes (namespace, queue, build id) where 0.x counted them."""
    scopes = [
        {"namespace": fleet["namespace"], "task_queue": queue, "build_id": build_id}
        for worker in fleet["workers"]
        for queue in worker["queues"]
        for build_id in worker["build_ids"] or [None]
    ]
    return {**fleet, "active_worker_scopes": scopes}


def _capabilities(gen1: dict[str, Any]) -> dict[str, Any]:
    caps = {**gen1, "replay_verification_contract": False}
    caps["extensions"] = [e for e in gen1["extensions"] if e not in dev_extensions.GEN1_ONLY]
    return caps


def cluster_info(config: ServerConfig, worker_fleet: dict[str, Any]) -> dict[str, Any]:
    """The whole generation-2 document."""
    base = gen1_cluster_info(config, worker_fleet)
    catalog = _catalog()
    client = copy.deepcopy(base["client_compatibility"])
    required = client["required_protocols"]
    required["worker_protocol"]["version"] = capabilities.advertised_version()
    required["control_plane"]["version"] = int(required["control_plane"]["version"])
    document: dict[str, Any] = {
        "server_id": base["server_id"],
        "version": SERVER_VERSION,
        "default_namespace": base["default_namespace"],
        "supported_sdk_versions": {"python": ">=2.0"},
        "capabilities": _capabilities(base["capabilities"]),
        "worker_fleet": _worker_fleet(base["worker_fleet"]),
        "task_repair": base["task_repair"],
        "limits": base["limits"],
        "structural_limits": base["structural_limits"],
        "topology": {
            "schema": "durable-workflow.v2.topology",
            "version": 1,
            "supported_shapes": ["single_process"],
            "current_shape": "single_process",
        },
        "coordination_health": {
            "schema": "durable-workflow.v2.coordination-health",
            "version": 1,
            "status": "healthy",
            "checks": {"database": "ok", "long_poll_wakeups": "in_process"},
        },
        "client_compatibility": client,
        "surface_stability_contract": _surface_stability(catalog),
        "platform_protocol_specs": catalog,
        "platform_conformance_suite": _conformance_suite(catalog),
        "sdk_neutrality_contract": {
            "schema": "durable-workflow.v2.sdk-neutrality.contract",
            "version": 1,
            "authority_url": catalog["authority_url"],
        },
        "auth_composition_contract": base["auth_composition_contract"],
        "control_plane": _control_plane(base["control_plane"]),
        "worker_protocol": _worker_protocol(config, base["worker_protocol"]),
        "bridge_adapter_outcome_contract": base["bridge_adapter_outcome_contract"],
        "replay_verification_contract": {
            "schema": "durable-workflow.v2.replay-verification.contract",
            "version": 1,
            "supported": False,
        },
    }
    for key, value in base.items():
        document.setdefault(key, value)
    return document
