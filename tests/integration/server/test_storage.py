"""Namespace external-storage policy and the storage probe (control-plane.md §5.5, §6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_http_helpers import Api, check_model
from storage_emulators import BUCKET, Backend, azurite_connection_string

from durable_workflow.external_storage import envelope_for_blob
from durable_workflow.server.engine.payload_codec import encode_avro
from durable_workflow.testing import dev_server


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
    assert body["large_payload"]["reference_uri"].startswith(tmp_path.as_uri() + "/storage-test/")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # probe objects are deleted
    other = api.control("POST", "/storage/test", json={**sizes, "driver": "s3"})
    assert other.json()["reason"] == "storage_driver_unavailable"
    assert api.control("POST", "/storage/test", json={}).status_code == 422
    api.control("PUT", "/namespaces/default/external-storage",
                json={"driver": "local", "enabled": False})  # fmt: skip
    disabled = api.control("POST", "/storage/test", json=sizes)
    assert disabled.json()["reason"] == "external_storage_disabled"


def test_default_local_root_is_per_namespace_next_to_the_database(api: Api) -> None:
    api.control("PUT", "/namespaces/default/external-storage", json={"driver": "local"})
    sizes = {"small_payload_bytes": 8, "large_payload_bytes": 64}
    probe = api.control("POST", "/storage/test", json=sizes)
    assert probe.status_code == 200, probe.text
    root = (api.handle.db_path.parent / "external-payloads" / "default").resolve()
    assert probe.json()["small_payload"]["reference_uri"].startswith(root.as_uri() + "/")


def test_probe_round_trips_through_s3(s3_env: Backend) -> None:
    sizes = {"small_payload_bytes": 128, "large_payload_bytes": 3 * 1024 * 1024}
    with dev_server(poll_timeout=1.0) as server:
        api = Api(server)
        policy = {"driver": "s3", "config": {"bucket": BUCKET, "prefix": "probe"}}
        assert api.control("PUT", "/namespaces/default/external-storage", json=policy).is_success
        probe = api.control("POST", "/storage/test", json={**sizes, "driver": "s3"})
        assert probe.status_code == 200, probe.text
        check_model("storage.test", probe)
        body = probe.json()
        assert body["status"] == "passed" and body["driver"] == "s3"
        large = body["large_payload"]
        assert large["status"] == "passed" and large["bytes"] == sizes["large_payload_bytes"]
        assert large["reference_uri"].startswith(f"s3://{BUCKET}/probe/storage-test/")
        with pytest.raises(FileNotFoundError):  # deleted again after the read-back
            s3_env.driver(prefix="probe").get(large["reference_uri"])

        missing = {"driver": "s3", "config": {"bucket": "no-such-bucket"}}
        api.control("PUT", "/namespaces/default/external-storage", json=missing)
        failed = api.control("POST", "/storage/test", json=sizes)
        assert failed.status_code == 422, failed.text
        assert failed.json()["reason"] == "storage_round_trip_failed"
        assert failed.json()["small_payload"]["status"] == "failed"
        unconfigured = {"driver": "s3"}
        api.control("PUT", "/namespaces/default/external-storage", json=unconfigured)
        unavailable = api.control("POST", "/storage/test", json=sizes)
        assert unavailable.status_code == 422
        assert unavailable.json()["reason"] == "storage_driver_unavailable"
        assert "config.bucket" in unavailable.json()["message"]
        api.close()


@pytest.fixture(params=["gcs", "azure"])
def cloud_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """GCS or Azure emulator reachable through the environment the client libraries read."""
    backend: Backend = request.getfixturevalue(f"{request.param}_backend")
    if backend.name == "gcs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", backend.url)
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    else:
        monkeypatch.setenv(
            "AZURE_STORAGE_CONNECTION_STRING", azurite_connection_string(backend.url)
        )
    return backend


def test_probe_and_references_through_gcs_and_azure(cloud_env: Backend) -> None:
    """The policy driver round-trips, and a reference in either URI spelling is accepted."""
    sizes = {"small_payload_bytes": 64, "large_payload_bytes": 200_000}
    with dev_server(poll_timeout=1.0) as server:
        api = Api(server)
        policy = {"driver": cloud_env.name, "config": {"bucket": BUCKET, "prefix": "srv"}}
        assert api.control("PUT", "/namespaces/default/external-storage", json=policy).is_success
        probe = api.control("POST", "/storage/test", json=sizes)
        assert probe.status_code == 200, probe.text
        assert probe.json()["large_payload"]["reference_uri"].startswith(
            f"{cloud_env.name}://{BUCKET}/srv/storage-test/"
        )
        driver = cloud_env.driver(prefix="srv")
        for index, scheme in enumerate((cloud_env.name, cloud_env.upstream_scheme)):
            blob = encode_avro({"n": index, "pad": "p" * 4000})
            envelope = envelope_for_blob(
                blob, codec="avro", external_storage=driver, threshold_bytes=1
            )
            uri = envelope["external_storage"]["uri"]
            envelope["external_storage"]["uri"] = scheme + uri[uri.index("://") :]
            started = api.start(f"wf-{index}", input=envelope)
            assert started.status_code == 201, started.text
            shown = api.control("GET", f"/workflows/wf-{index}").json()["input_envelope"]
            assert shown == envelope
        api.close()
