"""Payload codecs and envelopes: the one place that turns values into wire blobs.

Every payload on the wire is a blob string plus a codec name (payloads.md).
``avro`` (the server's default) is base64 of one of two framings, chosen by
the server generation the SDK talks to (``framing=``): the 0.x line's
``0x00`` followed by the Avro binary encoding of the generic wrapper record
``durable_workflow.Payload`` ``{json: string, version: int = 1}`` (hand-written
for that fixed layout in ``_avro_wrapper``), or the 2.x line's single-object
frame of the fixed ``durable_workflow.protocol.Value`` schema
(``converter._value_codec``). Decoding reads both, so histories written by
either generation replay. ``json`` (decode-side compatibility for legacy data
and the golden fixtures) is the JSON text itself. Blobs produced here are
byte-identical to the reference ``avro`` package and to upstream SDK 2.12.0.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from durable_workflow import _avro
from durable_workflow._generated import manifest
from durable_workflow.codecs import PayloadCodec, decode_blob

if TYPE_CHECKING:  # the storage package imports this module; import it lazily at run time
    from durable_workflow.external_storage import (
        ExternalPayloadCache,
        ExternalPayloadReference,
        ExternalStorageDriver,
        fetch_external_payload,
        store_external_payload,
    )

# Upstream's serializer also exposes these storage names; they live in
# external_storage, which imports this module, so they resolve on first access.
_STORAGE_NAMES = frozenset(
    {
        "ExternalPayloadCache",
        "ExternalPayloadReference",
        "ExternalStorageDriver",
        "fetch_external_payload",
        "store_external_payload",
    }
)


def __getattr__(name: str) -> Any:
    if name in _STORAGE_NAMES:
        from durable_workflow import external_storage

        return getattr(external_storage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _STORAGE_NAMES)


JSON_CODEC = "json"
AVRO_CODEC = "avro"
SUPPORTED_CODECS = (JSON_CODEC, AVRO_CODEC)
#: How an ``avro`` blob is framed when written (both are always read):
#: the 0.x line's ``0x00`` + ``{json, version}`` wrapper record (payloads.md §2.1) ...
WRAPPER_FRAMING = "wrapper"
#: ... or the 2.x line's single-object frame of the fixed ``Value`` schema.
VALUE_FRAMING = "value"
FRAMINGS = (WRAPPER_FRAMING, VALUE_FRAMING)
DEFAULT_PAYLOAD_SIZE_BYTES = manifest.STRUCTURAL_PAYLOAD_SIZE_BYTES
DEFAULT_WARNING_THRESHOLD_PERCENT = manifest.STRUCTURAL_WARNING_THRESHOLD_PERCENT

_logger = logging.getLogger("durable_workflow.serializer")

#: Writer schema of the generic wrapper (payloads.md §2.1); shared with the PHP engine.
AVRO_WRAPPER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Payload",
    "namespace": "durable_workflow",
    "fields": [
        {"name": "json", "type": "string"},
        {"name": "version", "type": "int", "default": 1},
    ],
}

# Built once: json.dumps with options constructs a new encoder on every call.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The decoder's scanner without json.loads' wrapper (type checks, two regex
# passes): a third of the cost for small payloads. Anything it does not parse
# to the very end goes through json.loads, which accepts or explains it.
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

__all__ = [
    "AVRO_CODEC",
    "AVRO_WRAPPER_SCHEMA",
    "DEFAULT_PAYLOAD_SIZE_BYTES",
    "DEFAULT_PAYLOAD_SIZE_WARNING",
    "DEFAULT_WARNING_THRESHOLD_PERCENT",
    "FRAMINGS",
    "JSON_CODEC",
    "SUPPORTED_CODECS",
    "VALUE_FRAMING",
    "WRAPPER_FRAMING",
    "ExternalPayloadCache",
    "ExternalPayloadReference",
    "ExternalStorageDriver",
    "PayloadSizeWarningConfig",
    "PayloadSizeWarningContext",
    "PayloadWarningContext",
    "PayloadWarningContexts",
    "decode",
    "decode_envelope",
    "decode_envelopes",
    "decode_many",
    "encode",
    "encode_many",
    "envelope",
    "envelope_many",
    "external_storage_envelope",
    "external_storage_envelope_many",
    "fetch_external_payload",
    "is_envelope",
    "store_external_payload",
    "to_avro_payload_value",
    "to_avro_payload_values",
    "warn_if_json_payload_near_limit",
    "warn_if_payload_near_limit",
]


@dataclasses.dataclass(frozen=True)
class PayloadSizeWarningConfig:
    """When to warn that an encoded payload is nearing the server's size limit."""

    limit_bytes: int = DEFAULT_PAYLOAD_SIZE_BYTES
    threshold_percent: int = DEFAULT_WARNING_THRESHOLD_PERCENT

    def __post_init__(self) -> None:
        if self.limit_bytes < 1:
            raise ValueError("limit_bytes must be >= 1")
        if not 1 <= self.threshold_percent <= 100:
            raise ValueError("threshold_percent must be between 1 and 100")

    @property
    def threshold_bytes(self) -> int:
        return max(1, self.limit_bytes * self.threshold_percent // 100)


DEFAULT_PAYLOAD_SIZE_WARNING = PayloadSizeWarningConfig()


@dataclasses.dataclass(frozen=True)
class PayloadSizeWarningContext:
    """Where a payload comes from, attached to its size warning for operators."""

    kind: str
    workflow_id: str | None = None
    workflow_type: str | None = None
    run_id: str | None = None
    activity_name: str | None = None
    signal_name: str | None = None
    update_name: str | None = None
    query_name: str | None = None
    schedule_id: str | None = None
    task_queue: str | None = None
    namespace: str | None = None

    def to_log_context(self) -> dict[str, str]:
        """``kind`` plus every field that is set."""
        return {
            field.name: value
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }


#: Where one payload comes from: a context, a plain mapping of the same keys, or None.
PayloadWarningContext = PayloadSizeWarningContext | Mapping[str, Any] | None
#: For a batch: one context for every value, or a sequence with one per value.
PayloadWarningContexts = PayloadWarningContext | Sequence[PayloadWarningContext]


def per_value_contexts(
    count: int, warning_context: PayloadWarningContexts
) -> list[PayloadWarningContext]:
    """``count`` contexts: a single one repeated, or a per-value sequence of that length."""
    if warning_context is None or isinstance(
        warning_context, (PayloadSizeWarningContext, Mapping, str, bytes)
    ):
        return [warning_context] * count
    contexts = list(warning_context)
    if len(contexts) != count:
        raise ValueError(
            "payload warning context count must match value count: "
            f"warning_context has {len(contexts)} contexts for {count} values; "
            "give one context, or one per value"
        )
    return contexts


def _log_context(warning_context: PayloadWarningContext) -> dict[str, str]:
    """The warning's log fields: a mapping's set values as text, ``kind`` defaulting to payload."""
    if isinstance(warning_context, PayloadSizeWarningContext):
        return warning_context.to_log_context()
    context = {
        str(key): str(value) for key, value in (warning_context or {}).items() if value is not None
    }
    context.setdefault("kind", "payload")
    return context


def warn_if_payload_near_limit(
    blob: str,
    *,
    codec: str,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContext = None,
) -> None:
    """Log a structured WARNING when ``blob``'s UTF-8 size reaches the threshold."""
    if size_warning is None:
        return
    threshold = size_warning.threshold_bytes
    if len(blob) * 4 < threshold:  # UTF-8 needs at most 4 bytes per character
        return
    size = len(blob.encode("utf-8"))
    if size < threshold:
        return
    context = _log_context(warning_context)
    details = {
        **context,
        "codec": codec,
        "payload_size": size,
        "threshold_bytes": threshold,
        "limit_bytes": size_warning.limit_bytes,
    }
    _logger.warning(
        "%s payload is %d bytes, near the %d-byte limit",
        context["kind"],
        size,
        size_warning.limit_bytes,
        extra={"durable_workflow_payload": details},
    )


def warn_if_json_payload_near_limit(
    value: Any,
    *,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContext = None,
) -> None:
    """Size warning for a value the server will encode itself (sized as compact JSON)."""
    if size_warning is not None:
        warn_if_payload_near_limit(
            _json_text(value),
            codec=JSON_CODEC,
            size_warning=size_warning,
            warning_context=warning_context,
        )


def _json_text(value: Any) -> str:
    """Compact, raw-UTF-8 JSON; refuses NaN/Infinity, which no peer can parse."""
    try:
        return _JSON_ENCODER.encode(value)
    except ValueError as exc:
        raise ValueError(
            "payload contains a non-finite float (NaN or Infinity), which is not valid JSON "
            "and cannot be sent to the server"
        ) from exc
    except TypeError as exc:
        raise TypeError(
            f"payload is not JSON-serialisable ({exc}); convert rich values with "
            "serializer.to_avro_payload_value() first"
        ) from exc


def _loads(text: str) -> Any:
    """``json.loads(text)``, faster for the compact text every peer writes."""
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


def _check_codec(codec: str, *, decoding: bool = False) -> None:
    if codec not in SUPPORTED_CODECS:
        # upstream's words first (code matches on them), then ours
        words = "Cannot decode payload with codec" if decoding else "Unsupported payload codec"
        raise ValueError(
            f"{words} {codec!r}: unsupported payload codec {codec!r}; supported: "
            f"{', '.join(SUPPORTED_CODECS)}"
        )


def _check_framing(framing: str) -> None:
    if framing not in FRAMINGS:
        raise ValueError(f"unknown avro framing {framing!r}; expected one of {', '.join(FRAMINGS)}")


def _value_blob(value: Any) -> str:
    """The Value frame of ``value``; tuples travel as lists, as JSON carried them on 0.x."""
    from durable_workflow.converter import _value_codec  # the converter package imports us

    try:
        return _value_codec.encode_value_blob(value)
    except _value_codec.UnsupportedValueTypeError:
        if not _has_tuple(value):
            raise
    return _value_codec.encode_value_blob(_tuples_as_lists(value))


def _has_tuple(value: Any) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, list):
        return any(_has_tuple(item) for item in value)
    if isinstance(value, dict):
        return any(_has_tuple(item) for item in value.values())
    return False


