"""The worker's fail-closed cluster-info check and the manifest comparison report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import errors
from durable_workflow._compat import (
    ManifestCheck,
    check_cluster_info,
    compare_manifest,
    format_manifest_report,
    query_tasks_enabled,
    worker_protocol_compatible,
)
from durable_workflow._generated import manifest

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "protocol" / "cluster-info.example.json"


def minimal_info() -> dict[str, Any]:
    """The smallest document the SDK accepts, built from the SDK's own manifest."""
    return {
        "control_plane": {
            "version": manifest.CONTROL_PLANE_VERSION,
            "request_contract": {
                "schema": manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
                "version": manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
            },
        },
        "worker_protocol": {
            "version": manifest.WORKER_PROTOCOL_VERSION,
            "server_capabilities": {"query_tasks": True},
        },
        "auth_composition_contract": {
            "schema": manifest.AUTH_COMPOSITION_CONTRACT_SCHEMA,
            "version": manifest.AUTH_COMPOSITION_CONTRACT_VERSION,
            "precedence": {
                "connection_values": ["flag", "environment", "selected_profile", "default"],
                "profile_selection": ["flag_env", "DW_ENV", "current_profile", "default_profile"],
            },
            "canonical_environment": {
                "server_url": "DURABLE_WORKFLOW_SERVER_URL",
                "namespace": "DURABLE_WORKFLOW_NAMESPACE",
                "auth_token": "DURABLE_WORKFLOW_AUTH_TOKEN",
                "tls_verify": "DURABLE_WORKFLOW_TLS_VERIFY",
                "profile": "DW_ENV",
            },
            "auth_material": {
                "token": {"status": "supported", "effective_config_value": "redacted"},
                "mtls": {"status": "reserved"},
                "signed_headers": {"status": "reserved"},
            },
            "effective_config": {
                "required_fields": ["server_url", "namespace", "profile", "auth", "tls", "identity"]
            },
            "redaction": {
                "never_echo": ["bearer_tokens", "private_keys", "raw_authorization_headers"]
            },
        },
    }


def problems_of(info: Any) -> list[str]:
    with pytest.raises(errors.IncompatibleServerError) as caught:
        check_cluster_info(info)
    assert isinstance(caught.value, RuntimeError)
    assert str(caught.value).startswith("Server compatibility error: ")
    return caught.value.problems


def test_minimal_good_document_passes() -> None:
    check_cluster_info(minimal_info())


def test_upstream_example_passes_once_it_advertises_our_worker_protocol() -> None:
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is absent (shared protocol folder not available)")
    info = json.loads(EXAMPLE.read_text())
    assert problems_of(info) == [
        f"worker_protocol.version is '1.0'; this SDK speaks {manifest.WORKER_PROTOCOL_VERSION!r} "
        "and needs the same major version with an equal or newer minor"
    ]
    info["worker_protocol"]["version"] = manifest.WORKER_PROTOCOL_VERSION
    check_cluster_info(info)


def test_int_versions_are_accepted_like_upstream() -> None:
    info = minimal_info()
    info["control_plane"]["version"] = int(manifest.CONTROL_PLANE_VERSION)
    info["control_plane"]["request_contract"]["version"] = str(
        manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION
    )
    check_cluster_info(info)


