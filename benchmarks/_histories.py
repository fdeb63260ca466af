"""Synthetic histories shared by the benchmarks: N sequential activities."""

from __future__ import annotations

from typing import Any

from durable_workflow import serializer, workflow


@workflow.defn(name="bench.sequential")
class Sequential:
    """Runs ``n`` activities one after the other and sums their results."""

    def run(self, ctx: workflow.WorkflowContext, n: int) -> Any:
        total = 0
        for i in range(n):
            total += yield ctx.schedule_activity("bench.step", [i])
        return total


def _event(history: list[dict[str, Any]], event_type: str, **payload: Any) -> None:
    number = len(history) + 1
    history.append(
        {
            "id": f"e{number}",
            "sequence": number,
            "event_type": event_type,
            "payload": payload,
            "recorded_at": "2026-01-01T00:00:00Z",
        }
    )


def started() -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = []
    _event(history, "WorkflowStarted", workflow_type="bench.sequential")
    return history


def append_activity(history: list[dict[str, Any]], step: int) -> None:
    """Record activity ``step`` (0-based) as scheduled and completed with result ``step``."""
    common = {
        "activity_execution_id": f"act-{step}",
        "activity_type": "bench.step",
        "sequence": step + 1,
    }
    _event(history, "ActivityScheduled", **common)
    _event(
        history,
        "ActivityCompleted",
        **common,
        result=serializer.envelope(step, serializer.JSON_CODEC),
    )


def sequential_history(n: int) -> list[dict[str, Any]]:
    """A complete history of :class:`Sequential` with ``n`` activities."""
    history = started()
    for step in range(n):
        append_activity(history, step)
    return history