def _tuples_as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_tuples_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _tuples_as_lists(item) for key, item in value.items()}
    return value


def encode(
    value: Any,
    codec: str = AVRO_CODEC,
    *,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContext = None,
    framing: str = WRAPPER_FRAMING,
) -> str:
    """Encode one value as a blob string in ``codec`` (``avro`` or ``json``).

    ``framing`` picks the ``avro`` frame: ``wrapper`` (0.x servers, the default)
    or ``value`` (2.x servers; a value the ``Value`` schema cannot carry raises
    ``ValueEncodeError`` naming the element). Logs a size warning
    (``size_warning=None`` disables it) when the blob nears the server's limit.
    """
    _check_codec(codec)
    if codec == AVRO_CODEC and framing == VALUE_FRAMING:
        blob = _value_blob(value)
    else:
        _check_framing(framing)
        blob = _json_text(value) if codec == JSON_CODEC else _avro.encode(value)
    warn_if_payload_near_limit(
        blob, codec=codec, size_warning=size_warning, warning_context=warning_context
    )
    return blob


def encode_many(
    values: Iterable[Any],
    codec: str = AVRO_CODEC,
    *,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContexts = None,
    framing: str = WRAPPER_FRAMING,
) -> list[str]:
    """Encode each value separately (one blob per value)."""
    values = list(values)
    contexts = per_value_contexts(len(values), warning_context)
    if codec == AVRO_CODEC and framing == WRAPPER_FRAMING:
        blobs = _avro.encode_many(values)  # one batch through the avro codec module
        for blob, context in zip(blobs, contexts, strict=True):
            warn_if_payload_near_limit(
                blob, codec=codec, size_warning=size_warning, warning_context=context
            )
        return blobs
    return [
        encode(value, codec, size_warning=size_warning, warning_context=context, framing=framing)
        for value, context in zip(values, contexts, strict=True)
    ]


