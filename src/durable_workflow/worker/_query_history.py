"""Signal arguments for a query task's compact history, from its ``history_export``.

A query task may carry ``SignalReceived`` rows without their arguments, plus the
run's history export, whose ``signals`` list holds each signal's payload. Before
replay, each such row gets its arguments back (matched by signal id, then by
workflow command id), so the replayed state matches the workflow task's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["with_export_signal_arguments"]

_ARGUMENT_KEYS = ("value", "input", "arguments")


def _envelope(signal: Mapping[str, Any], default_codec: str) -> dict[str, Any] | None:
    """The signal's arguments as an envelope (a bare blob takes the signal's codec)."""
    arguments = signal.get("arguments")
    codec = signal.get("payload_codec")
    codec = codec if isinstance(codec, str) and codec else default_codec
    if isinstance(arguments, str) and arguments:
        return {"codec": codec, "blob": arguments}
    if isinstance(arguments, Mapping) and ("blob" in arguments or "external_storage" in arguments):
        return {"codec": codec, **arguments}
    return None


def with_export_signal_arguments(
    events: list[dict[str, Any]], export: Any, default_codec: str
) -> list[dict[str, Any]]:
    """``events`` with argument-less ``SignalReceived`` payloads filled from ``export``."""
    signals = export.get("signals") if isinstance(export, Mapping) else None
    if not isinstance(signals, list):
        return events
    payloads = export.get("payloads")
    export_codec = payloads.get("codec") if isinstance(payloads, Mapping) else None
    codec = export_codec if isinstance(export_codec, str) and export_codec else default_codec
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for signal in signals:
        if not isinstance(signal, Mapping):
            continue
        envelope = _envelope(signal, codec)
        if envelope is None:
            continue
        for key, field in (("id", "id"), ("command", "command_id")):
            value = signal.get(field)
            if isinstance(value, str) and value:
                by_key.setdefault((key, value), envelope)
    if not by_key:
        return events
    filled: list[dict[str, Any]] = []
    for event in events:
        payload = event.get("payload")
        if (
            (event.get("event_type") or event.get("type")) != "SignalReceived"
            or not isinstance(payload, Mapping)
            or any(payload.get(key) is not None for key in _ARGUMENT_KEYS)
        ):
            filled.append(event)
            continue
        command_id = payload.get("workflow_command_id") or event.get("workflow_command_id")
        envelope = by_key.get(("id", str(payload.get("signal_id") or ""))) or by_key.get(
            ("command", str(command_id or ""))
        )
        filled.append(
            event if envelope is None else {**event, "payload": {**payload, "arguments": envelope}}
        )
    return filled
