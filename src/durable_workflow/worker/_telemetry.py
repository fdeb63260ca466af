"""Worker-side metrics: one place that knows the poll and task metric names and tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from durable_workflow.metrics import (
    NOOP_METRICS,
    WORKER_POLL_DURATION_SECONDS,
    WORKER_POLLS,
    WORKER_STICKY_CACHE_EVICTIONS,
    WORKER_STICKY_CACHE_HITS,
    WORKER_STICKY_CACHE_MISSES,
    WORKER_TASK_DURATION_SECONDS,
    WORKER_TASK_FAILURES,
    WORKER_TASK_SCHEDULE_TO_START_SECONDS,
    WORKER_TASKS,
    MetricsRecorder,
    record_payload_size,
)

__all__ = ["WorkerTelemetry", "activity_scheduled_at", "parse_time"]


class WorkerTelemetry:
    """Records polls and task outcomes of one worker (sdk-surface.md §10 tags).

    A recorder that raises must never break a task, so failures are swallowed.
    """

    def __init__(self, recorder: MetricsRecorder | None, task_queue: str) -> None:
        self.recorder: MetricsRecorder = recorder if recorder is not None else NOOP_METRICS
        self.task_queue = task_queue

    def poll(self, task_kind: str, outcome: str, duration: float) -> None:
        """One long poll: ``outcome`` is ``task``, ``empty`` or ``error``."""
        self._emit(WORKER_POLLS, WORKER_POLL_DURATION_SECONDS, task_kind, outcome, duration)

    def task(self, task_kind: str, outcome: str, duration: float) -> None:
        """One handled task with its outcome (``completed``, ``failed``, ...)."""
        self._emit(WORKER_TASKS, WORKER_TASK_DURATION_SECONDS, task_kind, outcome, duration)

    def scheduled_at(self, task_kind: str, scheduled: datetime | None) -> None:
        """Schedule-to-start latency: from when the task became due to now (when known)."""
        if scheduled is None:
            return
        waited = (datetime.now(timezone.utc) - scheduled).total_seconds()
        tags = {"task_kind": task_kind, "task_queue": self.task_queue}
        name = WORKER_TASK_SCHEDULE_TO_START_SECONDS
        self._safely(lambda: self.recorder.record(name, max(waited, 0.0), tags))

    def failure(self, task_kind: str, failure_type: str) -> None:
        """One task failure reported to the server, by exception type."""
        tags = {"task_kind": task_kind, "task_queue": self.task_queue, "failure_type": failure_type}
        self._safely(lambda: self.recorder.increment(WORKER_TASK_FAILURES, 1.0, tags))

    def sticky_cache(self, hits: int, misses: int, evictions: int) -> None:
        """Sticky-cache outcomes of one workflow task (a full-replay fallback is a miss)."""
        tags = {"task_queue": self.task_queue}
        for name, count in (
            (WORKER_STICKY_CACHE_HITS, hits),
            (WORKER_STICKY_CACHE_MISSES, misses),
            (WORKER_STICKY_CACHE_EVICTIONS, evictions),
        ):
            if count:
                self._safely(lambda n=name, c=count: self.recorder.increment(n, float(c), tags))

    def payload_received(self, kind: str, payload: Any) -> None:
        """Size of a payload this worker received (start or activity arguments)."""
        record_payload_size(self.recorder, payload, direction="received", kind=kind)

    def commands_sent(self, commands: list[dict[str, Any]]) -> None:
        """Sizes of the payloads in a workflow task's commands (results, arguments)."""
        for command in commands:
            kind = str(command.get("type") or "command")
            for key in ("arguments", "result"):
                if command.get(key) is not None:
                    record_payload_size(self.recorder, command[key], direction="sent", kind=kind)

    @staticmethod
    def _safely(emit: Any) -> None:
        try:
            emit()
        except Exception:  # metrics are best effort
            return

    def _emit(self, counter: str, histogram: str, kind: str, outcome: str, duration: float) -> None:
        tags = {"task_kind": kind, "task_queue": self.task_queue, "outcome": outcome}
        try:
            self.recorder.increment(counter, 1.0, tags)
            self.recorder.record(histogram, duration, tags)
        except Exception:  # metrics are best effort
            return


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 server timestamp (``...Z`` or ``+00:00``) as an aware datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def activity_scheduled_at(task: Mapping[str, Any]) -> datetime | None:
    """When an activity was scheduled: a deadline minus its timeout (the task has no field
    for it), so only known for activities with a schedule-to-start or -close timeout."""
    deadlines = task.get("deadlines")
    policy = task.get("retry_policy")
    if not isinstance(deadlines, Mapping) or not isinstance(policy, Mapping):
        return None
    for name in ("schedule_to_start", "schedule_to_close"):
        deadline = parse_time(deadlines.get(name))
        timeout = policy.get(f"{name}_timeout")
        if deadline is not None and isinstance(timeout, int) and not isinstance(timeout, bool):
            return deadline - timedelta(seconds=timeout)
    return None
