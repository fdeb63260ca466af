"""Sanity of contracts/operations.json and its generated form."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from durable_workflow._generated import manifest
from durable_workflow._generated.models.cluster_info import AuthCompositionContract, ClusterInfo
from durable_workflow._generated.operations import OPERATIONS

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
OPS: list[dict[str, Any]] = json.loads((CONTRACTS / "operations.json").read_text())["operations"]
PROTOCOL = REPO.parent / "shared" / "protocol"


def _resolve(ref: str) -> dict[str, Any]:
    family, pointer = ref.split("#", 1)
    doc = json.loads((CONTRACTS / "schemas" / family).read_text())
    node: Any = doc
    for part in pointer.strip("/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def test_operation_names_unique() -> None:
    names = [op["name"] for op in OPS]
    assert len(names) == len(set(names))


def test_routes_unique() -> None:
    routes = [(op["method"], op["path"]) for op in OPS]
    assert len(routes) == len(set(routes))


@pytest.mark.parametrize("op", OPS, ids=[op["name"] for op in OPS])
def test_operation_is_well_formed(op: dict[str, Any]) -> None:
    assert op["path"].startswith("/api/")
    assert op["plane"] in {"public", "control", "worker"}
    assert op["method"] in {"GET", "POST", "PUT", "DELETE"}
    assert re.findall(r"\{(\w+)\}", op["path"]) == op["path_params"]
    for param in op["path_params"]:
        assert "{" + param + "}" in op["path"]
    for key in ("request_schema", "response_schema"):
        if op[key] is not None:
            assert _resolve(op[key])
    assert op["success_status"] and all(200 <= s < 600 for s in op["success_status"])
    assert set(op["roles"]) <= {"worker", "operator", "admin"}
    assert (op["plane"] == "public") == (not op["roles"])
    if op["plane"] == "worker":
        assert op["path"].startswith("/api/worker/") and op["roles"] == ["worker"]
    if op["method"] in {"GET", "DELETE"}:
        assert op["request_schema"] is None
    for query in op["query_params"]:
        assert set(query) == {"name", "type", "rules"}
    if op["rejected_fields"]:
        assert op["request_schema"] is not None
        declared = _resolve(op["request_schema"]).get("properties", {})
        assert not {f["name"] for f in op["rejected_fields"]} & set(declared)


def test_generated_specs_mirror_operations_json() -> None:
    assert list(OPERATIONS) == [op["name"] for op in OPS]
    for op in OPS:
        spec = OPERATIONS[op["name"]]
        assert (spec.method, spec.path, spec.plane) == (op["method"], op["path"], op["plane"])
        assert spec.path_params == tuple(op["path_params"])
        assert spec.query_params == tuple(q["name"] for q in op["query_params"])
        assert spec.success_statuses == tuple(op["success_status"])
        assert spec.error_reasons == tuple(op["error_reasons"])
        assert [f.name for f in spec.rejected_fields] == [f["name"] for f in op["rejected_fields"]]
        if op["response_schema"]:
            assert spec.response_model is not None
            assert spec.response_model.__name__ == op["response_schema"].rsplit("/", 1)[-1]


def test_start_rejects_legacy_fields_by_contract() -> None:
    rejected = {f.name for f in OPERATIONS["workflow.start"].rejected_fields}
    assert {"retry_policy", "request_id", "workflow_execution_timeout"} <= rejected
    assert [f.name for f in OPERATIONS["workflow.update"].rejected_fields] == ["wait_policy"]


def test_render_path_encodes_segments() -> None:
    spec = OPERATIONS["workflow.signal"]
    path = spec.render_path({"workflowId": "order/1", "signalName": "approval.received"})
    assert path == "/api/workflows/order%2F1/signal/approval.received"
    with pytest.raises(KeyError):
        spec.render_path({"workflowId": "x"})


def test_worker_plane_is_complete() -> None:
    worker_ops = {op["name"] for op in OPS if op["plane"] == "worker"}
    assert worker_ops == {
        "worker.register",
        "worker.heartbeat",
        "workflow-task.poll",
        "workflow-task.history",
        "workflow-task.heartbeat",
        "workflow-task.complete",
        "workflow-task.fail",
        "query-task.poll",
        "query-task.complete",
        "query-task.fail",
        "activity.poll",
        "activity.complete",
        "activity.fail",
        "activity.heartbeat",
    }


def test_manifest_constants() -> None:
    assert manifest.CONTROL_PLANE_VERSION == "2"
    assert manifest.WORKER_PROTOCOL_VERSION == "1.1"
    assert manifest.ACCEPTED_WORKER_PROTOCOL_VERSIONS == ("1.0", "1.1")
    assert manifest.WORKER_PROTOCOL_HEADER == "X-Durable-Workflow-Protocol-Version"
    assert manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION == 1
    assert manifest.AUTH_COMPOSITION_CONTRACT["schema"] == manifest.AUTH_COMPOSITION_CONTRACT_SCHEMA
    assert manifest.EXTERNAL_TASK_RESULT_CONTRACT_SCHEMA.endswith(".contract")
    document = json.loads((CONTRACTS / "manifest.json").read_text())
    default_limits = document.pop("default_limits")
    assert document == manifest.MANIFEST
    assert default_limits == {
        "limits": manifest.LIMITS,
        "structural_limits": manifest.STRUCTURAL_LIMITS,
    }


def test_published_auth_contract_satisfies_sdk_checks() -> None:
    contract = AuthCompositionContract.model_validate(manifest.AUTH_COMPOSITION_CONTRACT)
    assert contract.canonical_environment["profile"] == "DW_ENV"
    assert contract.auth_material["token"]["status"] == "supported"
    assert contract.auth_material["mtls"]["status"] == "reserved"
    assert {"server_url", "namespace", "profile", "auth", "tls", "identity"} <= set(
        contract.effective_config.required_fields or []
    )
    assert {"bearer_tokens", "private_keys", "raw_authorization_headers"} <= set(
        contract.redaction.never_echo or []
    )


def test_cluster_info_example_validates() -> None:
    example = PROTOCOL / "cluster-info.example.json"
    if not example.is_file():
        pytest.skip(f"protocol example not available at {example}")
    info = ClusterInfo.model_validate(json.loads(example.read_text()))
    assert info.control_plane is not None
    assert info.control_plane.version == manifest.CONTROL_PLANE_VERSION
    assert info.auth_composition_contract is not None


def test_every_schema_definition_is_generated() -> None:
    import importlib

    from durable_workflow._generated import models

    for path in sorted((CONTRACTS / "schemas").glob("*.json")):
        module = importlib.import_module(f"durable_workflow._generated.models.{path.stem}")
        for name, definition in json.loads(path.read_text())["$defs"].items():
            if "discriminator" in definition:
                assert hasattr(models, name), name  # inlined union, re-exported by name
            elif definition.get("type") == "object":
                assert hasattr(module, name), f"{path.stem}.{name}"
