"""Payloads as the UI shows them: decoded when the package's converter can, else as stored.

Blobs are decoded with :class:`~durable_workflow.converter.DataConverter` (JSON,
the 0.4.53 Avro wrapper) and, failing that, the 2.x ``Value`` framing. A blob the
UI cannot decode (a codec chain it does not hold, an unknown codec, an
offloaded reference it never fetches) is shown encoded, labelled as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from durable_workflow.converter import DataConverter
from durable_workflow.converter._value_codec import decode_value_blob
from durable_workflow.converter._value_errors import PayloadFramingError
from durable_workflow.server.engine.payload_codec import is_external_envelope

_CONVERTER = DataConverter()
_MISSING = object()


@dataclass(frozen=True)
class Shown:
    """One value for display: ``text`` (pretty JSON or the raw form) and how it was read."""

    text: str
    decoded: bool
    note: str

    @property
    def empty(self) -> bool:
        return self.text == ""


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def _decode(codec: str | None, blob: str) -> Any:
    """The decoded value, or ``_MISSING`` when neither reader accepts the blob."""
    try:
        return _CONVERTER.decode({"codec": codec or "json", "blob": blob})
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    if codec in (None, "avro"):
        try:
            return decode_value_blob(blob)
        except (PayloadFramingError, ValueError):
            pass
    return _MISSING


def show_blob(codec: str | None, blob: Any) -> Shown:
    """A stored ``blob`` written with ``codec``; non-strings are values already."""
    if blob is None:
        return Shown("", True, "")
    if is_external_envelope(blob):
        return Shown(_pretty(blob), False, "stored externally; shown as its reference")
    if isinstance(blob, dict) and set(blob) == {"codec", "blob"}:
        return show_blob(blob.get("codec"), blob.get("blob"))
    if not isinstance(blob, str):
        return Shown(_pretty(blob), True, "")
    value = _decode(codec, blob)
    if value is _MISSING:
        return Shown(blob, False, f"encoded ({codec or 'no codec'}); the UI cannot decode it")
    return Shown(_pretty(value), True, f"decoded from {codec or 'json'}")


def show_value(value: Any) -> Shown:
    """A JSON value from a read view, which may itself be an envelope."""
    if isinstance(value, dict) and (set(value) == {"codec", "blob"} or is_external_envelope(value)):
        return show_blob(
            value.get("codec"), value if is_external_envelope(value) else value["blob"]
        )
    if value is None:
        return Shown("", True, "")
    return Shown(_pretty(value), True, "")
