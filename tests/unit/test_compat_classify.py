"""compare_manifest's match / additive / breaking classification (fails closed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from durable_workflow._compat import (
    ADDITIVE,
    BREAKING,
    MATCH,
    ManifestCheck,
    compare_manifest,
    format_manifest_report,
)
from durable_workflow._generated import manifest


def document() -> dict[str, Any]:
    """A cluster-info document advertising exactly the SDK's manifest."""
    return copy.deepcopy(manifest.MANIFEST)


def statuses(info: dict[str, Any]) -> dict[str, str]:
    return {row.path: row.status for row in compare_manifest(info)}


def test_the_manifest_itself_matches_everywhere() -> None:
    result = statuses(document())
    assert result and set(result.values()) == {MATCH}
    assert "schema" not in result and "version" not in result  # the file's own identity


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("worker_protocol.version", "1.7"),
        ("worker_protocol.accepted_request_versions", ["1.0", "1.1", "1.2"]),
    ],
)
def test_newer_minor_or_extra_values_are_additive(path: str, value: Any) -> None:
    info = document()
    node = info
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    result = statuses(info)
    assert result[path] == ADDITIVE
    assert [p for p, s in result.items() if s != MATCH] == [path]
    assert all(row.ok for row in compare_manifest(info))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("worker_protocol.version", "2.0"),  # other major
        ("worker_protocol.version", "1.0"),  # older minor than we speak
        ("worker_protocol.invocable_carrier_contract.version", 2),  # integer bump
        ("worker_protocol.invocable_carrier_contract.schema", "durable-workflow.v3.x"),
        ("control_plane.version", "3"),
        ("worker_protocol.accepted_request_versions", ["1.1"]),  # dropped a value
        ("worker_protocol.external_task_input_contract.envelope.media_type", "text/plain"),
    ],
)
def test_incompatible_changes_are_breaking(path: str, value: Any) -> None:
    info = document()
    node = info
    *parents, leaf = path.split(".")
    for key in parents:
        node = node[key]
    node[leaf] = value
    rows = {row.path: row for row in compare_manifest(info)}
    assert rows[path].status == BREAKING and not rows[path].ok
    assert rows[path].actual == value
    assert [p for p, r in rows.items() if r.status != MATCH] == [path]


def test_a_missing_manifest_is_breaking_for_every_entry() -> None:
    info = document()
    del info["bridge_adapter_outcome_contract"]
    del info["worker_protocol"]["external_task_result_contract"]["envelope"]["version"]
    broken = {p for p, s in statuses(info).items() if s == BREAKING}
    assert broken == {
        "bridge_adapter_outcome_contract.schema",
        "bridge_adapter_outcome_contract.version",
        "worker_protocol.external_task_result_contract.envelope.version",
    }


def test_unknown_contracts_are_additive_other_extra_keys_are_not_reported() -> None:
    info = document()
    info["worker_protocol"]["future_contract"] = {
        "schema": "durable-workflow.v2.future",
        "version": 1,
    }
    info["telemetry_contract"] = {"schema": "durable-workflow.v2.telemetry", "version": 1}
    info["capabilities"] = {"schedules": True}
    info["worker_protocol"]["server_capabilities"] = {"query_tasks": True}
    rows = {row.path: row for row in compare_manifest(info)}
    assert rows["worker_protocol.future_contract"].status == ADDITIVE
    assert rows["telemetry_contract"].status == ADDITIVE
    assert rows["telemetry_contract"].expected is None
    assert "capabilities" not in rows and "worker_protocol.server_capabilities" not in rows


def test_not_an_object_at_a_section_is_breaking() -> None:
    info = document()
    info["history_export"] = "v1"
    result = statuses(info)
    assert result["history_export.schema"] == BREAKING
    assert result["history_export.version"] == BREAKING


def test_rows_built_without_a_status_follow_ok_and_the_report_names_additive() -> None:
    assert ManifestCheck("a", 1, 1, True).status == MATCH
    assert ManifestCheck("a", 1, 2, False).status == BREAKING
    report = format_manifest_report(
        [ManifestCheck("worker_protocol.version", "1.1", "1.2", True, ADDITIVE)]
    ).splitlines()
    assert report[2].split() == ["worker_protocol.version", "1.1", "1.2", "additive"]
