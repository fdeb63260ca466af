"""S3 driver over an application-owned boto3-compatible client."""

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

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    error = response.get("Error") or {}
    return str(error.get("Code", "")) in _NOT_FOUND_CODES


class S3ExternalStorage:
    """``s3://<bucket>/<key>`` objects through ``put_object``/``get_object``/``delete_object``.

    The client is passed in (the SDK does not need boto3); :meth:`create`
    builds one when the ``s3`` extra is installed.
    """

    SCHEME = "s3"

    def __init__(self, client: Any, *, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ExternalStorageLocationError("s3 external storage needs a non-empty bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)

    @classmethod
    def create(
        cls,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        **client_kwargs: Any,
    ) -> S3ExternalStorage:
        """A driver with a fresh ``boto3`` client (credentials from the usual AWS chain)."""
        boto3 = require("boto3", "s3")
        if endpoint_url is not None:
            client_kwargs["endpoint_url"] = endpoint_url
        if region_name is not None:
            client_kwargs["region_name"] = region_name
        return cls(boto3.client("s3", **client_kwargs), bucket=bucket, prefix=prefix)

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        key = object_key(self.prefix, sha256=sha256, codec=codec)
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="application/octet-stream",
            Metadata={"sha256": sha256.lower(), "codec": codec},
        )
        return object_uri(self.SCHEME, self.bucket, key)

    def _key(self, uri: str) -> str:
        return parse_object_uri(uri, schemes=(self.SCHEME,), bucket=self.bucket, prefix=self.prefix)

    def get(self, uri: str) -> bytes:
        key = self._key(uri)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _is_not_found(exc):
                raise ExternalPayloadNotFoundError(uri) from exc
            raise
        body = response["Body"]
        data = body.read() if hasattr(body, "read") else body
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"s3 client returned {type(data).__name__} instead of bytes")
        return bytes(data)

    def delete(self, uri: str) -> None:
        key = self._key(uri)
        self.client.delete_object(Bucket=self.bucket, Key=key)
