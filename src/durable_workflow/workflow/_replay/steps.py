"""The step index: history grouped into workflow steps, in the order the code yields them.

A *step* is one yielded command and everything history recorded about it:
its scheduling event (``ActivityScheduled``, ``TimerScheduled``,
``ChildWorkflowScheduled``, ``ConditionWaitOpened`` — absent in the upstream
golden fixtures) and its resolution. Resolutions are correlated with their
scheduled step by ``activity_execution_id`` / ``timer_id`` / ``child_call_id`` /
``condition_wait_id`` and then by the step ``sequence``; a resolution with no
scheduled step becomes a new step of its own, in history order (what upstream
does for every resolution). So parallel results land on the step of the
command that scheduled them, whatever order they completed in.

Signals and applied updates are *receivers*, each pinned to the first step
that was still unresolved when it was recorded: that is where the workflow
was blocked when it first saw the message, so replay delivers it there again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.workflow._replay.history import Event

__all__ = [
    "Receiver",
    "Resolution",
    "Step",
    "StepIndex",
    "StepIndexBuilder",
    "StepKind",
    "build_step_index",
]


class StepKind(enum.Enum):
    ACTIVITY = "activity"
    TIMER = "timer"
    CHILD = "child workflow"
    SIDE_EFFECT = "side effect"
    VERSION_MARKER = "version marker"
    SEARCH_ATTRIBUTES = "search attributes upsert"
    CONDITION_WAIT = "condition wait"


class Resolution(enum.Enum):
    PENDING = "pending"
    VALUE = "value"
    FAILURE = "failure"
    SATISFIED = "satisfied"
    TIMED_OUT = "timed_out"


@dataclass(slots=True)
class Step:
    """One workflow step as recorded in history."""

    kind: StepKind
    position: int
    sequence: int | None = None
    scheduled: bool = False
    resolution: Resolution = Resolution.PENDING
    resolved_by: Event | None = None
    events: list[Event] = field(default_factory=list)
    recorded_type: str | None = None  # activity type, child workflow type or change id
    condition_key: str | None = None
    fingerprint: str | None = None
    wait_ids: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)  # correlation key -> value
    # A wait the workflow moved past without a recorded resolution (its
    # predicate held); later messages are no longer pinned to it.
    passed: bool = False

    @property
    def resolved(self) -> bool:
        return self.resolution is not Resolution.PENDING

    @property
    def number(self) -> int:
        """The step number to report: the recorded ``sequence``, else 1-based position."""
        return self.sequence if self.sequence is not None else self.position + 1

    def event_types(self) -> list[str]:
        return [event.event_type for event in self.events]


@dataclass(frozen=True)
class Receiver:
    """A signal or applied update, delivered before the step at ``step_position`` resumes."""

    kind: str  # "signal" | "update"
    name: str
    event: Event
    step_position: int


@dataclass
class StepIndex:
    """Everything the driver needs from history, computed in one pass."""

    steps: list[Step] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)
    start_time: Any = None
    workflow_type: str | None = None
    start_events: list[Event] = field(default_factory=list)
    update_accepted: dict[str, Event] = field(default_factory=dict)


_ACTIVITY_RESOLUTIONS = {
    "ActivityCompleted": Resolution.VALUE,
    "ActivityFailed": Resolution.FAILURE,
    "ActivityTimedOut": Resolution.FAILURE,
}
_CHILD_RESOLUTIONS = {
    "ChildRunCompleted": Resolution.VALUE,
    "ChildRunFailed": Resolution.FAILURE,
    "ChildRunCancelled": Resolution.FAILURE,
    "ChildRunTerminated": Resolution.FAILURE,
}
_CONDITION_TIMER_KINDS = ("condition_timeout", "signal_timeout")


class StepIndexBuilder:
    """Builds a :class:`StepIndex` as a left fold over events, so it can grow later.

    Adding events one batch at a time yields exactly the index one pass over
    the concatenation would (the sticky cache relies on this). ``touched_min``
    is the lowest step position any event added since :meth:`reset_touched`
    changed, so a resumed instance can tell whether history rewrote a step it
    already consumed.
    """

    def __init__(self) -> None:
        self.index = StepIndex()
        self._by_key: dict[tuple[StepKind, str, str], Step] = {}
        self._first_unresolved = 0
        self._start_rank = 0
        self._first_recorded_at: Any = None
        self._seen_any = False
        self.touched_min: int | None = None

    def reset_touched(self) -> None:
        self.touched_min = None

    def _touch(self, step: Step, event: Event) -> None:
        step.events.append(event)
        if self.touched_min is None or step.position < self.touched_min:
            self.touched_min = step.position

    def add_all(self, events: list[Event]) -> StepIndex:
        """Fold ``events`` in; returns the (same, grown) index."""
        for event in events:
            self.add(event)
        return self.finish()

    def finish(self) -> StepIndex:
        """Apply the start-time fallback: the first event's timestamp."""
        if self.index.start_time is None:
            self.index.start_time = self._first_recorded_at
        return self.index

    # -- step bookkeeping -------------------------------------------------
    def _new(self, kind: StepKind, event: Event) -> Step:
        steps = self.index.steps
        if steps and steps[-1].kind is StepKind.CONDITION_WAIT and not steps[-1].resolved:
            steps[-1].passed = True
        step = Step(kind=kind, position=len(self.index.steps), sequence=event.step_sequence())
        self.index.steps.append(step)
        return step

    def _remember(self, step: Step, event: Event, keys: tuple[str, ...]) -> None:
        if step.sequence is None:
            step.sequence = event.step_sequence()
        if step.sequence is not None:
            self._by_key[(step.kind, "sequence", str(step.sequence))] = step
        for key in keys:
            value = event.text(key)
            if value is not None:
                self._by_key[(step.kind, key, value)] = step
                step.ids.setdefault(key, value)

    def _find(self, kind: StepKind, event: Event, keys: tuple[str, ...]) -> Step | None:
        for key in keys:
            value = event.text(key)
            if value is not None and (kind, key, value) in self._by_key:
                return self._by_key[(kind, key, value)]
        sequence = event.step_sequence()
        if sequence is None:
            return None
        step = self._by_key.get((kind, "sequence", str(sequence)))
        if step is not None and any(
            event.text(key) is not None and step.ids.get(key) not in (None, event.text(key))
            for key in keys
        ):
            return None  # same step number, but another execution: not this step
        return step

    def _step_for(self, kind: StepKind, event: Event, keys: tuple[str, ...]) -> Step:
        step = self._find(kind, event, keys)
        if step is None or (step.resolved and not step.scheduled):
            step = self._new(kind, event)
        self._touch(step, event)
        self._remember(step, event, keys)
        return step

    def _schedule(self, kind: StepKind, event: Event, keys: tuple[str, ...]) -> Step:
        step = self._step_for(kind, event, keys)
        step.scheduled = True
        return step

    def _resolve(self, step: Step, resolution: Resolution, event: Event) -> None:
        if not step.resolved:
            step.resolution = resolution
            step.resolved_by = event

    def _receiver_position(self) -> int:
        steps = self.index.steps
        while self._first_unresolved < len(steps) and (
            steps[self._first_unresolved].resolved or steps[self._first_unresolved].passed
        ):
            self._first_unresolved += 1
        return self._first_unresolved

    # -- per-family handlers ---------------------------------------------
    def add(self, event: Event) -> None:
        if not self._seen_any:
            self._seen_any = True
            self._first_recorded_at = event.recorded_at
        kind = event.event_type
        if kind in ("WorkflowStarted", "StartAccepted"):
            self._start(event)
        elif kind in ("ActivityScheduled", "ActivityStarted"):
            step = self._schedule(StepKind.ACTIVITY, event, ("activity_execution_id",))
            step.recorded_type = step.recorded_type or event.text("activity_type")
        elif kind in _ACTIVITY_RESOLUTIONS:
            step = self._step_for(StepKind.ACTIVITY, event, ("activity_execution_id",))
            step.recorded_type = step.recorded_type or event.text("activity_type")
            self._resolve(step, _ACTIVITY_RESOLUTIONS[kind], event)
        elif kind in ("TimerScheduled", "TimerFired"):
            self._timer(event)
        elif kind in ("ChildWorkflowScheduled", "ChildRunStarted"):
            step = self._schedule(StepKind.CHILD, event, ("child_call_id",))
            step.recorded_type = step.recorded_type or _child_type(event)
        elif kind in _CHILD_RESOLUTIONS:
            step = self._step_for(StepKind.CHILD, event, ("child_call_id",))
            step.recorded_type = step.recorded_type or _child_type(event)
            self._resolve(step, _CHILD_RESOLUTIONS[kind], event)
        elif kind == "SideEffectRecorded":
            self._immediate(StepKind.SIDE_EFFECT, event)
        elif kind == "VersionMarkerRecorded":
            self._immediate(StepKind.VERSION_MARKER, event).recorded_type = event.text("change_id")
        elif kind == "SearchAttributesUpserted":
            self._immediate(StepKind.SEARCH_ATTRIBUTES, event)
        elif kind == "ConditionWaitOpened":
            self._wait_opened(event)
        elif kind in ("ConditionWaitSatisfied", "ConditionWaitTimedOut"):
            self._wait_resolved(event, kind == "ConditionWaitSatisfied")
        elif kind in ("SignalReceived", "UpdateApplied"):
            self._receiver(event, "signal" if kind == "SignalReceived" else "update")
        elif kind == "UpdateAccepted":
            update_id = event.text("update_id")
            if update_id is not None:
                self.index.update_accepted[update_id] = event

    def _start(self, event: Event) -> None:
        index = self.index
        index.start_events.append(event)
        index.workflow_type = index.workflow_type or event.text("workflow_type")
        # Priority: WorkflowStarted.payload.timestamp, its recorded_at, StartAccepted's.
        candidates = (
            (3, event.get("timestamp")) if event.event_type == "WorkflowStarted" else (0, None),
            (2 if event.event_type == "WorkflowStarted" else 1, event.recorded_at),
        )
        for rank, stamp in candidates:
            if stamp and rank > self._start_rank:
                index.start_time, self._start_rank = stamp, rank

    def _immediate(self, kind: StepKind, event: Event) -> Step:
        step = self._new(kind, event)
        self._touch(step, event)
        step.scheduled = True
        self._resolve(step, Resolution.VALUE, event)
        return step

    def _timer(self, event: Event) -> None:
        timer_kind = event.text("timer_kind")
        if timer_kind in _CONDITION_TIMER_KINDS:
            if event.event_type == "TimerFired" and timer_kind == "condition_timeout":
                wait = self._wait_by_id(event)
                if wait is not None:
                    self._touch(wait, event)
                    self._resolve(wait, Resolution.TIMED_OUT, event)
            return
        if event.event_type == "TimerScheduled":
            self._schedule(StepKind.TIMER, event, ("timer_id",))
        else:
            step = self._step_for(StepKind.TIMER, event, ("timer_id",))
            self._resolve(step, Resolution.VALUE, event)

    def _wait_by_id(self, event: Event) -> Step | None:
        wait_id = event.text("condition_wait_id")
        if wait_id is not None:
            return self._by_key.get((StepKind.CONDITION_WAIT, "condition_wait_id", wait_id))
        return None

    def _wait_opened(self, event: Event) -> None:
        key = event.text("condition_key")
        fingerprint = event.text("condition_definition_fingerprint")
        steps = self.index.steps
        last = steps[-1] if steps else None
        if (
            last is not None
            and last.kind is StepKind.CONDITION_WAIT
            and not last.resolved
            and last.condition_key == key
            and last.fingerprint == fingerprint
        ):
            step = last  # the same logical wait, re-opened after a non-satisfying message
        else:
            step = self._new(StepKind.CONDITION_WAIT, event)
            step.condition_key, step.fingerprint = key, fingerprint
        step.scheduled = True
        self._touch(step, event)
        wait_id = event.text("condition_wait_id")
        if wait_id is not None:
            step.wait_ids.add(wait_id)
            self._by_key[(StepKind.CONDITION_WAIT, "condition_wait_id", wait_id)] = step

    def _wait_resolved(self, event: Event, satisfied: bool) -> None:
        wait = self._wait_by_id(event)
        if wait is None:
            # No id to match: the latest open wait is the one that resolved.
            open_waits = [
                s for s in self.index.steps if s.kind is StepKind.CONDITION_WAIT and not s.resolved
            ]
            wait = open_waits[-1] if open_waits else None
        if wait is None:
            return
        self._touch(wait, event)
        self._resolve(wait, Resolution.SATISFIED if satisfied else Resolution.TIMED_OUT, event)

    def _receiver(self, event: Event, kind: str) -> None:
        name = event.text("signal_name" if kind == "signal" else "update_name")
        if name is None:
            return
        self.index.receivers.append(Receiver(kind, name, event, self._receiver_position()))


def _child_type(event: Event) -> str | None:
    return event.text("child_workflow_type") or event.text("workflow_type")


def build_step_index(events: list[Event]) -> StepIndex:
    """Group ``events`` into steps and receivers (one linear pass)."""
    return StepIndexBuilder().add_all(events)
