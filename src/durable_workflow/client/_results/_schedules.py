"""Schedule request and result dataclasses (upstream names, sdk-surface.md §1.4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from durable_workflow import serializer
from durable_workflow.client._results._parse import as_dict, as_int, as_list, as_str, from_fields

__all__ = [
    "ActionArg",
    "ScheduleAction",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SpecArg",
    "action_to_wire",
    "spec_to_wire",
]

InputEncoder = Callable[[list[Any]], Any]


def _avro_envelope(values: list[Any]) -> Any:
    return serializer.envelope(values, codec="avro")


@dataclass
class ScheduleSpec:
    """When a schedule fires: cron expressions and/or ISO-8601 intervals, in a timezone."""

    cron_expressions: list[str] | None = None
    intervals: list[dict[str, str]] | None = None
    timezone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire object, without the fields left unset."""
        data: dict[str, Any] = {
            "cron_expressions": self.cron_expressions,
            "intervals": self.intervals,
            "timezone": self.timezone,
        }
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Any) -> ScheduleSpec | None:
        if not isinstance(data, dict):
            return None
        crons = data.get("cron_expressions")
        intervals = data.get("intervals")
        return cls(
            cron_expressions=[str(c) for c in crons] if isinstance(crons, list) else None,
            intervals=[dict(i) for i in intervals if isinstance(i, dict)]
            if isinstance(intervals, list)
            else None,
            timezone=as_str(data.get("timezone")),
        )


@dataclass
class ScheduleAction:
    """What a schedule starts: a workflow type on a queue, with its input and timeouts."""

    workflow_type: str
    task_queue: str | None = None
    input: list[Any] | None = None
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None

    def to_dict(self, *, input_encoder: InputEncoder | None = None) -> dict[str, Any]:
        """The wire object; ``input`` becomes an Avro envelope unless an encoder is given."""
        encode = input_encoder or _avro_envelope
        data: dict[str, Any] = {
            "workflow_type": self.workflow_type,
            "task_queue": self.task_queue,
            "input": encode(list(self.input)) if self.input is not None else None,
            "execution_timeout_seconds": self.execution_timeout_seconds,
            "run_timeout_seconds": self.run_timeout_seconds,
        }
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Any) -> ScheduleAction | None:
        if not isinstance(data, dict):
            return None
        raw_input = data.get("input")
        return cls(
            workflow_type=as_str(data.get("workflow_type")) or "",
            task_queue=as_str(data.get("task_queue")),
            input=list(raw_input) if isinstance(raw_input, list) else None,
            execution_timeout_seconds=as_int(data.get("execution_timeout_seconds")),
            run_timeout_seconds=as_int(data.get("run_timeout_seconds")),
        )


SpecArg = ScheduleSpec | Mapping[str, Any]
ActionArg = ScheduleAction | Mapping[str, Any]


def spec_to_wire(spec: SpecArg) -> dict[str, Any]:
    """A spec given as the dataclass or as a plain mapping (upstream accepts both)."""
    return spec.to_dict() if isinstance(spec, ScheduleSpec) else dict(spec)


def action_to_wire(
    action: ActionArg, *, input_encoder: InputEncoder | None = None
) -> dict[str, Any]:
    """An action as its wire object; a plain list ``input`` is wrapped in an Avro envelope."""
    if isinstance(action, ScheduleAction):
        return action.to_dict(input_encoder=input_encoder)
    data = dict(action)
    value = data.get("input")
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, Mapping)):
        data["input"] = (input_encoder or _avro_envelope)(list(value))
    return data


@dataclass
class ScheduleDescription:
    """One schedule with its spec, action, counters and fire times."""

    schedule_id: str | None = None
    status: str | None = None
    spec: ScheduleSpec | None = None
    action: ScheduleAction | None = None
    overlap_policy: str | None = None
    note: str | None = None
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None
    jitter_seconds: int | None = None
    max_runs: int | None = None
    remaining_actions: int | None = None
    fires_count: int = 0
    failures_count: int = 0
    next_fire_at: str | None = None
    last_fired_at: str | None = None
    latest_workflow_instance_id: str | None = None
    paused_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    info: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleDescription:
        memo, attrs, info = data.get("memo"), data.get("search_attributes"), data.get("info")
        return from_fields(
            cls,
            data,
            spec=ScheduleSpec.from_dict(data.get("spec")),
            action=ScheduleAction.from_dict(data.get("action")),
            memo=as_dict(memo) if memo is not None else None,
            search_attributes=as_dict(attrs) if attrs is not None else None,
            info=as_dict(info) if info is not None else None,
            fires_count=as_int(data.get("fires_count"), 0) or 0,
            failures_count=as_int(data.get("failures_count"), 0) or 0,
        )


@dataclass
class ScheduleList:
    schedules: list[ScheduleDescription] = field(default_factory=list)
    next_page_token: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleList:
        items = as_list(data.get("schedules"))
        return cls(
            schedules=[ScheduleDescription.from_dict(i) for i in items if isinstance(i, dict)],
            next_page_token=as_str(data.get("next_page_token")),
        )


@dataclass
class ScheduleTriggerResult:
    schedule_id: str | None = None
    outcome: str | None = None
    workflow_id: str | None = None
    run_id: str | None = None
    reason: str | None = None
    buffer_depth: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleTriggerResult:
        return from_fields(cls, data)


@dataclass
class ScheduleBackfillResult:
    schedule_id: str | None = None
    outcome: str | None = None
    fires_attempted: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleBackfillResult:
        return cls(
            schedule_id=as_str(data.get("schedule_id")),
            outcome=as_str(data.get("outcome")),
            fires_attempted=as_int(data.get("fires_attempted"), 0) or 0,
            results=[r for r in as_list(data.get("results")) if isinstance(r, dict)],
        )


@dataclass
class ScheduleHistoryEvent:
    sequence: int = 0
    event_type: str | None = None
    recorded_at: str | None = None
    workflow_instance_id: str | None = None
    workflow_run_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleHistoryEvent:
        return from_fields(
            cls,
            data,
            sequence=as_int(data.get("sequence"), 0) or 0,
            payload=as_dict(data.get("payload")),
        )


@dataclass
class ScheduleHistoryPage:
    schedule_id: str | None = None
    events: list[ScheduleHistoryEvent] = field(default_factory=list)
    has_more: bool = False
    next_cursor: int | None = None
    namespace: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleHistoryPage:
        items = as_list(data.get("events"))
        return cls(
            schedule_id=as_str(data.get("schedule_id")),
            events=[ScheduleHistoryEvent.from_dict(i) for i in items if isinstance(i, dict)],
            has_more=data.get("has_more") is True,
            next_cursor=as_int(data.get("next_cursor")),
            namespace=as_str(data.get("namespace")),
        )
