"""Google Cloud Storage driver over an application-owned google-cloud-storage client."""

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
    return getattr(exc, "code", None) == 404 or type(exc).__name__ == "NotFound"


class GCSExternalStorage:
    """GCS objects through ``client.bucket(name).blob(key)``.

    Writes ``gcs://<bucket>/<key>``, the spelling the server's GCS driver
    resolves; reads that and upstream SDK's ``gs://`` (payloads.md §5.4).
    """

    SCHEME = "gcs"
    READ_SCHEMES = ("gcs", "gs")

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ExternalStorageLocationError("gcs external storage needs a non-empty bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)

    @classmethod
    def create(
        cls,
        bucket: str,
        *,
        prefix: str = "",
        project: str | None = None,
        endpoint: str | None = None,
        **client_kwargs: Any,
    ) -> GCSExternalStorage:
        """A driver with a fresh ``google.cloud.storage.Client``.

        Credentials come from Application Default Credentials, or anonymous when
        ``STORAGE_EMULATOR_HOST`` points at an emulator (the library's own rule).
        """
        storage = require("google.cloud.storage", "gcs")
        if endpoint is not None:
            client_kwargs["client_options"] = {"api_endpoint": endpoint}
        if project is not None:
            client_kwargs["project"] = project
        return cls(storage.Client(**client_kwargs), bucket=bucket, prefix=prefix)

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        key = object_key(self.prefix, sha256=sha256, codec=codec)
        blob = self.client.bucket(self.bucket).blob(key)
        blob.metadata = {"sha256": sha256.lower(), "codec": codec}
        blob.upload_from_string(data, content_type="application/octet-stream")
        return object_uri(self.SCHEME, self.bucket, key)

    def _key(self, uri: str) -> str:
        return parse_object_uri(
            uri, schemes=self.READ_SCHEMES, bucket=self.bucket, prefix=self.prefix
        )

    def get(self, uri: str) -> bytes:
        key = self._key(uri)
        try:
            data = self.client.bucket(self.bucket).blob(key).download_as_bytes()
        except Exception as exc:
            if _is_not_found(exc):
                raise ExternalPayloadNotFoundError(uri) from exc
            raise
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"gcs client returned {type(data).__name__} instead of bytes")
        return bytes(data)

    def delete(self, uri: str) -> None:
        key = self._key(uri)
        try:
            self.client.bucket(self.bucket).blob(key).delete()
        except Exception as exc:
            if not _is_not_found(exc):
                raise
