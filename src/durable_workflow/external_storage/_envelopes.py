"""Envelopes with offloading: the one-call paths for Client, Worker, Replayer and server.

Outgoing: value -> blob (serializer) -> payload codec chain -> inline
``{codec, blob}`` or, above the threshold, ``{codec, external_storage}``
(payloads.md §5.3). Incoming: envelope -> fetch and verify when external ->
undo the codec chain -> decode with the envelope's codec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from durable_workflow import serializer as _serializer
from durable_workflow.codecs import PayloadCodec, decode_blob, encode_blob
from durable_workflow.external_storage._cache import ExternalPayloadCache
from durable_workflow.external_storage._driver import ExternalStorageDriver
from durable_workflow.external_storage._errors import ExternalPayloadReferenceError
from durable_workflow.external_storage._payloads import (
    fetch_external_payload,
    store_external_payload,
)
from durable_workflow.external_storage._reference import ExternalPayloadReference

if TYPE_CHECKING:
    from durable_workflow.serializer import (
        PayloadSizeWarningConfig,
        PayloadWarningContext,
        PayloadWarningContexts,
    )


class _Default:
    """Marks "use the serializer's default size warning" without importing it at def time."""


_DEFAULT = _Default()


def check_threshold(threshold_bytes: int | None) -> None:
    """An offload threshold is ``None`` (off) or an int >= 1; anything else is refused."""
    if threshold_bytes is not None and (
        isinstance(threshold_bytes, bool) or not isinstance(threshold_bytes, int)
    ):
        raise TypeError("external_storage_threshold_bytes must be an int")
    if threshold_bytes is not None and threshold_bytes < 1:
        raise ValueError("external_storage_threshold_bytes must be >= 1")


def envelope_for_blob(
    blob: str,
    *,
    codec: str,
    external_storage: ExternalStorageDriver | None = None,
    threshold_bytes: int | None = None,
    payload_codec: PayloadCodec | None = None,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """Envelope an already-encoded blob: apply the codec chain, offload when above threshold.

    Offloading happens only when both a driver and a threshold are set and the
    (transformed) blob's UTF-8 size is strictly greater than the threshold.
    """
    check_threshold(threshold_bytes)
    blob = encode_blob(blob, payload_codec)
    if external_storage is None or threshold_bytes is None:
        return {"codec": codec, "blob": blob}
    # A character is at most 4 UTF-8 bytes: skip the encode for clearly small blobs.
    if len(blob) * 4 <= threshold_bytes:
        return {"codec": codec, "blob": blob}
    data = blob.encode("utf-8")
    if len(data) <= threshold_bytes:
        return {"codec": codec, "blob": blob}
    reference = store_external_payload(external_storage, data, codec=codec, expires_at=expires_at)
    return {"codec": codec, "external_storage": reference.to_dict()}


def external_storage_envelope(
    value: Any,
    *,
    external_storage: ExternalStorageDriver,
    threshold_bytes: int,
    codec: str = "avro",
    size_warning: PayloadSizeWarningConfig | _Default | None = _DEFAULT,
    warning_context: PayloadWarningContext = None,
    payload_codec: PayloadCodec | None = None,
    expires_at: str | None = None,
    framing: str = "wrapper",
) -> dict[str, Any]:
    """Encode ``value``; inline if the blob fits ``threshold_bytes``, else store and reference.

    The near-the-size-limit warning is logged only for a payload that stays
    inline: an offloaded one puts only its reference on the wire.
    """
    check_threshold(threshold_bytes)
    if threshold_bytes is None:
        raise ValueError("threshold_bytes is required")
    return payload_envelope(
        value,
        codec=codec,
        external_storage=external_storage,
        threshold_bytes=threshold_bytes,
        payload_codec=payload_codec,
        size_warning=size_warning,
        warning_context=warning_context,
        expires_at=expires_at,
        framing=framing,
    )


def payload_envelope(
    value: Any,
    *,
    codec: str = "avro",
    external_storage: ExternalStorageDriver | None = None,
    threshold_bytes: int | None = None,
    payload_codec: PayloadCodec | None = None,
    size_warning: PayloadSizeWarningConfig | _Default | None = _DEFAULT,
    warning_context: PayloadWarningContext = None,
    expires_at: str | None = None,
    framing: str = "wrapper",
) -> dict[str, Any]:
    """The one outgoing path of the Client, Worker and commands: encode, codec chain, offload.

    Storage and chain are both optional; with neither the envelope equals
    ``serializer.envelope(value, codec, framing=framing)`` byte for byte. The size
    warning is measured on the blob that goes on the wire (inline only).
    """
    warning = (
        _serializer.DEFAULT_PAYLOAD_SIZE_WARNING
        if isinstance(size_warning, _Default)
        else size_warning
    )
    blob = _serializer.encode(value, codec, size_warning=None, framing=framing)
    envelope = envelope_for_blob(
        blob,
        codec=codec,
        external_storage=external_storage,
        threshold_bytes=threshold_bytes,
        payload_codec=payload_codec,
        expires_at=expires_at,
    )
    if "blob" in envelope:
        _serializer.warn_if_payload_near_limit(
            envelope["blob"], codec=codec, size_warning=warning, warning_context=warning_context
        )
    return envelope


def external_storage_envelope_many(
    values: Iterable[Any],
    *,
    external_storage: ExternalStorageDriver,
    threshold_bytes: int,
    codec: str = "avro",
    size_warning: PayloadSizeWarningConfig | _Default | None = _DEFAULT,
    warning_context: PayloadWarningContexts = None,
    payload_codec: PayloadCodec | None = None,
    expires_at: str | None = None,
) -> list[dict[str, Any]]:
    """One :func:`external_storage_envelope` per value (each offloaded on its own size)."""
    values = list(values)
    contexts = _serializer.per_value_contexts(len(values), warning_context)
    return [
        external_storage_envelope(
            value,
            external_storage=external_storage,
            threshold_bytes=threshold_bytes,
            codec=codec,
            size_warning=size_warning,
            warning_context=context,
            payload_codec=payload_codec,
            expires_at=expires_at,
        )
        for value, context in zip(values, contexts, strict=True)
    ]


def is_external_envelope(obj: Any) -> bool:
    """True for a mapping with a string ``codec`` and an ``external_storage`` key."""
    return (
        isinstance(obj, Mapping) and isinstance(obj.get("codec"), str) and "external_storage" in obj
    )


def resolve_external_envelope(
    obj: Mapping[str, Any],
    external_storage: ExternalStorageDriver | None,
    *,
    cache: ExternalPayloadCache | None = None,
) -> str:
    """The verified stored blob text of a ``{codec, external_storage}`` envelope.

    Validates the reference (errors name the field), requires its codec to equal
    the envelope's, fetches through ``external_storage`` and checks size and
    SHA-256. The codec chain is not undone here (see :func:`open_envelope`).
    """
    codec = obj.get("codec")
    if not isinstance(codec, str) or not codec:
        raise ExternalPayloadReferenceError("codec", "envelope codec must be a non-empty string")
    reference = ExternalPayloadReference.from_dict(obj.get("external_storage"))
    if reference.codec != codec:
        raise ExternalPayloadReferenceError(
            "codec",
            f"reference codec {reference.codec!r} does not match envelope codec {codec!r}",
        )
    if external_storage is None:
        raise ExternalPayloadReferenceError(
            "external_storage",
            f"payload is stored externally at {reference.uri}; configure an external storage "
            "driver to read it",
        )
    data = fetch_external_payload(external_storage, reference, cache=cache)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExternalPayloadReferenceError(
            "external_storage", f"object at {reference.uri} is not UTF-8 blob text"
        ) from exc


def open_envelope(
    obj: Any,
    codec: str | None = None,
    *,
    default_codec: str | None = "avro",
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    payload_codec: PayloadCodec | None = None,
) -> tuple[str | None, str | None]:
    """``(plain blob, codec to decode it with)`` for an envelope or bare blob string.

    An envelope's own codec wins; a bare string uses ``codec``, else
    ``default_codec`` (``None`` = legacy codec-less JSON text).
    """
    if obj is None:
        return None, codec if codec is not None else default_codec
    if is_external_envelope(obj):
        blob: Any = resolve_external_envelope(obj, external_storage, cache=external_storage_cache)
        use = obj["codec"]
    elif isinstance(obj, Mapping) and isinstance(obj.get("codec"), str) and "blob" in obj:
        blob, use = obj["blob"], obj["codec"]
        if blob is not None and not isinstance(blob, str):
            raise ExternalPayloadReferenceError("blob", "envelope blob must be a string")
    elif isinstance(obj, str):
        blob, use = obj, codec if codec is not None else default_codec
    else:
        raise TypeError(f"payload must be a blob string or an envelope, got {type(obj).__name__}")
    if blob is None:
        return None, use
    return decode_blob(blob, payload_codec), use


def decode_payload(
    obj: Any,
    codec: str | None = None,
    *,
    default_codec: str | None = "avro",
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    payload_codec: PayloadCodec | None = None,
) -> Any:
    """Decode any wire payload form to its value: inline, external, chained, or bare."""
    blob, use = open_envelope(
        obj,
        codec,
        default_codec=default_codec,
        external_storage=external_storage,
        external_storage_cache=external_storage_cache,
        payload_codec=payload_codec,
    )
    return _serializer.decode(blob, use)