def decode(blob: str | None, codec: str | None = None) -> Any:
    """Decode a blob; ``None``/``""`` decode to ``None``.

    ``codec=None`` (the default, as upstream) means "no codec recorded": the blob
    is taken as JSON text, as for legacy history values (payloads.md §3).
    """
    if blob is None or blob == "":
        return None
    if not isinstance(blob, str):
        raise TypeError(f"payload blob must be a string, got {type(blob).__name__}")
    if codec is None or codec == JSON_CODEC:
        try:
            return _loads(blob)
        except ValueError as exc:
            raise ValueError(f"json payload is not valid JSON: {exc}") from exc
    _check_codec(codec, decoding=True)
    return _avro.decode(blob)


def decode_many(blobs: Iterable[str | None], codec: str | None = None) -> list[Any]:
    """Decode each blob with the same codec (``avro`` ones in one batch)."""
    blobs = list(blobs)
    if codec != AVRO_CODEC:
        return [decode(blob, codec) for blob in blobs]
    present = [index for index, blob in enumerate(blobs) if blob is not None and blob != ""]
    for index in present:
        if not isinstance(blobs[index], str):
            raise TypeError(f"payload blob must be a string, got {type(blobs[index]).__name__}")
    decoded: list[Any] = [None] * len(blobs)
    values = _avro.decode_many([str(blobs[index]) for index in present])
    for index, value in zip(present, values, strict=True):
        decoded[index] = value
    return decoded


