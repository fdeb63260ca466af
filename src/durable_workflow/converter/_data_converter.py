"""The one payload object: everything that decides how a value becomes a wire payload.

A payload passes through the same steps everywhere (Client, Worker, commands,
replay, carriers, the verify CLIs): JSON-native value -> blob in the codec
(``avro``/``json``) -> payload codec chain (beyond upstream) -> inline
``{codec, blob}`` or, above the threshold, a ``{codec, external_storage}``
reference (payloads.md §5.3); and back. :class:`DataConverter` holds the
settings of those steps once, so layers hand one frozen object down instead
of threading the same keywords through every call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from durable_workflow import serializer
from durable_workflow.codecs import PayloadCodec, encode_blob
from durable_workflow.converter._rich_values import encode_rich, from_plain, to_plain
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalStorageDriver,
    resolve_external_envelope,
)
from durable_workflow.external_storage._envelopes import (
    check_threshold,
    envelope_for_blob,
    payload_envelope,
)

__all__ = ["DataConverter"]

_CONTEXT_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(serializer.PayloadSizeWarningContext)
    if field.name != "kind"
)


@dataclasses.dataclass(frozen=True)
class DataConverter:
    """Codec, codec chain, external storage and size checks for payloads, held once.

    Attributes:
        codec: the codec name payloads are written in, and the one a bare blob
            without its own codec is read with (``None``: legacy JSON text).
        framing: how ``avro`` blobs are written: ``wrapper`` (0.x servers) or
            ``value`` (the 2.x ``Value`` frame); set from the server's generation
            once the client has negotiated. Both framings are always read.
        codec_chain: the payload codec chain applied to every blob (beyond upstream).
        external_storage: where large payloads are offloaded and references read.
        threshold_bytes: offload blobs strictly larger than this; offloading
            happens only with both a driver and a threshold.
        storage_cache: verified-bytes cache consulted when reading references.
        size_warning: when to log that an inline payload nears the limit (``None``: never).
        context: the ids (workflow, run, activity, command kind, ...) that
            warnings and errors name; see :meth:`with_context`.
    """

    codec: str | None = serializer.AVRO_CODEC
    framing: str = serializer.WRAPPER_FRAMING
    codec_chain: PayloadCodec | None = None
    external_storage: ExternalStorageDriver | None = None
    threshold_bytes: int | None = None
    storage_cache: ExternalPayloadCache | None = None
    size_warning: serializer.PayloadSizeWarningConfig | None = (
        serializer.DEFAULT_PAYLOAD_SIZE_WARNING
    )
    context: serializer.PayloadWarningContext = None

    def __post_init__(self) -> None:
        check_threshold(self.threshold_bytes)
        if self.framing not in serializer.FRAMINGS:
            raise ValueError(
                f"framing must be one of {', '.join(serializer.FRAMINGS)}, got {self.framing!r}"
            )

    # -- derived copies ------------------------------------------------------
    def replace(self, **changes: Any) -> DataConverter:
        """A copy with ``changes`` applied (the threshold is checked again)."""
        return dataclasses.replace(self, **changes)

    def with_codec(self, codec: str | None) -> DataConverter:
        """This converter writing and reading bare blobs in ``codec`` (a run's codec)."""
        return self if codec == self.codec else dataclasses.replace(self, codec=codec)

    def with_framing(self, framing: str) -> DataConverter:
        """This converter writing ``avro`` blobs in ``framing`` (the server generation's)."""
        return self if framing == self.framing else dataclasses.replace(self, framing=framing)

    def with_context(self, kind: str | None = None, **ids: str | None) -> DataConverter:
        """A copy whose warnings and errors also name ``kind`` and ``ids``.

        ``ids`` are the fields of :class:`serializer.PayloadSizeWarningContext`
        (``workflow_id``, ``run_id``, ``activity_name``, ...); ``None`` values
        leave what is already attached.
        """
        return dataclasses.replace(self, context=self.warning_context(kind, **ids))

    def warning_context(
        self, kind: str | None = None, **ids: str | None
    ) -> serializer.PayloadWarningContext:
        """The attached context, with ``kind`` and ``ids`` laid over it."""
        base = self.context
        if kind is None and not any(value is not None for value in ids.values()):
            return base
        extra = {key: value for key, value in ids.items() if value is not None}
        if base is not None and not isinstance(base, serializer.PayloadSizeWarningContext):
            # A plain mapping stays a mapping (its set values as text), as upstream accepts.
            given = {str(key): str(value) for key, value in base.items() if value is not None}
            return {**given, "kind": kind or given.get("kind", "payload"), **extra}
        fields: dict[str, str | None] = {}
        if base is not None:
            fields = {name: getattr(base, name) for name in _CONTEXT_FIELDS}
        fields.update(extra)
        label = kind if kind is not None else base.kind if base is not None else "payload"
        return serializer.PayloadSizeWarningContext(label, **fields)

    @property
    def offloads(self) -> bool:
        """True when large payloads are stored externally (a driver *and* a threshold)."""
        return self.external_storage is not None and self.threshold_bytes is not None

    # -- outgoing ------------------------------------------------------------
    def encode(self, value: Any, kind: str | None = None, **ids: str | None) -> dict[str, Any]:
        """``value`` as a wire envelope: blob, codec chain, then inline or offloaded.

        Logs the size warning (naming ``kind`` and ``ids`` over the attached
        context) for an inline payload near the limit. Without chain or storage
        the envelope equals ``serializer.envelope``'s byte for byte. Rich values
        (dataclasses, pydantic models, datetimes, ...) travel as their plain
        JSON form (:meth:`to_payload`).
        """
        context = self.warning_context(kind, **ids)
        codec = self.codec if self.codec is not None else serializer.AVRO_CODEC
        offloading = self.offloads
        return encode_rich(
            lambda plain: payload_envelope(
                plain,
                codec=codec,
                external_storage=self.external_storage if offloading else None,
                threshold_bytes=self.threshold_bytes if offloading else None,
                payload_codec=self.codec_chain,
                size_warning=self.size_warning,
                warning_context=context,
                framing=self.framing,
            ),
            value,
            bytes_native=self.bytes_native(codec),
        )

    def encode_bare(self, value: Any, kind: str | None = None, **ids: str | None) -> str:
        """``value`` as a bare blob through the codec chain, never offloaded.

        For the places the protocol takes a blob and no envelope (a side
        effect's recorded value, payloads.md §4.2).
        """
        codec = self.codec if self.codec is not None else serializer.AVRO_CODEC
        blob = encode_rich(
            lambda plain: serializer.encode(
                plain,
                codec,
                size_warning=self.size_warning,
                warning_context=self.warning_context(kind, **ids),
                framing=self.framing,
            ),
            value,
            bytes_native=self.bytes_native(codec),
        )
        return encode_blob(blob, self.codec_chain)

    def bytes_native(self, codec: str | None = None) -> bool:
        """Whether blobs in ``codec`` carry ``bytes`` as such (the ``Value`` frame does)."""
        use = codec if codec is not None else self.codec or serializer.AVRO_CODEC
        return use == serializer.AVRO_CODEC and self.framing == serializer.VALUE_FRAMING

    def to_payload(self, value: Any) -> Any:
        """``value`` as the plain JSON value it travels as (rich parts converted).

        :meth:`encode` applies this only to a value the plain encoder refuses;
        bytes stay bytes where the frame carries them (``Value`` framing).
        """
        return to_plain(value, bytes_native=self.bytes_native())

    @staticmethod
    def from_payload(value: Any, annotation: Any, field: str = "value") -> Any:
        """A decoded value as ``annotation`` (dataclass, model, datetime, ...).

        Hints naming no rich type (and no hint) return ``value`` as decoded;
        a value that does not fit raises ``PayloadConversionError`` naming ``field``.
        """
        return from_plain(value, annotation, field)

    def offload(self, blob: str, *, codec: str | None = None) -> dict[str, Any]:
        """Envelope an already-encoded blob: codec chain, then store it when above threshold."""
        use = codec if codec is not None else self.codec or serializer.AVRO_CODEC
        offloading = self.offloads
        return envelope_for_blob(
            blob,
            codec=use,
            external_storage=self.external_storage if offloading else None,
            threshold_bytes=self.threshold_bytes if offloading else None,
            payload_codec=self.codec_chain,
        )

    def offload_options(self) -> dict[str, Any]:
        """Keyword arguments of the Client's task-completion calls for this converter."""
        options: dict[str, Any] = {}
        if self.codec_chain is not None:  # the calls' default is none
            options["payload_codec_chain"] = self.codec_chain
        if self.offloads:
            options["external_storage"] = self.external_storage
            options["external_storage_threshold_bytes"] = self.threshold_bytes
        return options

    # -- incoming ------------------------------------------------------------
    def decode(self, obj: Any, codec: str | None = None) -> Any:
        """Decode an envelope (its own codec wins) or a bare blob (``codec``, else ``self.codec``).

        A reference is fetched through ``external_storage`` (via ``storage_cache``)
        and verified; the codec chain is undone; failures raise as
        :func:`serializer.decode_envelope` does.
        """
        return serializer.decode_envelope(
            obj,
            codec,
            external_storage=self.external_storage,
            external_storage_cache=self.storage_cache,
            default_codec=self.codec,
            payload_codec=self.codec_chain,
        )

    def resolve(self, envelope: Mapping[str, Any]) -> str:
        """The verified stored blob text of a ``{codec, external_storage}`` reference."""
        return resolve_external_envelope(envelope, self.external_storage, cache=self.storage_cache)

    def decode_arguments(self, arguments: Any, codec: str | None = None) -> list[Any]:
        """Start/activity/query arguments as a positional list (a scalar is one argument).

        ``{codec: null, blob: null}`` (no input on query tasks) is ``[]``; a
        mapping that is no envelope is a ``ValueError``.
        """
        if arguments is None:
            return []
        if isinstance(arguments, Mapping):
            if "blob" in arguments and arguments.get("blob") is None:
                return []
            if not serializer.is_envelope(arguments):
                raise ValueError("arguments are neither a {codec, blob} envelope nor a blob string")
        value = self.decode(arguments, codec)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    # -- building from upstream's keywords -----------------------------------
    @classmethod
    def from_options(
        cls,
        base: DataConverter | None = None,
        *,
        external_storage: ExternalStorageDriver | None = None,
        threshold_bytes: int | None = None,
        storage_cache: ExternalPayloadCache | None = None,
        codec_chain: PayloadCodec | None = None,
    ) -> DataConverter:
        """``base`` (default: a plain converter) with every given keyword laid over it.

        The one place upstream's loose keywords (``external_storage=``,
        ``external_storage_threshold_bytes=``, ``external_storage_cache=``, and
        our ``payload_codec=`` chain) become a converter; ``None`` keeps ``base``'s.
        """
        check_threshold(threshold_bytes)
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("external_storage", external_storage),
                ("threshold_bytes", threshold_bytes),
                ("storage_cache", storage_cache),
                ("codec_chain", codec_chain),
            )
            if value is not None
        }
        start = base if base is not None else cls()
        return dataclasses.replace(start, **changes) if changes else start
