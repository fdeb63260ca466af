"""Storage emulators shared by the integration tests: S3 (moto), GCS, Azure Blob (Azurite).

Each emulator is a child process on 127.0.0.1, started once per session; a test
using one skips, with the reason, only when its emulator cannot be started.
The fixtures are registered for every integration test by ``conftest.py``.
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

import pytest

from durable_workflow.external_storage import (
    AzureBlobExternalStorage,
    ExternalStorageDriver,
    GCSExternalStorage,
    S3ExternalStorage,
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


def azurite_connection_string(url: str) -> str:
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
        service = BlobServiceClient.from_connection_string(azurite_connection_string(url))
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


@pytest.fixture
def s3_env(s3_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """moto's S3 reachable through the standard AWS environment (``AWS_ENDPOINT_URL`` and
    credentials), as a dev server in this process builds its boto3 client from it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_backend.url)
    return s3_backend
