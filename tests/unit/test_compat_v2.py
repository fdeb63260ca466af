"""A 2.x server is judged by the 2.x contracts, a 0.x server by contracts/manifest.json."""

from __future__ import annotations

import pytest
from gen2_support import cluster_info

from durable_workflow import errors
from durable_workflow._compat import ADDITIVE, BREAKING, MATCH, check_cluster_info, compare_manifest


def statuses(info: dict[str, object]) -> dict[str, str]:
    return {row.path: row.status for row in compare_manifest(info)}


def test_a_good_2x_server_passes_and_every_entry_matches() -> None:
    info = cluster_info()
    check_cluster_info(info)
    rows = statuses(info)
    assert set(rows.values()) == {MATCH}
    # Judged against the 2.x documents, not the 0.x manifest's leaves.
    assert "worker_protocol.server_capabilities.synchronous_update_validation" in rows
    assert "limits.max_payload_bytes" not in rows


def test_a_newer_minor_is_additive_another_major_breaking() -> None:
    assert statuses(cluster_info(protocol="1.23"))["worker_protocol.version"] == ADDITIVE
    assert statuses(cluster_info(protocol="1.19"))["worker_protocol.version"] == MATCH
    info = cluster_info(protocol="2.0")
    assert statuses(info)["worker_protocol.version"] == BREAKING
    with pytest.raises(errors.IncompatibleServerError, match="same major"):
        check_cluster_info(info)


def test_the_worker_gate_lists_every_problem_and_names_the_generation() -> None:
    info = cluster_info(payload_codecs=["json"])
    info["control_plane"]["version"] = "3"
    with pytest.raises(errors.IncompatibleServerError) as caught:
        check_cluster_info(info)
    assert str(caught.value).startswith("Server compatibility error: ")
    assert "generation 2" in str(caught.value)
    assert any("payload_codecs" in p for p in caught.value.problems)
    assert any("control_plane.version" in p for p in caught.value.problems)


def test_optional_features_are_reported_but_do_not_stop_the_worker() -> None:
    info = cluster_info(schedules=False)
    del info["worker_protocol"]["server_capabilities"]["query_tasks"]
    check_cluster_info(info)  # gated where used (UnsupportedServerCapability)
    rows = statuses(info)
    assert rows["capabilities.schedules"] == BREAKING
    assert rows["worker_protocol.server_capabilities.query_tasks"] == BREAKING


def test_server_capabilities_are_checked_against_the_generated_model() -> None:
    info = cluster_info()
    capabilities = info["worker_protocol"]["server_capabilities"]
    capabilities["synchronous_update_validation"]["task_poll"]["strategy"] = "separate"
    del capabilities["local_activities"]  # a feature the SDK does not use: not judged
    rows = statuses(info)
    assert rows["worker_protocol.server_capabilities.synchronous_update_validation"] == BREAKING
    assert not any("local_activities" in path for path in rows)


def test_a_forced_generation_picks_the_contracts() -> None:
    # Forced to generation 1, the 2.x document is read as the 0.x manifest's leaves.
    rows = {row.path for row in compare_manifest(cluster_info(), generation=1)}
    assert "worker_protocol.accepted_request_versions" in rows
    assert "worker_protocol.server_capabilities" not in rows
