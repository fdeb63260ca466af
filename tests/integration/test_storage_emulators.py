"""Each cloud storage driver against a real server of its protocol, started here.

S3: moto's standalone server; GCS: gcp-storage-emulator; Azure Blob: Azurite
(installed from npm into a cache outside the repo on first use). Each emulator
is a child process on 127.0.0.1, started once per session; a test skips, with
the reason, only when its emulator cannot be started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import serializer
from durable_workflow.codecs import AesGcmCodec, CodecChain, GzipCodec
from durable_workflow.external_storage import (
    AzureBlobExternalStorage,
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadNotFoundError,
    ExternalStorageDriver,
    ExternalStorageLocationError,
    GCSExternalStorage,
    S3ExternalStorage,
    decode_payload,
    delete_external_payload,
    envelope_for_blob,
    external_storage_driver_from_policy,
    fetch_external_payload,
    store_external_payload,
)

AZURITE_VERSION = "3.35.0"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's fixed, publicly documented development key (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CACHE_DIR = Path(
    os.environ.get("DURABLE_WORKFLOW_TEST_CACHE", Path.home() / ".cache" / "durable-workflow-test")
)
BUCKET, OTHER_BUCKET = "dw-payloads", "dw-other"
# The first run installs Azurite from npm inside a fixture; allow for a slow registry.
pytestmark = pytest.mark.timeout(900)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(name: str, argv: list[str], port: int, *, startup: float = 60.0) -> Iterator[str]:
    """Run an emulator until the session ends; skip when it never listens."""
    with tempfile.TemporaryDirectory(prefix=f"dw-{name.split()[0]}-") as tmp:
        log_path = Path(tmp) / "emulator.log"
        with log_path.open("wb") as log:
            try:
                proc = subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            except OSError as exc:
                pytest.skip(f"{name} emulator cannot start: {exc}")
            try:
                _wait_listening(name, proc, port, startup, log_path)
                yield f"http://127.0.0.1:{port}"
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def _wait_listening(
    name: str, proc: subprocess.Popen[bytes], port: int, startup: float, log: Path
) -> None:
    deadline = time.monotonic() + startup
    while True:
        if proc.poll() is not None:
            pytest.skip(f"{name} emulator exited ({proc.returncode}): {_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            pytest.skip(f"{name} emulator did not listen within {startup:.0f}s: {_tail(log)}")
        time.sleep(0.1)


def _tail(path: Path) -> str:
    text = path.read_text(errors="replace")[-600:]
    return text.strip() or "(no output)"


def _require_module(module: str, install: str) -> None:
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"{module} is not installed ({install}); pip install -e '.[dev]'")


@dataclass
class Backend:
    """One emulator plus what the shared tests need to drive it."""

    name: str
    url: str
    driver: Callable[..., ExternalStorageDriver]  # (bucket=..., prefix=...) -> driver
    overwrite: Callable[[str, bytes], None]  # (key, data): bypass the driver, as an attacker would
    upstream_scheme: str  # the other URI spelling this driver must also read


@pytest.fixture(scope="session")
def s3_backend() -> Iterator[Backend]:
    _require_module("moto.server", "moto[server]")
    _require_module("boto3", "the s3 extra")
    import boto3

    port = _free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _serve("moto S3", argv, port) as url:
        client = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        for bucket in (BUCKET, OTHER_BUCKET):
            client.create_bucket(Bucket=bucket)

        def overwrite(key: str, data: bytes) -> None:
            client.put_object(Bucket=BUCKET, Key=key, Body=data)

        yield Backend(
            "s3",
            url,
            lambda bucket=BUCKET, prefix="": S3ExternalStorage(
                client, bucket=bucket, prefix=prefix
            ),
            overwrite,
            "s3",
        )


@pytest.fixture(scope="session")
def gcs_backend() -> Iterator[Backend]:
    _require_module("gcp_storage_emulator", "gcp-storage-emulator")
    _require_module("google.cloud.storage", "the gcs extra")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    port = _free_port()
    argv = [
        sys.executable, "-m", "gcp_storage_emulator", "start",
        "-H", "127.0.0.1", "--port", str(port), "--in-memory", "-q",
    ]  # fmt: skip
    with _serve("GCS", argv, port) as url:
        client = storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": url},
        )
        for bucket in (BUCKET, OTHER_BUCKET):
            client.create_bucket(bucket)

        def overwrite(key: str, data: bytes) -> None:
            client.bucket(BUCKET).blob(key).upload_from_string(data)

        yield Backend(
            "gcs",
            url,
            lambda bucket=BUCKET, prefix="": GCSExternalStorage(
                client, bucket=bucket, prefix=prefix
            ),
            overwrite,
            "gs",
        )


def _azurite_bin() -> Path:
    """Azurite's blob server from the npm cache, installing it there on first use."""
    root = CACHE_DIR / f"azurite-{AZURITE_VERSION}"
    binary = root / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return binary
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("Azurite needs node and npm on PATH to be installed from the npm registry")
    # Install beside the cache entry, then rename: a concurrent or interrupted
    # install never leaves a half-populated cache behind.
    staging = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
             "--loglevel=error", f"azurite@{AZURITE_VERSION}"],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        with contextlib.suppress(OSError):  # another run may have won the race
            staging.rename(root)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.skip(f"npm install azurite@{AZURITE_VERSION} failed: {str(detail)[-400:]}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not binary.exists():
        pytest.skip(f"npm installed azurite but {binary} is missing")
    return binary


def _azurite_connection_string(url: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={url}/{AZURITE_ACCOUNT};"
    )


@pytest.fixture(scope="session")
def azure_backend() -> Iterator[Backend]:
    _require_module("azure.storage.blob", "the azure extra")
    from azure.storage.blob import BlobServiceClient

    binary = _azurite_bin()
    port = _free_port()
    argv = [
        str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port),
        "--inMemoryPersistence", "--skipApiVersionCheck", "--silent",
    ]  # fmt: skip
    with _serve("Azurite", argv, port) as url:
        service = BlobServiceClient.from_connection_string(_azurite_connection_string(url))
        containers = {name: service.create_container(name) for name in (BUCKET, OTHER_BUCKET)}

        def overwrite(key: str, data: bytes) -> None:
            containers[BUCKET].upload_blob(name=key, data=data, overwrite=True)

        yield Backend(
            "azure",
            url,
            lambda bucket=BUCKET, prefix="": AzureBlobExternalStorage(
                containers[bucket], container=bucket, prefix=prefix
            ),
            overwrite,
            "azure-blob",
        )


@pytest.fixture(params=["s3", "gcs", "azure"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


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
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _azurite_connection_string(url))
    driver = external_storage_driver_from_policy(
        {"driver": backend.name, "enabled": True, "config": config}, default_clients=True
    )
    reference = store_external_payload(driver, b"via policy", codec="avro")
    assert _key_of(reference.uri).startswith("from-policy/avro/")
    assert backend.driver(prefix="from-policy").get(reference.uri) == b"via policy"
