"""Azure Blob driver over an application-owned azure-storage-blob container client."""

from __future__ import annotations

from typing import Any

from durable_workflow.external_storage._errors import (
    ExternalPayloadNotFoundError,
    ExternalStorageLocationError,
)
from durable_workflow.external_storage._keys import (
    normalize_prefix,
    object_key,
    object_uri,
    parse_object_uri,
)
from durable_workflow.external_storage._optional import require


def _is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "status_code", None) == 404 or type(exc).__name__ == (
        "ResourceNotFoundError"
    )


class AzureBlobExternalStorage:
    """Blobs in one container through ``upload_blob``/``download_blob``/``delete_blob``.

    Writes ``azure://<container>/<key>``, the spelling the server's Azure
    driver resolves; reads that and upstream SDK's ``azure-blob://``
    (payloads.md §5.4).
    """

    SCHEME = "azure"
    READ_SCHEMES = ("azure", "azure-blob")

    def __init__(self, container_client: Any, *, container: str, prefix: str = "") -> None:
        if not container:
            raise ExternalStorageLocationError("azure external storage needs a non-empty container")
        self.container_client = container_client
        self.container = container
        self.prefix = normalize_prefix(prefix)

    @classmethod
    def from_connection_string(
        cls, connection_string: str, *, container: str, prefix: str = "", **client_kwargs: Any
    ) -> AzureBlobExternalStorage:
        """A driver with a fresh ``ContainerClient`` (needs the ``azure`` extra)."""
        blob = require("azure.storage.blob", "azure")
        client = blob.ContainerClient.from_connection_string(
            connection_string, container_name=container, **client_kwargs
        )
        return cls(client, container=container, prefix=prefix)

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        key = object_key(self.prefix, sha256=sha256, codec=codec)
        self.container_client.upload_blob(
            name=key,
            data=data,
            overwrite=True,
            metadata={"sha256": sha256.lower(), "codec": codec},
        )
        return object_uri(self.SCHEME, self.container, key)

    def _key(self, uri: str) -> str:
        return parse_object_uri(
            uri, schemes=self.READ_SCHEMES, bucket=self.container, prefix=self.prefix
        )

    def get(self, uri: str) -> bytes:
        key = self._key(uri)
        try:
            data = self.container_client.download_blob(key).readall()
        except Exception as exc:
            if _is_not_found(exc):
                raise ExternalPayloadNotFoundError(uri) from exc
            raise
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"azure client returned {type(data).__name__} instead of bytes")
        return bytes(data)

    def delete(self, uri: str) -> None:
        key = self._key(uri)
        try:
            self.container_client.delete_blob(key)
        except Exception as exc:
            if not _is_not_found(exc):
                raise
