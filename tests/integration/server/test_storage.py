"""Namespace external-storage policy and the storage probe (control-plane.md §5.5, §6)."""

from __future__ import annotations

from pathlib import Path

from server_http_helpers import Api, check_model


def test_policy_is_stored_and_replaced(api: Api) -> None:
    body = {"driver": "s3", "threshold_bytes": 1024,
            "config": {"bucket": "b", "region": "", "junk": "x"}}  # fmt: skip
    stored = api.control("PUT", "/namespaces/default/external-storage", json=body)
    assert stored.status_code == 200, stored.text
    check_model("namespace.set_storage_driver", stored)
    assert stored.json()["external_payload_storage"] == {
        "driver": "s3", "enabled": True, "threshold_bytes": 1024, "config": {"bucket": "b"},
    }  # fmt: skip
    replaced = api.control("PUT", "/namespaces/default/external-storage", json={"driver": "local"})
    assert replaced.json()["external_payload_storage"] == {"driver": "local", "enabled": True}
    missing = api.control("PUT", "/namespaces/nope/external-storage", json={"driver": "local"})
    assert missing.status_code == 404 and missing.json()["reason"] == "namespace_not_found"
    invalid = api.control("PUT", "/namespaces/default/external-storage", json={"driver": "ftp"})
    assert invalid.status_code == 422


def test_probe_round_trips_through_the_local_driver(api: Api, tmp_path: Path) -> None:
    sizes = {"small_payload_bytes": 16, "large_payload_bytes": 2048}
    unset = api.control("POST", "/storage/test", json=sizes)
    assert unset.status_code == 422
    assert unset.json()["reason"] == "external_storage_not_configured"
    policy = {"driver": "local", "config": {"uri": tmp_path.as_uri()}}
    api.control("PUT", "/namespaces/default/external-storage", json=policy)
    probe = api.control("POST", "/storage/test", json=sizes)
    assert probe.status_code == 200, probe.text
    check_model("storage.test", probe)
    body = probe.json()
    assert body["status"] == "passed" and body["large_payload"]["bytes"] == 2048
    assert list(tmp_path.iterdir()) == []  # probe files are deleted again
    other = api.control("POST", "/storage/test", json={**sizes, "driver": "s3"})
    assert other.json()["reason"] == "storage_driver_unavailable"
    assert api.control("POST", "/storage/test", json={}).status_code == 422
    api.control("PUT", "/namespaces/default/external-storage",
                json={"driver": "local", "enabled": False})  # fmt: skip
    disabled = api.control("POST", "/storage/test", json=sizes)
    assert disabled.json()["reason"] == "external_storage_disabled"
