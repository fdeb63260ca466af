"""The payload path of ``Client``: encode arguments, decode answers, size warnings.

Every payload a client method sends or reads passes through these functions
(bound onto ``Client`` as ``_envelope``, ``_decode``, ...), so the codec chain,
external storage and the size checks are applied in one place. They read the
client's payload settings (``payload_codec``, ``external_storage*``,
``payload_size_*``) at call time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from durable_workflow import serializer
from durable_workflow._payload_limits import check_inline_payload
from durable_workflow.client import _client
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter._rich_values import encode_rich
from durable_workflow.external_storage import ExternalStorageDriver
from durable_workflow.external_storage import decode_payload as decode_any_payload
from durable_workflow.external_storage._envelopes import payload_envelope
from durable_workflow.metrics import record_payload_size

__all__ = [
    "decode",
    "decoded_result",
    "envelope",
    "input_body",
    "payload_context",
    "payload_envelope_upstream",
    "search_attributes",
]


def payload_context(
    self: _client.Client, kind: str, **ids: str | None
) -> serializer.PayloadSizeWarningContext:
    """Where a payload comes from (``kind`` as upstream names it), for warnings and errors."""
    return serializer.PayloadSizeWarningContext(kind, namespace=self.namespace, **ids)


def payload_envelope_upstream(
    self: _client.Client,
    value: Any,
    *,
    kind: str,
    codec: str = serializer.AVRO_CODEC,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_threshold_bytes: int | None = None,
    **ids: str | None,
) -> dict[str, Any]:
    """Upstream 0.4.53's ``Client._payload_envelope``: :func:`envelope` with its keywords.

    ``ids`` are the context's ids (``workflow_id``, ``run_id``, ``signal_name``, ...).
    """
    return envelope(
        self,
        value,
        codec,
        external_storage=external_storage,
        threshold_bytes=external_storage_threshold_bytes,
        context=payload_context(self, kind, **ids),
    )


def envelope(
    self: _client.Client,
    value: Any,
    codec: str = "avro",
    *,
    external_storage: ExternalStorageDriver | None = None,
    threshold_bytes: int | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    context: serializer.PayloadSizeWarningContext | None = None,
    field: str = "payload",
) -> dict[str, Any]:
    """Encode a payload: codec chain, then offload when a driver and threshold are set.

    Per-call ``external_storage``/``threshold_bytes``/``payload_codec_chain``
    override the client's; ``avro`` blobs are framed for the server's generation
    (the caller has negotiated first: ``await self._negotiate()``). ``context`` goes
    into the size warning; an inline blob over ``payload_size_limit_bytes`` raises
    ``PayloadTooLargeError`` naming ``field``.
    """
    driver = external_storage if external_storage is not None else self.external_storage
    threshold = (
        threshold_bytes if threshold_bytes is not None else self.external_storage_threshold_bytes
    )
    offloading = driver is not None and threshold is not None
    # Rich values (dataclasses, models, datetimes, ...) go as their plain JSON form.
    envelope = encode_rich(
        lambda plain: payload_envelope(
            plain,
            codec=codec,
            external_storage=driver if offloading else None,
            threshold_bytes=threshold if offloading else None,
            payload_codec=(
                payload_codec_chain if payload_codec_chain is not None else self.payload_codec
            ),
            size_warning=self.payload_size_warning_config,
            warning_context=context,
            framing=self.converter.framing,
        ),
        value,
        bytes_native=self.converter.bytes_native(codec),
    )
    described = context.to_log_context() if context is not None else {}
    kind = described.pop("kind", "payload")
    described.pop("namespace", None)
    check_inline_payload(
        envelope,
        field=field,
        limit_bytes=self.payload_size_limit_bytes,
        kind=kind,
        ids=described,
    )
    record_payload_size(self.metrics, envelope, direction="sent", kind=kind)
    return envelope


def search_attributes(
    self: _client.Client,
    values: Mapping[str, Any] | None,
    context: serializer.PayloadSizeWarningContext,
) -> dict[str, Any] | None:
    """Search attributes as sent (the server encodes them), with upstream's size warning."""
    if values is None:
        return None
    serializer.warn_if_json_payload_near_limit(
        dict(values), size_warning=self.payload_size_warning_config, warning_context=context
    )
    return dict(values)


def input_body(
    self: _client.Client, args: Sequence[Any] | None, context: serializer.PayloadSizeWarningContext
) -> dict[str, Any]:
    """``{}`` without arguments, else ``{"input": <avro envelope of the argument list>}``."""
    if not args:
        return {}
    return {"input": self._envelope(list(args), context=context, field="input")}


def decode(
    self: _client.Client, envelope: Mapping[str, Any] | str, default_codec: str | None
) -> Any:
    """Decode an inline or externally stored envelope (stored bytes are verified) or a
    bare blob, undoing the client's payload codec chain."""
    record_payload_size(self.metrics, envelope, direction="received", kind="client_read")
    return decode_any_payload(
        envelope if isinstance(envelope, str) else dict(envelope),
        default_codec=default_codec or "avro",
        external_storage=self.external_storage,
        external_storage_cache=self.external_storage_cache,
        payload_codec=self.payload_codec,
    )


def decoded_result(self: _client.Client, data: dict[str, Any]) -> dict[str, Any]:
    """A query/update answer with ``result`` restored from ``result_envelope``.

    With a payload codec chain the worker sends no plain ``result`` (it would
    bypass the chain) and the server cannot read the transformed envelope, so
    the client decodes it; without a chain the answer is returned as sent.
    """
    envelope = data.get("result_envelope")
    if self.payload_codec is not None and isinstance(envelope, dict) and "codec" in envelope:
        data["result"] = self._decode(envelope, None)
    return data