def envelope(
    value: Any,
    codec: str = AVRO_CODEC,
    *,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContext = None,
    framing: str = WRAPPER_FRAMING,
) -> dict[str, str]:
    """The inline ``{codec, blob}`` envelope of one value (payloads.md §4.1)."""
    blob = encode(
        value, codec, size_warning=size_warning, warning_context=warning_context, framing=framing
    )
    return {"codec": codec, "blob": blob}


def envelope_many(
    values: Iterable[Any],
    codec: str = AVRO_CODEC,
    *,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContexts = None,
    framing: str = WRAPPER_FRAMING,
) -> list[dict[str, str]]:
    """One inline envelope per value."""
    values = list(values)
    contexts = per_value_contexts(len(values), warning_context)
    return [
        envelope(value, codec, size_warning=size_warning, warning_context=context, framing=framing)
        for value, context in zip(values, contexts, strict=True)
    ]


def is_envelope(obj: Any) -> bool:
    """True for an inline ``{codec, blob}`` or external ``{codec, external_storage}`` envelope.

    Extra keys are tolerated, as upstream's SDK does.
    """
    if not isinstance(obj, Mapping) or not isinstance(obj.get("codec"), str):
        return False
    return "blob" in obj or "external_storage" in obj


def decode_envelope(
    value: Any,
    codec: str | None = None,
    *,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    default_codec: str | None = None,
    payload_codec: PayloadCodec | None = None,
) -> Any:
    """Decode an envelope (its own codec wins) or a bare blob string.

    A bare string is decoded with ``codec`` when given, else ``default_codec``
    (``None``: JSON text, as upstream). ``None`` decodes to ``None``. An
    external-storage envelope is fetched through ``external_storage`` and
    verified (size, then SHA-256) before decoding; without a driver it raises
    ``ExternalPayloadReferenceError`` (a ``ValueError``) naming the reference's URI.
    ``payload_codec`` (beyond upstream) is the codec chain to undo first; a
    blob framed by a codec nobody here can undo raises ``PayloadCodecError``.
    """
    if value is None:
        return None
    if is_envelope(value):
        if "blob" not in value:
            from durable_workflow.external_storage import decode_payload

            return decode_payload(
                value,
                codec,
                default_codec=default_codec,
                external_storage=external_storage,
                external_storage_cache=external_storage_cache,
                payload_codec=payload_codec,
            )
        blob = value["blob"]
        if blob is not None and not isinstance(blob, str):
            raise ValueError("payload envelope 'blob' must be a string")
        return decode(decode_blob(blob, payload_codec) if blob else blob, value["codec"])
    if isinstance(value, str):
        return decode(
            decode_blob(value, payload_codec), codec if codec is not None else default_codec
        )
    raise ValueError(
        f"payload must be a blob string or a {{codec, blob}} envelope, got {type(value).__name__}"
    )


