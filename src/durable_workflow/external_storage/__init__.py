"""External payload storage: offload large blobs and reference them by URI and hash.

Drop-in for upstream's ``durable_workflow.external_storage`` (sdk-surface.md
§15, payloads.md §5) plus typed errors that name the offending field, the
server's GCS/Azure URI spellings (written, and read alongside upstream's), and
the one-call envelope helpers the Client, Worker, Replayer and dev server use.
Cloud SDKs are never imported unless a convenience constructor needs them.
"""

from __future__ import annotations

from durable_workflow.external_storage._azure import AzureBlobExternalStorage
from durable_workflow.external_storage._cache import ExternalPayloadCache
from durable_workflow.external_storage._driver import ExternalStorageDriver
from durable_workflow.external_storage._envelopes import (
    decode_payload,
    envelope_for_blob,
    external_storage_envelope,
    external_storage_envelope_many,
    is_external_envelope,
    open_envelope,
    resolve_external_envelope,
)
from durable_workflow.external_storage._errors import (
    ExternalPayloadIntegrityError,
    ExternalPayloadNotFoundError,
    ExternalPayloadReferenceError,
    ExternalStorageError,
    ExternalStorageLocationError,
    ExternalStoragePolicyError,
    MissingOptionalDependency,
)
from durable_workflow.external_storage._gcs import GCSExternalStorage
from durable_workflow.external_storage._local import LocalFilesystemExternalStorage
from durable_workflow.external_storage._payloads import (
    delete_external_payload,
    fetch_external_payload,
    store_external_payload,
)
from durable_workflow.external_storage._policy import (
    ExternalPayloadStoragePolicy,
    external_storage_driver_from_policy,
)
from durable_workflow.external_storage._reference import (
    EXTERNAL_PAYLOAD_REFERENCE_SCHEMA,
    ExternalPayloadReference,
)
from durable_workflow.external_storage._s3 import S3ExternalStorage

__all__ = [
    "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
    "AzureBlobExternalStorage",
    "ExternalPayloadCache",
    "ExternalPayloadIntegrityError",
    "ExternalPayloadNotFoundError",
    "ExternalPayloadReference",
    "ExternalPayloadReferenceError",
    "ExternalPayloadStoragePolicy",
    "ExternalStorageDriver",
    "ExternalStorageError",
    "ExternalStorageLocationError",
    "ExternalStoragePolicyError",
    "GCSExternalStorage",
    "LocalFilesystemExternalStorage",
    "MissingOptionalDependency",
    "S3ExternalStorage",
    "decode_payload",
    "delete_external_payload",
    "envelope_for_blob",
    "external_storage_driver_from_policy",
    "external_storage_envelope",
    "external_storage_envelope_many",
    "fetch_external_payload",
    "is_external_envelope",
    "open_envelope",
    "resolve_external_envelope",
    "store_external_payload",
]
