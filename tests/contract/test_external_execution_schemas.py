"""External execution manifests and the executor config document, as generated models.

The published manifests (cluster-info example, read in place) fit the models;
ids and versions come from manifest.json via ``$manifest`` placeholders, so a
bumped manifest makes the model refuse the old value.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from _upstream import REPO, load
from pydantic import BaseModel, ValidationError

from durable_workflow._generated import manifest
from durable_workflow._generated.models.cluster_info import AuthCompositionContract
from durable_workflow._generated.models.external_execution import (
    BridgeAdapterOutcomeContract,
    ExternalExecutorConfig,
    ExternalExecutorConfigContract,
    ExternalExecutorResolvedMapping,
    ExternalTaskInputContract,
    ExternalTaskResultContract,
    InvocableCarrierContract,
)

CLUSTER_INFO = REPO.parent / "shared" / "protocol" / "cluster-info.example.json"
SCHEMAS = REPO / "contracts" / "schemas"

MANIFESTS: list[tuple[tuple[str, ...], type[BaseModel]]] = [
    (("worker_protocol", "external_task_input_contract"), ExternalTaskInputContract),
    (("worker_protocol", "external_task_result_contract"), ExternalTaskResultContract),
    (("worker_protocol", "invocable_carrier_contract"), InvocableCarrierContract),
    (("worker_protocol", "external_executor_config_contract"), ExternalExecutorConfigContract),
    (("bridge_adapter_outcome_contract",), BridgeAdapterOutcomeContract),
    (("auth_composition_contract",), AuthCompositionContract),
]


def _published(path: tuple[str, ...]) -> dict[str, Any]:
    if not CLUSTER_INFO.is_file():
        pytest.skip(f"protocol cluster-info example not available at {CLUSTER_INFO}")
    node: Any = load(CLUSTER_INFO)
    for key in path:
        node = node[key]
    assert isinstance(node, dict)
    return node


@pytest.mark.parametrize(("path", "model"), MANIFESTS, ids=[p[-1] for p, _ in MANIFESTS])
def test_published_manifest_fits_its_model(path: tuple[str, ...], model: type[BaseModel]) -> None:
    data = _published(path)
    parsed = model.model_validate(data)
    assert parsed.model_dump(by_alias=True)["schema"] == data["schema"]
    bumped = copy.deepcopy(data)
    bumped["version"] = data["version"] + 1
    with pytest.raises(ValidationError, match="version"):
        model.model_validate(bumped)
    missing = copy.deepcopy(data)
    del missing["schema"]
    with pytest.raises(ValidationError, match="schema"):
        model.model_validate(missing)


def test_result_contract_fixture_artifacts_have_hashes() -> None:
    parsed = ExternalTaskResultContract.model_validate(
        _published(("worker_protocol", "external_task_result_contract"))
    )
    assert parsed.fixtures is not None and len(parsed.fixtures) == 8
    for artifact in parsed.fixtures.values():
        assert len(artifact.sha256) == 64


CONFIG: dict[str, Any] = {
    "schema": manifest.EXTERNAL_EXECUTOR_CONFIG_CONTRACT_CONFIG_SCHEMA,
    "version": manifest.EXTERNAL_EXECUTOR_CONFIG_CONTRACT_CONFIG_SCHEMA_VERSION,
    "defaults": {"task_queue": "billing-activities", "auth_ref": "prod"},
    "auth_refs": {"prod": {"type": "profile", "profile": "prod"}},
    "carriers": {
        "billing-http": {
            "type": "invocable_http",
            "url": "https://billing.example/run",
            "timeout_seconds": 30,
            "retry_policy": {"max_attempts": 2, "backoff_seconds": [1]},
            "capabilities": ["activity_task"],
        }
    },
    "mappings": [
        {
            "name": "billing.charge",
            "kind": "activity",
            "activity_type": "billing.charge-card",
            "carrier": "billing-http",
            "handler": "charge",
        }
    ],
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), 2),
        (("carriers",), {}),
        (("mappings",), []),
        (("carriers", "billing-http", "timeout_seconds"), 901),
        (("carriers", "billing-http", "retry_policy", "max_attempts"), 6),
        (("carriers", "billing-http", "capabilities"), ["teleport"]),
        (("mappings", 0, "kind"), "cron"),
    ],
)
def test_executor_config_document(path: tuple[Any, ...], value: Any) -> None:
    assert ExternalExecutorConfig.model_validate(CONFIG).mappings[0].handler == "charge"
    bad = copy.deepcopy(CONFIG)
    node: Any = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError):
        ExternalExecutorConfig.model_validate(bad)


def test_resolved_mapping_shape() -> None:
    mapping = {
        "schema": "durable-workflow.external-executor.config.mapping",
        "version": 1,
        "name": "billing.charge",
        "kind": "activity",
        "activity_type": "billing.charge-card",
        "task_queue": "billing-activities",
        "handler": "charge",
        "carrier": {"name": "billing-http", "type": "invocable_http", "target": {}},
        "dispatch": {"state": "poll_delivered", "timeout_seconds": 30},
    }
    assert ExternalExecutorResolvedMapping.model_validate(mapping).carrier.type == "invocable_http"
    del mapping["carrier"]
    with pytest.raises(ValidationError, match="carrier"):
        ExternalExecutorResolvedMapping.model_validate(mapping)


def _consts(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["const"]] if "const" in node else []
        return found + [c for value in node.values() for c in _consts(value)]
    if isinstance(node, list):
        return [c for value in node for c in _consts(value)]
    return []


def test_contract_ids_live_only_in_the_manifest() -> None:
    """Schemas reference contract ids with $manifest; none is retyped as a literal."""
    for path in sorted(SCHEMAS.glob("*.json")):
        literal = [
            c
            for c in _consts(json.loads(Path(path).read_text(encoding="utf-8")))
            if isinstance(c, str) and c.startswith("durable-workflow.")
        ]
        assert literal == [], f"{path.name} retypes {literal}; use {{'$manifest': ...}}"
