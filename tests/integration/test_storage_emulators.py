"""Each cloud storage driver against a real server of its protocol.

S3: moto's standalone server; GCS: gcp-storage-emulator; Azure Blob: Azurite
(installed from npm into a cache outside the repo on first use). The emulator
fixtures live in ``storage_emulators`` (shared with the dev-server tests).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from storage_emulators import BUCKET, OTHER_BUCKET, Backend, azurite_connection_string

from durable_workflow import serializer
from durable_workflow.codecs import AesGcmCodec, CodecChain, GzipCodec
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadNotFoundError,
    ExternalStorageDriver,
    ExternalStorageLocationError,
    decode_payload,
    delete_external_payload,
    envelope_for_blob,
    external_storage_driver_from_policy,
    fetch_external_payload,
    store_external_payload,
)

# The first run installs Azurite from npm inside a fixture; allow for a slow registry.
pytestmark = pytest.mark.timeout(900)


def _key_of(uri: str) -> str:
    return uri.split("://", 1)[1].split("/", 1)[1]


class CountingDriver:
    def __init__(self, inner: ExternalStorageDriver) -> None:
        self.inner, self.gets = inner, 0

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        return self.inner.put(data, sha256=sha256, codec=codec)

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return self.inner.get(uri)

    def delete(self, uri: str) -> None:
        self.inner.delete(uri)


def test_put_get_delete(backend: Backend) -> None:
    driver = backend.driver()
    data = serializer.encode({"order": "o-1", "lines": list(range(50))}).encode()
    reference = store_external_payload(driver, data, codec="avro")
    scheme = {"s3": "s3", "gcs": "gcs", "azure": "azure"}[backend.name]
    assert reference.uri == f"{scheme}://{BUCKET}/avro/{reference.sha256[:2]}/{reference.sha256}"
    assert fetch_external_payload(driver, reference) == data
    delete_external_payload(driver, reference)
    with pytest.raises(ExternalPayloadNotFoundError):
        fetch_external_payload(driver, reference)
    driver.delete(reference.uri)  # deleting again is not an error


def test_reads_the_other_uri_spelling(backend: Backend) -> None:
    driver = backend.driver()
    reference = store_external_payload(driver, b"spelled twice", codec="json")
    other = backend.upstream_scheme + "://" + reference.uri.split("://", 1)[1]
    assert driver.get(other) == b"spelled twice"


def test_prefix_is_used_and_enforced(backend: Backend) -> None:
    tenant = backend.driver(prefix="/tenant-a/payloads/")
    reference = store_external_payload(tenant, b"tenant data", codec="avro")
    assert _key_of(reference.uri).startswith("tenant-a/payloads/avro/")
    assert fetch_external_payload(tenant, reference) == b"tenant data"
    with pytest.raises(ExternalStorageLocationError, match="prefix"):
        backend.driver(prefix="tenant-b").get(reference.uri)
    with pytest.raises(ExternalStorageLocationError, match="prefix"):
        backend.driver(prefix="tenant-a/payloads-x").get(reference.uri)
    escape = reference.uri.replace("tenant-a/payloads/", "tenant-a/payloads/../../")
    with pytest.raises(ExternalStorageLocationError, match=r"'\.\.'"):
        tenant.get(escape)


def test_wrong_bucket_is_refused(backend: Backend) -> None:
    reference = store_external_payload(backend.driver(), b"in the main bucket", codec="avro")
    other = backend.driver(bucket=OTHER_BUCKET)
    with pytest.raises(ExternalStorageLocationError, match="bucket"):
        other.get(reference.uri)
    with pytest.raises(ExternalStorageLocationError, match="bucket"):
        other.delete(reference.uri)
    assert backend.driver().get(reference.uri) == b"in the main bucket"


def test_tampered_object_fails_integrity(backend: Backend) -> None:
    driver = backend.driver()
    cache = ExternalPayloadCache()
    reference = store_external_payload(driver, b"the-real-payload", codec="avro")
    backend.overwrite(_key_of(reference.uri), b"the-fake-payload")
    with pytest.raises(ExternalPayloadIntegrityError, match="sha256"):
        fetch_external_payload(driver, reference, cache=cache)
    backend.overwrite(_key_of(reference.uri), b"short")
    with pytest.raises(ExternalPayloadIntegrityError, match="bytes"):
        fetch_external_payload(driver, reference, cache=cache)
    assert len(cache) == 0


def test_cache_hit_does_not_fetch_again(backend: Backend) -> None:
    driver = CountingDriver(backend.driver())
    cache = ExternalPayloadCache()
    reference = store_external_payload(driver, b"cache me", codec="avro")
    assert fetch_external_payload(driver, reference, cache=cache) == b"cache me"
    backend.driver().delete(reference.uri)  # gone from storage, still verified in the cache
    assert fetch_external_payload(driver, reference, cache=cache) == b"cache me"
    assert driver.gets == 1


def test_large_offloaded_payload_through_a_codec_chain(backend: Backend) -> None:
    driver = backend.driver(prefix="big")
    chain = CodecChain([GzipCodec(), AesGcmCodec(os.urandom(32))])
    value = {"rows": [f"row-{i:07d}" for i in range(100_000)]}  # ~1.3 MB of JSON
    blob = serializer.encode(value, size_warning=None)
    envelope = envelope_for_blob(
        blob, codec="avro", external_storage=driver, threshold_bytes=1024, payload_codec=chain
    )
    assert set(envelope) == {"codec", "external_storage"}
    assert envelope["external_storage"]["size_bytes"] < len(blob)  # compressed before storing
    assert decode_payload(envelope, external_storage=driver, payload_codec=chain) == value


def test_driver_from_policy_with_default_clients(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = backend.url
    config: dict[str, Any] = {"bucket": BUCKET, "prefix": "from-policy"}
    if backend.name == "s3":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        config |= {"endpoint": url, "region": "us-east-1"}
    elif backend.name == "gcs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    else:
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection_string(url))
    driver = external_storage_driver_from_policy(
        {"driver": backend.name, "enabled": True, "config": config}, default_clients=True
    )
    reference = store_external_payload(driver, b"via policy", codec="avro")
    assert _key_of(reference.uri).startswith("from-policy/avro/")
    assert backend.driver(prefix="from-policy").get(reference.uri) == b"via policy"