def decode_envelopes(
    values: Iterable[Any],
    codec: str | None = None,
    *,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    default_codec: str | None = None,
    payload_codec: PayloadCodec | None = None,
) -> list[Any]:
    """Decode each envelope or blob; the inline ``avro`` ones in one ``_avro`` batch."""
    values = list(values)
    decoded: list[Any] = [None] * len(values)
    batch: list[tuple[int, str]] = []
    for index, value in enumerate(values):
        blob = _inline_blob(value, codec if codec is not None else default_codec)
        if blob is not None:
            batch.append((index, decode_blob(blob, payload_codec)))
            continue
        decoded[index] = decode_envelope(
            value,
            codec,
            external_storage=external_storage,
            external_storage_cache=external_storage_cache,
            default_codec=default_codec,
            payload_codec=payload_codec,
        )
    if batch:
        for (index, _), item in zip(
            batch, decode_many([b for _, b in batch], AVRO_CODEC), strict=True
        ):
            decoded[index] = item
    return decoded


def _inline_blob(value: Any, bare_codec: str | None) -> str | None:
    """The non-empty blob of an inline ``avro`` envelope (or bare ``avro`` blob), else None."""
    if is_envelope(value):
        blob = value.get("blob")
        return blob if value["codec"] == AVRO_CODEC and isinstance(blob, str) and blob else None
    if isinstance(value, str) and value and bare_codec == AVRO_CODEC:
        return value
    return None


def external_storage_envelope(
    value: Any,
    *,
    external_storage: ExternalStorageDriver,
    threshold_bytes: int,
    codec: str = AVRO_CODEC,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContext = None,
) -> dict[str, Any]:
    """Inline envelope when the blob fits ``threshold_bytes``, else store it and reference it.

    Lives in :mod:`durable_workflow.external_storage`; kept here under upstream's name.
    """
    from durable_workflow.external_storage import external_storage_envelope as offload

    return offload(
        value,
        external_storage=external_storage,
        threshold_bytes=threshold_bytes,
        codec=codec,
        size_warning=size_warning,
        warning_context=warning_context,
    )


def external_storage_envelope_many(
    values: Iterable[Any],
    *,
    external_storage: ExternalStorageDriver,
    threshold_bytes: int,
    codec: str = AVRO_CODEC,
    size_warning: PayloadSizeWarningConfig | None = DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: PayloadWarningContexts = None,
) -> list[dict[str, Any]]:
    """One :func:`external_storage_envelope` per value, each offloaded on its own size."""
    from durable_workflow.external_storage import external_storage_envelope_many as offload_many

    return offload_many(
        values,
        external_storage=external_storage,
        threshold_bytes=threshold_bytes,
        codec=codec,
        size_warning=size_warning,
        warning_context=warning_context,
    )


def to_avro_payload_value(value: Any) -> Any:
    """Convert a rich value into the JSON-native shape the Avro wrapper carries.

    Enums become their value, datetimes/dates/times ISO strings, UUIDs and
    Decimals strings, dataclasses/pydantic/attrs objects dicts, other sequences
    lists — recursively. Anything else that is not JSON-native is a
    ``TypeError`` rather than a silent ``str()``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_avro_payload_value(value.value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        converted: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    "Avro JSON payload mappings must use string keys: payload mapping keys "
                    f"must be strings, got {type(key).__name__} key {key!r}"
                )
            converted[key] = to_avro_payload_value(item)
        return converted
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_avro_payload_value(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):
        return to_avro_payload_value(model_dump(mode="json"))
    attrs_fields = getattr(type(value), "__attrs_attrs__", None)
    if attrs_fields is not None:
        return {
            field.name: to_avro_payload_value(getattr(value, field.name)) for field in attrs_fields
        }
    legacy_dict = getattr(value, "dict", None)
    if callable(legacy_dict) and hasattr(type(value), "__fields__"):
        return to_avro_payload_value(legacy_dict())
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(
            "bytes cannot be carried by a JSON payload; encode them (e.g. base64) first"
        )
    if isinstance(value, Sequence):
        return [to_avro_payload_value(item) for item in value]
    raise TypeError(
        f"{type(value).__name__} is not Avro JSON payload safe: a value of this type "
        "cannot be converted to a payload value"
    )


def to_avro_payload_values(values: Iterable[Any]) -> list[Any]:
    """Convert each value with :func:`to_avro_payload_value`."""
    return [to_avro_payload_value(value) for value in values]
