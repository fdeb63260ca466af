"""History events as the replayer sees them, and decoding of the values they carry.

Events come from workflow-task polls, query tasks, history exports or
hand-written fixtures; this module accepts all of those shapes (``event_type``
or ``type``, missing payloads) and decodes payload values with the codec rules
of payloads.md §3 (own envelope codec, else ``payload_codec``, else the run's
codec, else JSON). A ``{codec, external_storage}`` value is fetched through the
scope's driver and verified (size, then SHA-256) before it is decoded.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.converter import DataConverter
from durable_workflow.errors import DurableWorkflowError, WorkflowPayloadDecodeError
from durable_workflow.external_storage import ExternalStorageError

_replay_logger = logging.getLogger("durable_workflow.workflow.replay")

__all__ = [
    "KNOWN_EVENT_TYPES",
    "DecodeScope",
    "Event",
    "MalformedHistoryError",
    "as_argument_list",
    "history_list",
    "normalize_events",
    "parse_timestamp",
]


@dataclass(frozen=True, slots=True)
class Event:
    """One history event: its position in the list, type, payload and raw dict."""

    position: int
    event_type: str
    payload: Mapping[str, Any]
    raw: Mapping[str, Any]

    @property
    def event_id(self) -> Any:
        """The best identifier for diagnostics: ``id``, ``event_id`` or ``sequence``."""
        for key in ("id", "event_id", "sequence"):
            if self.raw.get(key) is not None:
                return self.raw[key]
        return self.position + 1

    @property
    def recorded_at(self) -> Any:
        return self.raw.get("recorded_at") or self.raw.get("timestamp")

    def get(self, key: str) -> Any:
        return self.payload.get(key)

    def text(self, key: str) -> str | None:
        """A payload key as a non-empty string, else ``None``."""
        value = self.payload.get(key)
        if value is None or value == "":
            return None
        return str(value)

    def step_sequence(self) -> int | None:
        """The workflow step number (payload ``sequence`` / ``workflow_sequence``)."""
        for key in ("sequence", "workflow_sequence"):
            value = self.payload.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.isdigit():
                return int(value)
        return None


#: Every run-history event type of history-events.md §3.1-§3.9.
KNOWN_EVENT_TYPES = frozenset(
    {
        # run lifecycle
        "StartAccepted", "StartRejected", "WorkflowStarted", "WorkflowContinuedAsNew",
        "WorkflowCompleted", "WorkflowFailed", "WorkflowTimedOut", "CancelRequested",
        "WorkflowCancelled", "TerminateRequested", "WorkflowTerminated", "ArchiveRequested",
        "WorkflowArchived", "RepairRequested",
        # activities
        "ActivityScheduled", "ActivityStarted", "ActivityHeartbeatRecorded",
        "ActivityRetryScheduled", "ActivityCompleted", "ActivityFailed", "ActivityTimedOut",
        "ActivityCancelled",
        # timers, signals, updates, waits
        "TimerScheduled", "TimerFired", "TimerCancelled", "SignalReceived", "SignalApplied",
        "SignalWaitOpened", "UpdateAccepted", "UpdateRejected", "UpdateApplied",
        "UpdateCompleted", "MessageCursorAdvanced", "ConditionWaitOpened",
        "ConditionWaitSatisfied", "ConditionWaitTimedOut",
        # markers and children
        "SideEffectRecorded", "VersionMarkerRecorded", "SearchAttributesUpserted",
        "MemoUpserted", "ChildWorkflowScheduled", "ChildRunStarted", "ChildRunCompleted",
        "ChildRunFailed", "ChildRunCancelled", "ChildRunTerminated",
        # failure bookkeeping
        "FailureHandled", "ParentClosePolicyApplied", "ParentClosePolicyFailed",
    }
)  # fmt: skip

# Payload keys replay cannot do without: (key, kind) with kind "name" (non-empty
# string), "int" or "present" (the key must exist; null is a value).
_REQUIRED_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "SignalReceived": (("signal_name", "name"),),
    "UpdateAccepted": (("update_id", "name"), ("update_name", "name")),
    "UpdateApplied": (("update_name", "name"),),
    # No change_id: upstream replays such a marker by its version alone, and so do we.
    "VersionMarkerRecorded": (("version", "int"),),
    "SideEffectRecorded": (("result", "present"),),
}


class MalformedHistoryError(DurableWorkflowError, ValueError):
    """A history event the replayer cannot interpret; names the event and the problem.

    Raised instead of guessing (or a bare ``KeyError``) so a corrupt or
    foreign history fails the workflow task with a message an operator can act on.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int,
        event_id: Any = None,
        event_type: str | None = None,
        field: str | None = None,
    ) -> None:
        self.position = position
        self.event_id = event_id
        self.event_type = event_type
        self.field = field
        super().__init__(message)


def _malformed(
    raw: Any, position: int, problem: str, event_type: str | None = None, field: str | None = None
) -> MalformedHistoryError:
    event_id = None
    if isinstance(raw, Mapping):
        event_id = raw.get("id") or raw.get("event_id") or raw.get("sequence")
    label = f"history event #{position + 1}"
    if event_id is not None:
        label += f" (id {event_id})"
    if event_type:
        label += f" {event_type}"
    return MalformedHistoryError(
        f"{label}: {problem}",
        position=position,
        event_id=event_id,
        event_type=event_type,
        field=field,
    )


