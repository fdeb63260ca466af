"""Namespace storage policies (payloads.md §5.5) and building a driver from one."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from durable_workflow.external_storage._azure import AzureBlobExternalStorage
from durable_workflow.external_storage._driver import ExternalStorageDriver
from durable_workflow.external_storage._errors import ExternalStoragePolicyError
from durable_workflow.external_storage._gcs import GCSExternalStorage
from durable_workflow.external_storage._local import LocalFilesystemExternalStorage
from durable_workflow.external_storage._s3 import S3ExternalStorage

DRIVER_NAMES = ("local", "s3", "gcs", "azure", "azure-blob")
AZURE_CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"


def _optional_str(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExternalStoragePolicyError(field, f"must be a string, got {type(value).__name__}")
    return value


@dataclasses.dataclass(frozen=True)
class ExternalPayloadStoragePolicy:
    """A namespace's ``external_payload_storage`` as the control plane reports it."""

    enabled: bool
    driver: str | None = None
    threshold_bytes: int | None = None
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    reference: Any = None
    prefix: str = ""
    mode: str | None = None
    status: str | None = None
    integrity_required: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ExternalPayloadStoragePolicy:
        """Read a policy, or a namespace object carrying one under ``external_payload_storage``.

        ``None`` (a namespace without a policy) is a disabled policy.
        """
        if isinstance(data, Mapping) and "external_payload_storage" in data:
            data = data["external_payload_storage"]
        if data is None:
            return cls(enabled=False)
        if not isinstance(data, Mapping):
            raise ExternalStoragePolicyError(
                "external_payload_storage", f"must be an object, got {type(data).__name__}"
            )
        driver = _optional_str(data, "driver")
        enabled = data.get("enabled", driver is not None)
        if not isinstance(enabled, bool):
            raise ExternalStoragePolicyError("enabled", "must be a boolean")
        threshold = data.get("threshold_bytes")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1
        ):
            raise ExternalStoragePolicyError("threshold_bytes", "must be an integer >= 1")
        config = data.get("config")
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise ExternalStoragePolicyError("config", "must be an object")
        prefix = _optional_str(data, "prefix") or _optional_str(config, "prefix") or ""
        integrity = data.get("integrity_required", True)
        if not isinstance(integrity, bool):
            raise ExternalStoragePolicyError("integrity_required", "must be a boolean")
        return cls(
            enabled=enabled,
            driver=driver,
            threshold_bytes=threshold,
            config=dict(config),
            reference=data.get("reference"),
            prefix=prefix,
            mode=_optional_str(data, "mode"),
            status=_optional_str(data, "status"),
            integrity_required=integrity,
        )

    def to_dict(self) -> dict[str, Any]:
        """The server's stored shape: ``{driver, enabled, threshold_bytes?, config?}``."""
        data: dict[str, Any] = {"driver": self.driver, "enabled": self.enabled}
        if self.threshold_bytes is not None:
            data["threshold_bytes"] = self.threshold_bytes
        config = {k: v for k, v in self.config.items() if v not in (None, "")}
        if self.prefix and "prefix" not in config:
            config["prefix"] = self.prefix
        if config:
            data["config"] = config
        return data


def _local_root(config: Mapping[str, Any], local_root: str | os.PathLike[str] | None) -> Path:
    uri = config.get("uri")
    if isinstance(uri, str) and uri:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if not parts.scheme:
            return Path(uri)
        raise ExternalStoragePolicyError("config.uri", f"local driver needs a file:// URI: {uri!r}")
    if local_root is not None:
        return Path(local_root)
    raise ExternalStoragePolicyError(
        "config.uri", "local driver needs config.uri (a file:// URI or path) or local_root="
    )


def _bucket(config: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = config.get(name)
        if isinstance(value, str) and value:
            return value
    raise ExternalStoragePolicyError(f"config.{names[0]}", "is required for this driver")


def external_storage_driver_from_policy(
    policy: ExternalPayloadStoragePolicy | Mapping[str, Any],
    *,
    s3_client: Any = None,
    gcs_client: Any = None,
    azure_container_client: Any = None,
    local_root: str | os.PathLike[str] | None = None,
    default_clients: bool = False,
) -> ExternalStorageDriver:
    """Build the SDK driver matching a namespace policy.

    Cloud clients stay application-owned: pass the matching one. With
    ``default_clients=True`` a missing client is created from the environment
    instead (boto3's credential chain with ``config.endpoint``/``config.region``;
    google-cloud-storage's defaults, honouring ``STORAGE_EMULATOR_HOST``; Azure's
    ``AZURE_STORAGE_CONNECTION_STRING``), which needs the matching extra.
    """
    if not isinstance(policy, ExternalPayloadStoragePolicy):
        policy = ExternalPayloadStoragePolicy.from_dict(policy)
    if not policy.enabled:
        raise ExternalStoragePolicyError("enabled", "external payload storage is disabled")
    driver = policy.driver
    if driver is None:
        raise ExternalStoragePolicyError("driver", "no storage driver is configured")
    config = policy.config
    prefix = policy.prefix
    endpoint = config.get("endpoint") or None
    if driver == "local":
        return LocalFilesystemExternalStorage(_local_root(config, local_root))
    if driver == "s3":
        bucket = _bucket(config, "bucket")
        if s3_client is not None:
            return S3ExternalStorage(s3_client, bucket=bucket, prefix=prefix)
        if default_clients:
            return S3ExternalStorage.create(
                bucket, prefix=prefix, endpoint_url=endpoint, region_name=config.get("region")
            )
        raise ExternalStoragePolicyError("s3_client", "the s3 driver needs s3_client=")
    if driver == "gcs":
        bucket = _bucket(config, "bucket")
        if gcs_client is not None:
            return GCSExternalStorage(gcs_client, bucket=bucket, prefix=prefix)
        if default_clients:
            return GCSExternalStorage.create(bucket, prefix=prefix, endpoint=endpoint)
        raise ExternalStoragePolicyError("gcs_client", "the gcs driver needs gcs_client=")
    if driver in ("azure", "azure-blob"):
        container = _bucket(config, "container", "bucket")
        if azure_container_client is not None:
            return AzureBlobExternalStorage(
                azure_container_client, container=container, prefix=prefix
            )
        connection = os.environ.get(AZURE_CONNECTION_STRING_ENV)
        if default_clients and connection:
            return AzureBlobExternalStorage.from_connection_string(
                connection, container=container, prefix=prefix
            )
        raise ExternalStoragePolicyError(
            "azure_container_client",
            "the azure driver needs azure_container_client= (or default_clients=True with "
            f"{AZURE_CONNECTION_STRING_ENV} set)",
        )
    raise ExternalStoragePolicyError(
        "driver", f"unknown driver {driver!r}; known: {', '.join(DRIVER_NAMES)}"
    )
