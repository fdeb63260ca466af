"""A run's history as lanes on a time axis: one per activity, timer, child and update.

Each lane runs from its scheduling event to its closing event (or to the end of
the axis while open); activity lanes hold one segment per attempt, child lanes
one per child run. Signals are points on a lane of their own. Positions are
percentages of the axis, so the template only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from durable_workflow.server.store.timefmt import parse

_ACTIVITY_CLOSE = {
    "ActivityCompleted": "completed",
    "ActivityFailed": "failed",
    "ActivityTimedOut": "timed_out",
    "ActivityCancelled": "cancelled",
}
_TIMER_CLOSE = {"TimerFired": "fired", "TimerCancelled": "cancelled"}
_CHILD_CLOSE = {
    "ChildRunCompleted": "completed",
    "ChildRunFailed": "failed",
    "ChildRunCancelled": "cancelled",
    "ChildRunTerminated": "terminated",
}


@dataclass
class Segment:
    start: datetime
    end: datetime | None
    label: str
    status: str
    left: float = 0.0
    width: float = 0.0


@dataclass
class Lane:
    kind: str
    key: str
    label: str
    start: datetime
    end: datetime | None = None
    status: str = "open"
    detail: str = ""
    segments: list[Segment] = field(default_factory=list)
    left: float = 0.0
    width: float = 0.0

    def open_segment(self) -> Segment | None:
        last = self.segments[-1] if self.segments else None
        return last if last is not None and last.end is None else None


@dataclass
class Timeline:
    start: datetime | None
    end: datetime | None
    lanes: list[Lane]

    @property
    def span_seconds(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return (self.end - self.start).total_seconds()


def _message(payload: dict[str, Any]) -> str:
    message = payload.get("message")
    if isinstance(message, str) and message:
        return message
    exception = payload.get("exception")
    if isinstance(exception, dict) and isinstance(exception.get("message"), str):
        return str(exception["message"])
    return str(payload.get("timeout_kind") or "")


class _Builder:
    def __init__(self) -> None:
        self.lanes: dict[tuple[str, str], Lane] = {}
        self.signals: Lane | None = None

    def lane(self, kind: str, key: Any, label: str, at: datetime) -> Lane:
        found = self.lanes.get((kind, str(key)))
        if found is None:
            found = self.lanes[(kind, str(key))] = Lane(kind, str(key), label, at)
        return found

    def close(self, lane: Lane, at: datetime, status: str, detail: str = "") -> None:
        segment = lane.open_segment()
        if segment is not None:
            segment.end, segment.status = at, status
            if detail:
                segment.label += f": {detail}"
        lane.end, lane.status = at, status
        lane.detail = detail or lane.detail

    def add(self, event: dict[str, Any]) -> None:
        kind, at = event["event_type"], parse(event["timestamp"])
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        assert isinstance(payload, dict)
        if kind.startswith("Activity") and payload.get("activity_execution_id"):
            self._activity(kind, at, payload)
        elif kind.startswith("Timer") and payload.get("timer_id"):
            self._timer(kind, at, payload)
        elif kind.startswith("Child") and payload.get("child_call_id"):
            self._child(kind, at, payload)
        elif kind.startswith("Update") and payload.get("update_id"):
            self._update(kind, at, payload)
        elif kind == "SignalReceived":
            if self.signals is None:
                self.signals = Lane("signal", "signals", "signals", at, status="points")
            name = str(payload.get("signal_name") or "signal")
            self.signals.segments.append(Segment(at, at, name, "point"))

    def _activity(self, kind: str, at: datetime, payload: dict[str, Any]) -> None:
        label = f"{payload.get('activity_type') or 'activity'} #{payload.get('sequence', '?')}"
        lane = self.lane("activity", payload["activity_execution_id"], label, at)
        if kind == "ActivityStarted":
            number = payload.get("attempt_number")
            lane.segments.append(Segment(at, None, f"attempt {number}", "running"))
            lane.status = "running"
        elif kind == "ActivityRetryScheduled":
            segment = lane.open_segment()
            if segment is not None:
                segment.end, segment.status = at, "retried"
                segment.label += f": {_message(payload)}"
            lane.status = "retrying"
        elif kind in _ACTIVITY_CLOSE:
            self.close(lane, at, _ACTIVITY_CLOSE[kind], _message(payload))

    def _timer(self, kind: str, at: datetime, payload: dict[str, Any]) -> None:
        what = "condition timeout" if payload.get("timer_kind") else "timer"
        label = f"{what} {payload.get('delay_seconds', '?')}s #{payload.get('sequence', '?')}"
        lane = self.lane("timer", payload["timer_id"], label, at)
        if kind in _TIMER_CLOSE:
            self.close(lane, at, _TIMER_CLOSE[kind])

    def _child(self, kind: str, at: datetime, payload: dict[str, Any]) -> None:
        child_type = payload.get("child_workflow_type") or "child"
        label = f"{child_type} ({payload.get('child_workflow_instance_id')})"
        lane = self.lane("child", payload["child_call_id"], label, at)
        if kind == "ChildRunStarted":
            if lane.open_segment() is not None:
                self.close(lane, at, "retried")
            number = payload.get("child_run_number")
            lane.segments.append(Segment(at, None, f"run {number}", "running"))
            lane.status, lane.end = "running", None
        elif kind in _CHILD_CLOSE:
            self.close(lane, at, _CHILD_CLOSE[kind], _message(payload))

    def _update(self, kind: str, at: datetime, payload: dict[str, Any]) -> None:
        lane = self.lane("update", payload["update_id"], f"update {payload.get('update_name')}", at)
        if kind == "UpdateRejected":
            self.close(lane, at, "rejected", _message(payload))
        elif kind == "UpdateCompleted":
            failed = bool(payload.get("failure_id"))
            self.close(lane, at, "failed" if failed else "completed", _message(payload))


def _place(
    start: datetime, end: datetime | None, t0: datetime, span: float, t1: datetime
) -> tuple[float, float]:
    left = (start - t0).total_seconds() / span * 100
    right = ((end or t1) - t0).total_seconds() / span * 100
    return round(left, 3), round(max(right - left, 0.4), 3)


def build(events: list[dict[str, Any]], now: datetime, run_open: bool) -> Timeline:
    """Lanes from control-plane events; an open run's axis ends ``now``."""
    builder = _Builder()
    for event in events:
        builder.add(event)
    lanes = list(builder.lanes.values())
    if builder.signals is not None:
        lanes.append(builder.signals)
    if not events:
        return Timeline(None, None, lanes)
    t0 = parse(events[0]["timestamp"])
    t1 = max(now, parse(events[-1]["timestamp"])) if run_open else parse(events[-1]["timestamp"])
    span = max((t1 - t0).total_seconds(), 0.001)
    for lane in lanes:
        lane.left, lane.width = _place(lane.start, lane.end, t0, span, t1)
        for segment in lane.segments:
            segment.left, segment.width = _place(segment.start, segment.end, t0, span, t1)
    return Timeline(t0, t1, lanes)