@pytest.mark.parametrize(
    ("mutate", "expected_fragment"),
    [
        (lambda i: i.pop("control_plane"), "control_plane is missing"),
        (lambda i: i["control_plane"].update(version="3"), "control_plane.version is '3'"),
        (
            lambda i: i["control_plane"].pop("request_contract"),
            "control_plane.request_contract is missing",
        ),
        (
            lambda i: i["control_plane"]["request_contract"].update(schema="other"),
            "control_plane.request_contract.schema is 'other'",
        ),
        (
            lambda i: i["control_plane"]["request_contract"].update(version=2),
            "control_plane.request_contract.version is 2",
        ),
        (lambda i: i.pop("worker_protocol"), "worker_protocol is missing"),
        (lambda i: i["worker_protocol"].update(version="1.0"), "worker_protocol.version is '1.0'"),
        (lambda i: i["worker_protocol"].update(version="2.1"), "worker_protocol.version is '2.1'"),
        (lambda i: i.pop("auth_composition_contract"), "auth_composition_contract is missing"),
        (
            lambda i: i["auth_composition_contract"].update(version=2),
            "auth_composition_contract.version is 2",
        ),
        (
            lambda i: i["auth_composition_contract"]["canonical_environment"].update(
                namespace="NS"
            ),
            "canonical_environment.namespace is 'NS'",
        ),
        (
            lambda i: i["auth_composition_contract"]["auth_material"]["token"].update(
                status="reserved"
            ),
            "auth_material.token.status must be 'supported'",
        ),
        (
            lambda i: i["auth_composition_contract"]["auth_material"].pop("mtls"),
            "auth_material.mtls.status must be 'reserved'",
        ),
        (
            lambda i: i["auth_composition_contract"]["effective_config"].update(
                required_fields=["server_url"]
            ),
            "required_fields lacks namespace, profile, auth, tls, identity",
        ),
        (
            lambda i: i["auth_composition_contract"]["redaction"].update(never_echo="all"),
            "redaction.never_echo must be a list of strings",
        ),
        (
            lambda i: i["auth_composition_contract"]["precedence"].pop("profile_selection"),
            "precedence.profile_selection must be a list of strings",
        ),
    ],
)
def test_each_incompatibility_is_reported(mutate: Any, expected_fragment: str) -> None:
    info = minimal_info()
    mutate(info)
    problems = problems_of(info)
    assert any(expected_fragment in p for p in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    info = minimal_info()
    info["control_plane"]["version"] = "1"
    info["worker_protocol"]["version"] = "1.0"
    info["auth_composition_contract"]["schema"] = "nope"
    problems = problems_of(info)
    assert len(problems) == 3
    with pytest.raises(errors.IncompatibleServerError, match=r"control_plane\.version.*worker"):
        check_cluster_info(info)


def test_not_a_document() -> None:
    assert problems_of([]) == ["cluster info is not a JSON object"]


@pytest.mark.parametrize(
    ("advertised", "ok"),
    [
        ("1.1", True),
        ("1.7", True),
        ("1.0", False),
        ("2.1", False),
        ("garbage", False),
        (None, False),
    ],
)
def test_worker_protocol_major_minor_rule(advertised: Any, ok: bool) -> None:
    assert worker_protocol_compatible(advertised, "1.1") is ok


def test_unparseable_versions_need_exact_equality() -> None:
    assert worker_protocol_compatible("v1", "v1")
    assert not worker_protocol_compatible("v1", "1.1")


def test_query_tasks_flag_must_be_exactly_true() -> None:
    info = minimal_info()
    assert query_tasks_enabled(info)
    info["worker_protocol"]["server_capabilities"]["query_tasks"] = "true"
    assert not query_tasks_enabled(info)
    assert not query_tasks_enabled({})


def _manifest_as_document() -> dict[str, Any]:
    """A cluster-info-shaped document holding exactly the manifest's values."""
    document: dict[str, Any] = {}
    for row in compare_manifest({}):
        node = document
        *parents, leaf = row.path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = row.expected
    return document


def test_compare_manifest_matches_a_document_built_from_it() -> None:
    rows = compare_manifest(_manifest_as_document())
    assert rows, "the manifest has entries"
    assert all(row.ok for row in rows), [r for r in rows if not r.ok]
    assert any(row.path == "control_plane.version" for row in rows)


def test_compare_manifest_flags_a_mismatch_and_missing_entries() -> None:
    document = _manifest_as_document()
    document["control_plane"]["version"] = "3"
    rows = {row.path: row for row in compare_manifest(document)}
    assert rows["control_plane.version"] == ManifestCheck(
        "control_plane.version", manifest.CONTROL_PLANE_VERSION, "3", False
    )
    assert sum(not row.ok for row in rows.values()) == 1
    missing = compare_manifest({})
    assert missing and not any(row.ok for row in missing)
    assert all(row.actual is None for row in missing)


def test_compare_manifest_accepts_a_newer_worker_minor() -> None:
    document = _manifest_as_document()
    document["worker_protocol"]["version"] = "1.9"
    rows = {row.path: row for row in compare_manifest(document)}
    assert rows["worker_protocol.version"].ok


def test_report_is_a_table_with_a_verdict_per_row() -> None:
    rows = [
        ManifestCheck("control_plane.version", "2", "2", True),
        ManifestCheck("worker_protocol.version", "1.1", None, False),
    ]
    report = format_manifest_report(rows).splitlines()
    assert report[0].split() == ["path", "expected", "actual", "result"]
    assert set(report[1].replace(" ", "")) == {"-"}
    assert report[2].split() == ["control_plane.version", "2", "2", "ok"]
    assert report[3].split() == ["worker_protocol.version", "1.1", "-", "MISMATCH"]