def _check_required(raw: Mapping[str, Any], position: int, event_type: str, payload: Any) -> None:
    for key, kind in _REQUIRED_KEYS.get(event_type, ()):
        value = payload.get(key) if isinstance(payload, Mapping) else None
        present = isinstance(payload, Mapping) and key in payload
        if kind == "present":
            ok = present
        elif kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str) and bool(value)
        if not ok:
            want = {"present": "", "int": " (an integer)", "name": " (a non-empty string)"}[kind]
            raise _malformed(
                raw,
                position,
                f"payload.{key} is missing or invalid{want}",
                event_type,
                f"payload.{key}",
            )


def _events_of(history: Any) -> list[Any]:
    if isinstance(history, Mapping):
        for key in ("events", "history_events", "history"):
            value = history.get(key)
            if isinstance(value, list):
                return value
        raise ValueError("history dict has no 'events', 'history_events' or 'history' list")
    if history is None:
        return []
    if isinstance(history, list):
        return history  # no copy: the sticky cache reads only the tail of long histories
    return list(history)


def history_list(history: Any) -> list[Any]:
    """The raw event list of any accepted history shape (list, or dict with events)."""
    return _events_of(history)


def normalize_events(
    history: Iterable[Any] | Mapping[str, Any] | None, *, start: int = 0
) -> list[Event]:
    """Turn any accepted history shape into a list of :class:`Event`.

    ``start`` is the position of the first event in the whole history, for
    callers that normalise only the tail they have not seen.
    """
    events: list[Event] = []
    for position, raw in enumerate(_events_of(history), start):
        if not isinstance(raw, Mapping):
            raise _malformed(raw, position, "is not an object")
        event_type = raw.get("event_type") or raw.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise _malformed(raw, position, "has no event_type", field="event_type")
        if event_type not in KNOWN_EVENT_TYPES:
            raise _malformed(raw, position, "unknown event type", event_type, "event_type")
        payload = raw.get("payload")
        if payload is not None and not isinstance(payload, Mapping):
            raise _malformed(raw, position, "payload is not an object", event_type, "payload")
        _check_required(raw, position, event_type, payload)
        events.append(Event(position, event_type, payload or {}, raw))
    return events


def parse_timestamp(value: Any) -> _dt.datetime | None:
    """An ISO-8601 timestamp as an aware datetime (UTC when no zone), else ``None``."""
    if isinstance(value, _dt.datetime):
        parsed = value
    elif isinstance(value, str) and value:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class DecodeScope:
    """What a decode failure should report, and the converter that reads values
    (its ``codec`` is the run's, the fallback for values that name none)."""

    workflow_id: str | None
    run_id: str | None
    converter: DataConverter = field(default_factory=lambda: DataConverter(codec=None))

    @property
    def run_codec(self) -> str | None:
        return self.converter.codec

    def value(
        self,
        event: Event,
        keys: tuple[str, ...],
        *,
        receiver_kind: str,
        receiver_name: str | None = None,
    ) -> Any:
        """Decode the first present key of ``keys`` (``None`` when none is present)."""
        for key in keys:
            if key in event.payload and event.payload[key] is not None:
                return self.decode(
                    event.payload[key],
                    event.text("payload_codec"),
                    event=event,
                    receiver_kind=receiver_kind,
                    receiver_name=receiver_name,
                )
        return None

    def decode(
        self,
        raw: Any,
        codec: str | None,
        *,
        event: Event | None,
        receiver_kind: str,
        receiver_name: str | None = None,
    ) -> Any:
        """Decode one stored value; failures become ``WorkflowPayloadDecodeError``."""
        effective = codec or self.run_codec
        try:
            return self.converter.decode(raw, effective)
        except (ValueError, TypeError, ExternalStorageError) as exc:
            head = raw[:32] if isinstance(raw, str) else repr(raw)[:32]
            where = f" in {event.event_type} (event {event.event_id})" if event else ""
            named = f"{receiver_kind} {receiver_name!r} " if receiver_name else ""
            facts = {
                "workflow_id": self.workflow_id,
                "run_id": self.run_id or None,
                "event_id": event.event_id if event else None,
                f"{receiver_kind}_name": receiver_name,
                "codec": effective,
                "payload_head": head,
                "exception_type": type(exc).__name__,
            }
            # One structured record (upstream's ``durable_workflow_payload_decode`` extra).
            _replay_logger.error(
                "workflow %s payload decode failed during replay",
                receiver_kind,
                extra={
                    "durable_workflow_payload_decode": {
                        key: value for key, value in facts.items() if value is not None
                    }
                },
            )
            raise WorkflowPayloadDecodeError(
                f"{named}payload decode failed: cannot decode {receiver_kind} payload{where}: "
                f"{type(exc).__name__}: {exc}",
                workflow_id=self.workflow_id,
                run_id=self.run_id,
                event_id=event.event_id if event else None,
                receiver_kind=receiver_kind,
                receiver_name=receiver_name,
                codec=effective,
                payload_head=head,
                exception_type=type(exc).__name__,
            ) from exc


def as_argument_list(value: Any) -> list[Any]:
    """Argument payloads hold a list; a single decoded value becomes a one-element list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
