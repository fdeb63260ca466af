"""External storage: references, the local driver, integrity, cache, policies, envelopes."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from durable_workflow import serializer
from durable_workflow._generated import manifest
from durable_workflow.external_storage import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    AzureBlobExternalStorage,
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadNotFoundError,
    ExternalPayloadReference,
    ExternalPayloadReferenceError,
    ExternalPayloadStoragePolicy,
    ExternalStorageDriver,
    ExternalStorageLocationError,
    ExternalStoragePolicyError,
    GCSExternalStorage,
    LocalFilesystemExternalStorage,
    MissingOptionalDependency,
    S3ExternalStorage,
    decode_payload,
    delete_external_payload,
    envelope_for_blob,
    external_storage_driver_from_policy,
    external_storage_envelope,
    external_storage_envelope_many,
    fetch_external_payload,
    resolve_external_envelope,
    store_external_payload,
)

# payloads.md §5.1 / §5.2: the example reference and the blob it points at.
EXAMPLE_BLOB = "AC5bIm9yZGVyLTEyMyIseyJxdHkiOjJ9XQI="
EXAMPLE_SHA = "1c61387bbe1b7e71935a925a0190a46d4bfd162440d03fd352ccd69fc64dd668"
EXAMPLE = {
    "schema": "durable-workflow.v2.external-payload-reference.v1",
    "uri": f"s3://my-bucket/avro/1c/{EXAMPLE_SHA}",
    "sha256": EXAMPLE_SHA,
    "size_bytes": 36,
    "codec": "avro",
}


class CountingDriver:
    """Wraps a driver and counts reads, to prove cache hits skip the store."""

    def __init__(self, inner: ExternalStorageDriver) -> None:
        self.inner = inner
        self.gets = 0

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        return self.inner.put(data, sha256=sha256, codec=codec)

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return self.inner.get(uri)

    def delete(self, uri: str) -> None:
        self.inner.delete(uri)


@pytest.fixture
def local(tmp_path: Path) -> LocalFilesystemExternalStorage:
    return LocalFilesystemExternalStorage(tmp_path / "store")


# --- reference -----------------------------------------------------------------------


def test_schema_id_comes_from_the_manifest() -> None:
    assert EXTERNAL_PAYLOAD_REFERENCE_SCHEMA == manifest.EXTERNAL_PAYLOAD_REFERENCE_SCHEMA
    assert EXAMPLE["schema"] == EXTERNAL_PAYLOAD_REFERENCE_SCHEMA


def test_protocol_example_hash_and_size_are_of_the_blob_text() -> None:
    data = EXAMPLE_BLOB.encode("utf-8")
    assert hashlib.sha256(data).hexdigest() == EXAMPLE_SHA
    assert len(data) == EXAMPLE["size_bytes"]
    assert serializer.decode(EXAMPLE_BLOB, "avro") == ["order-123", {"qty": 2}]


def test_reference_round_trips_the_protocol_example() -> None:
    reference = ExternalPayloadReference.from_dict(EXAMPLE)
    assert reference.to_dict() == EXAMPLE
    assert "expires_at" not in reference.to_dict()
    for stamp in ("2030-01-01T00:00:00.5Z", "2030-01-01t00:00:00.123456789+02:00"):
        assert (
            ExternalPayloadReference.from_dict({**EXAMPLE, "expires_at": stamp}).expires_at == stamp
        )
    with_expiry = ExternalPayloadReference.from_dict(
        {**EXAMPLE, "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert with_expiry.to_dict()["expires_at"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schema": "durable-workflow.v2.external-payload-reference.v2"}, "schema"),
        ({"schema": None}, "schema"),
        ({"uri": ""}, "uri"),
        ({"uri": 5}, "uri"),
        ({"sha256": EXAMPLE_SHA[:63]}, "sha256"),
        ({"sha256": "z" * 64}, "sha256"),
        ({"size_bytes": -1}, "size_bytes"),
        ({"size_bytes": "36"}, "size_bytes"),
        ({"size_bytes": True}, "size_bytes"),
        ({"size_bytes": 36.0}, "size_bytes"),
        ({"codec": ""}, "codec"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": "2030-01-01"}, "expires_at"),
        ({"expires_at": "2030-02-30T00:00:00Z"}, "expires_at"),
        ({"expires_at": 1893456000}, "expires_at"),
    ],
)
def test_bad_reference_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ExternalPayloadReferenceError) as caught:
        ExternalPayloadReference.from_dict({**EXAMPLE, **change})
    assert caught.value.field == field
    assert field in str(caught.value)
    assert isinstance(caught.value, ValueError)  # upstream raised ValueError


def test_missing_fields_and_non_objects_are_named() -> None:
    for field in ("schema", "uri", "sha256", "size_bytes", "codec"):
        data = {k: v for k, v in EXAMPLE.items() if k != field}
        with pytest.raises(ExternalPayloadReferenceError) as caught:
            ExternalPayloadReference.from_dict(data)
        assert caught.value.field == field
    with pytest.raises(ExternalPayloadReferenceError) as caught:
        ExternalPayloadReference.from_dict(["not", "an", "object"])
    assert caught.value.field == "external_storage"


def test_upper_case_sha256_is_accepted_and_verified(local: LocalFilesystemExternalStorage) -> None:
    reference = store_external_payload(local, EXAMPLE_BLOB.encode(), codec="avro")
    upper = ExternalPayloadReference.from_dict(
        {**reference.to_dict(), "sha256": EXAMPLE_SHA.upper()}
    )
    assert fetch_external_payload(local, upper) == EXAMPLE_BLOB.encode()


# --- local driver ------------------------------------------------------------------------


def test_local_put_get_delete_with_the_protocol_key_layout(
    local: LocalFilesystemExternalStorage,
) -> None:
    reference = store_external_payload(local, EXAMPLE_BLOB.encode(), codec="avro")
    assert reference.sha256 == EXAMPLE_SHA and reference.size_bytes == 36
    path = local.root / "avro" / "1c" / EXAMPLE_SHA
    assert reference.uri == path.as_uri()
    assert path.read_bytes() == EXAMPLE_BLOB.encode()
    assert fetch_external_payload(local, reference) == EXAMPLE_BLOB.encode()
    delete_external_payload(local, reference)
    assert not path.exists()
    with pytest.raises(ExternalPayloadNotFoundError):
        fetch_external_payload(local, reference)
    local.delete(reference.uri)  # deleting a missing object is not an error


def test_local_reads_the_server_percent_encoded_spelling(tmp_path: Path) -> None:
    driver = LocalFilesystemExternalStorage(tmp_path / "with space+é")
    reference = store_external_payload(driver, b"blob", codec="json")
    path = Path(driver.path_for(reference.uri))
    # The server percent-encodes each segment (any hex case) and may name the host.
    server_uri = "file://localhost" + "/".join(
        quote(part, safe="") for part in str(path).split("/")
    )
    server_uri = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), server_uri)
    assert server_uri != reference.uri
    assert driver.get(server_uri) == b"blob"


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "s3://bucket/avro/aa/" + "a" * 64,
        "file://otherhost/tmp/x",
    ],
)
def test_local_refuses_uris_outside_its_root(
    local: LocalFilesystemExternalStorage, uri: str
) -> None:
    with pytest.raises(ExternalStorageLocationError):
        local.get(uri)


def test_local_refuses_dot_dot_even_when_it_lands_inside(
    local: LocalFilesystemExternalStorage,
) -> None:
    reference = store_external_payload(local, b"x", codec="avro")
    sneaky = reference.uri.replace("/avro/", "/avro/../avro/")
    with pytest.raises(ExternalStorageLocationError, match=r"'\.\.'"):
        local.get(sneaky)
    escaped = local.root.as_uri() + "/../outside"
    with pytest.raises(ExternalStorageLocationError):
        local.get(escaped)
    with pytest.raises(ExternalStorageLocationError):
        local.delete(escaped)


def test_codec_segment_cannot_escape_the_layout(local: LocalFilesystemExternalStorage) -> None:
    for codec in ("../x", "a/b", "..", "", "é"):
        with pytest.raises(ExternalPayloadReferenceError) as caught:
            store_external_payload(local, b"x", codec=codec)
        assert caught.value.field == "codec"


# --- integrity ---------------------------------------------------------------------------


def test_tampered_object_fails_integrity_not_silently(
    local: LocalFilesystemExternalStorage,
) -> None:
    reference = store_external_payload(local, b"original-bytes", codec="avro")
    path = local.path_for(reference.uri)
    path.write_bytes(b"tampered-bytes")  # same length, different hash
    with pytest.raises(ExternalPayloadIntegrityError, match="sha256") as wrong_hash:
        fetch_external_payload(local, reference)
    assert wrong_hash.value.field == "sha256"
    path.write_bytes(b"short")
    with pytest.raises(ExternalPayloadIntegrityError, match="5 bytes") as wrong_size:
        fetch_external_payload(local, reference)
    assert wrong_size.value.field == "size_bytes"


def test_a_failed_fetch_is_not_cached(local: LocalFilesystemExternalStorage) -> None:
    cache = ExternalPayloadCache()
    reference = store_external_payload(local, b"original-bytes", codec="avro")
    local.path_for(reference.uri).write_bytes(b"tampered-bytes")
    with pytest.raises(ExternalPayloadIntegrityError):
        fetch_external_payload(local, reference, cache=cache)
    assert len(cache) == 0


# --- cache -------------------------------------------------------------------------------


def _ref(n: int, size: int = 1) -> ExternalPayloadReference:
    return ExternalPayloadReference(
        uri=f"mem://{n}", sha256=f"{n:064x}", size_bytes=size, codec="avro"
    )


def test_cache_hit_skips_the_second_fetch(local: LocalFilesystemExternalStorage) -> None:
    counting = CountingDriver(local)
    cache = ExternalPayloadCache()
    reference = store_external_payload(counting, b"payload", codec="avro")
    assert fetch_external_payload(counting, reference, cache=cache) == b"payload"
    assert fetch_external_payload(counting, reference, cache=cache) == b"payload"
    assert counting.gets == 1 and cache.hits == 1
    delete_external_payload(counting, reference, cache=cache)
    assert reference not in cache


def test_cache_evicts_least_recently_used_by_count() -> None:
    cache = ExternalPayloadCache(max_entries=2)
    cache.put(_ref(1), b"a")
    cache.put(_ref(2), b"b")
    assert cache.get(_ref(1)) == b"a"  # 1 is now the most recent
    cache.put(_ref(3), b"c")
    assert cache.get(_ref(2)) is None
    assert cache.get(_ref(1)) == b"a" and cache.get(_ref(3)) == b"c"
    assert len(cache) == 2


def test_cache_evicts_by_bytes_and_skips_oversize_values() -> None:
    cache = ExternalPayloadCache(max_entries=100, max_bytes=10)
    cache.put(_ref(1, 4), b"aaaa")
    cache.put(_ref(2, 4), b"bbbb")
    cache.put(_ref(3, 4), b"cccc")
    assert cache.current_bytes == 8 and cache.get(_ref(1, 4)) is None
    cache.put(_ref(4, 11), b"x" * 11)
    assert cache.get(_ref(4, 11)) is None and cache.current_bytes == 8
    cache.put(_ref(2, 4), b"BBBB")  # replacing does not double-count
    assert cache.current_bytes == 8
    cache.discard(_ref(2, 4))
    assert cache.current_bytes == 4
    cache.clear()
    assert len(cache) == 0 and cache.current_bytes == 0


def test_cache_key_includes_every_reference_field() -> None:
    cache = ExternalPayloadCache()
    cache.put(_ref(1), b"a")
    other_codec = ExternalPayloadReference(
        uri="mem://1", sha256=f"{1:064x}", size_bytes=1, codec="json"
    )
    assert cache.get(other_codec) is None


def test_cache_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        ExternalPayloadCache(max_entries=0)
    with pytest.raises(ValueError):
        ExternalPayloadCache(max_bytes=0)
    defaults = ExternalPayloadCache()
    assert (defaults.max_entries, defaults.max_bytes) == (128, 16 * 1024 * 1024)


# --- object URIs of the cloud drivers (clients are not touched for refusals) -----------


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"client.{name} must not be called for a refused URI")


SHA = "ab" * 32


@pytest.mark.parametrize(
    ("driver", "good", "bad"),
    [
        (
            S3ExternalStorage(_Unused(), bucket="dw-bucket", prefix="/p/q/"),
            f"s3://dw-bucket/p/q/avro/ab/{SHA}",
            [
                f"s3://other-bucket/p/q/avro/ab/{SHA}",
                f"gs://dw-bucket/p/q/avro/ab/{SHA}",
                f"s3://dw-bucket/avro/ab/{SHA}",
                f"s3://dw-bucket/p/q/../../avro/ab/{SHA}",
                f"s3://dw-bucket/p/q//avro/ab/{SHA}",
                f"s3://dw-bucket/p/q/avro/ab/{SHA}?versionId=1",
            ],
        ),
        (
            GCSExternalStorage(_Unused(), bucket="dw-bucket"),
            f"gcs://dw-bucket/avro/ab/{SHA}",
            [f"gcs://nope/avro/ab/{SHA}", f"s3://dw-bucket/avro/ab/{SHA}", "gcs://dw-bucket/../x"],
        ),
        (
            AzureBlobExternalStorage(_Unused(), container="dw-container"),
            f"azure://dw-container/avro/ab/{SHA}",
            [f"azure://other/avro/ab/{SHA}", f"azure-blob://dw-container/./avro/ab/{SHA}"],
        ),
    ],
)
def test_cloud_drivers_refuse_foreign_uris(driver: Any, good: str, bad: list[str]) -> None:
    assert driver._key(good)  # accepted
    for uri in bad:
        with pytest.raises(ExternalStorageLocationError):
            driver.get(uri)
        with pytest.raises(ExternalStorageLocationError):
            driver.delete(uri)


def test_gcs_and_azure_read_both_spellings_and_write_the_server_one() -> None:
    gcs = GCSExternalStorage(_Unused(), bucket="b1")
    assert gcs._key(f"gs://b1/avro/ab/{SHA}") == gcs._key(f"gcs://b1/avro/ab/{SHA}")
    azure = AzureBlobExternalStorage(_Unused(), container="c1")
    assert azure._key(f"azure-blob://c1/avro/ab/{SHA}") == azure._key(f"azure://c1/avro/ab/{SHA}")
    assert (GCSExternalStorage.SCHEME, AzureBlobExternalStorage.SCHEME) == ("gcs", "azure")


@pytest.mark.parametrize("prefix", ["a/../b", "a/./b", "a//b", "with space", "q?x"])
def test_unsafe_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ExternalStorageLocationError):
        S3ExternalStorage(_Unused(), bucket="b", prefix=prefix)


def test_empty_bucket_is_refused() -> None:
    with pytest.raises(ExternalStorageLocationError):
        S3ExternalStorage(_Unused(), bucket="")
    with pytest.raises(ExternalStorageLocationError):
        AzureBlobExternalStorage(_Unused(), container="")


# --- optional SDKs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "extra", "build"),
    [
        ("boto3", "s3", lambda: S3ExternalStorage.create("bucket")),
        ("google.cloud.storage", "gcs", lambda: GCSExternalStorage.create("bucket")),
        (
            "azure.storage.blob",
            "azure",
            lambda: AzureBlobExternalStorage.from_connection_string("x", container="c"),
        ),
    ],
)
def test_missing_cloud_sdk_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, extra: str, build: Any
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(MissingOptionalDependency, match=rf"durable-workflow\[{extra}\]"):
        build()


def test_importing_the_package_does_not_import_cloud_sdks() -> None:
    import subprocess

    code = (
        "import sys, durable_workflow.external_storage\n"
        "bad = [m for m in ('boto3', 'botocore', 'google.cloud.storage', 'azure.storage.blob')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- policies ---------------------------------------------------------------------------


def test_policy_from_a_namespace_object_and_bare() -> None:
    namespace = {
        "name": "billing",
        "external_payload_storage": {
            "driver": "s3",
            "enabled": True,
            "threshold_bytes": 1024,
            "config": {"bucket": "dw", "prefix": "billing"},
        },
    }
    policy = ExternalPayloadStoragePolicy.from_dict(namespace)
    assert (policy.enabled, policy.driver, policy.threshold_bytes) == (True, "s3", 1024)
    assert policy.prefix == "billing" and policy.integrity_required is True
    assert policy.to_dict() == namespace["external_payload_storage"]
    assert ExternalPayloadStoragePolicy.from_dict({"driver": "local"}).enabled is True
    assert (
        ExternalPayloadStoragePolicy.from_dict(
            {"name": "x", "external_payload_storage": None}
        ).enabled
        is False
    )
    assert ExternalPayloadStoragePolicy.from_dict({}).enabled is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"driver": "s3", "enabled": "yes"}, "enabled"),
        ({"driver": "s3", "threshold_bytes": 0}, "threshold_bytes"),
        ({"driver": 3}, "driver"),
        ({"driver": "s3", "config": []}, "config"),
        ({"external_payload_storage": "s3"}, "external_payload_storage"),
    ],
)
def test_bad_policy_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ExternalStoragePolicyError) as caught:
        ExternalPayloadStoragePolicy.from_dict(data)
    assert caught.value.field == field


def test_driver_from_policy_local(tmp_path: Path) -> None:
    root = tmp_path / "by-uri"
    by_uri = external_storage_driver_from_policy(
        {"driver": "local", "config": {"uri": root.as_uri()}}
    )
    assert isinstance(by_uri, LocalFilesystemExternalStorage) and by_uri.root == root.resolve()
    fallback = external_storage_driver_from_policy({"driver": "local"}, local_root=tmp_path / "lr")
    assert isinstance(fallback, LocalFilesystemExternalStorage)
    assert fallback.root == (tmp_path / "lr").resolve()


def test_driver_from_policy_cloud_with_application_clients() -> None:
    client = object()
    s3 = external_storage_driver_from_policy(
        {"driver": "s3", "config": {"bucket": "b", "prefix": "p"}}, s3_client=client
    )
    assert isinstance(s3, S3ExternalStorage) and (s3.client, s3.bucket, s3.prefix) == (
        client,
        "b",
        "p",
    )
    gcs = external_storage_driver_from_policy(
        {"driver": "gcs", "config": {"bucket": "g"}}, gcs_client=client
    )
    assert isinstance(gcs, GCSExternalStorage) and gcs.bucket == "g"
    for name in ("azure", "azure-blob"):
        azure = external_storage_driver_from_policy(
            {"driver": name, "config": {"bucket": "c"}}, azure_container_client=client
        )
        assert isinstance(azure, AzureBlobExternalStorage) and azure.container == "c"


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"driver": "s3", "enabled": False, "config": {"bucket": "b"}}, "enabled"),
        ({"enabled": True}, "driver"),
        ({"driver": "ftp"}, "driver"),
        ({"driver": "s3"}, "config.bucket"),
        ({"driver": "s3", "config": {"bucket": "b"}}, "s3_client"),
        ({"driver": "gcs", "config": {"bucket": "b"}}, "gcs_client"),
        ({"driver": "azure", "config": {"bucket": "b"}}, "azure_container_client"),
        ({"driver": "local"}, "config.uri"),
        ({"driver": "local", "config": {"uri": "s3://x/y"}}, "config.uri"),
    ],
)
def test_driver_from_policy_failures_name_the_field(policy: dict[str, Any], field: str) -> None:
    with pytest.raises(ExternalStoragePolicyError) as caught:
        external_storage_driver_from_policy(policy)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


# --- envelopes ---------------------------------------------------------------------------


def test_offload_only_strictly_above_the_threshold(local: LocalFilesystemExternalStorage) -> None:
    blob = serializer.encode("hello Ada")
    size = len(blob.encode())
    at = envelope_for_blob(blob, codec="avro", external_storage=local, threshold_bytes=size)
    assert at == {"codec": "avro", "blob": blob}
    above = envelope_for_blob(blob, codec="avro", external_storage=local, threshold_bytes=size - 1)
    assert set(above) == {"codec", "external_storage"}
    assert above["external_storage"]["size_bytes"] == size
    assert envelope_for_blob(blob, codec="avro", threshold_bytes=1) == {
        "codec": "avro",
        "blob": blob,
    }
    with pytest.raises(ValueError):
        envelope_for_blob(blob, codec="avro", external_storage=local, threshold_bytes=0)


def test_external_storage_envelope_round_trip(local: LocalFilesystemExternalStorage) -> None:
    cache = ExternalPayloadCache()
    small, large = external_storage_envelope_many(
        ["tiny", "x" * 500], external_storage=local, threshold_bytes=100
    )
    assert set(small) == {"codec", "blob"} and set(large) == {"codec", "external_storage"}
    assert decode_payload(small) == "tiny"
    assert decode_payload(large, external_storage=local, external_storage_cache=cache) == "x" * 500
    assert len(cache) == 1
    as_json = external_storage_envelope(
        {"k": [1, 2]}, external_storage=local, threshold_bytes=1, codec="json"
    )
    assert as_json["external_storage"]["codec"] == "json"
    assert decode_payload(as_json, external_storage=local) == {"k": [1, 2]}


def test_external_envelope_with_mismatching_codec_names_codec(
    local: LocalFilesystemExternalStorage,
) -> None:
    envelope = external_storage_envelope("v" * 50, external_storage=local, threshold_bytes=1)
    wrong = {"codec": "json", "external_storage": envelope["external_storage"]}
    with pytest.raises(ExternalPayloadReferenceError) as caught:
        resolve_external_envelope(wrong, local)
    assert caught.value.field == "codec"


def test_external_envelope_without_a_driver_names_external_storage(
    local: LocalFilesystemExternalStorage,
) -> None:
    envelope = external_storage_envelope("v" * 50, external_storage=local, threshold_bytes=1)
    with pytest.raises(ExternalPayloadReferenceError) as caught:
        decode_payload(envelope)
    assert caught.value.field == "external_storage"


def test_decode_payload_handles_bare_and_legacy_blobs() -> None:
    assert decode_payload("AAhudWxsAg==") is None
    assert decode_payload('"hello Ada"', default_codec=None) == "hello Ada"
    assert decode_payload('"x"', "json") == "x"
    assert decode_payload(None) is None
    with pytest.raises(TypeError):
        decode_payload(42)
