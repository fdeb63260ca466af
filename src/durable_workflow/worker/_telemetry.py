"""Worker-side metrics: one place that knows the poll and task metric names and tags."""

from __future__ import annotations

from durable_workflow.metrics import (
    NOOP_METRICS,
    WORKER_POLL_DURATION_SECONDS,
    WORKER_POLLS,
    WORKER_TASK_DURATION_SECONDS,
    WORKER_TASKS,
    MetricsRecorder,
)

__all__ = ["WorkerTelemetry"]


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

    def _emit(self, counter: str, histogram: str, kind: str, outcome: str, duration: float) -> None:
        tags = {"task_kind": kind, "task_queue": self.task_queue, "outcome": outcome}
        try:
            self.recorder.increment(counter, 1.0, tags)
            self.recorder.record(histogram, duration, tags)
        except Exception:  # metrics are best effort
            return
