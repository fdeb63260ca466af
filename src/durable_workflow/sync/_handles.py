"""Blocking handles of ``durable_workflow.sync``: the async handles, run on the client's loop."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from durable_workflow.client._handles import (
    ScheduleHandle,
    StandaloneActivityHandle,
    WorkflowHandle,
)
from durable_workflow.client._results._activities import StandaloneActivityExecution
from durable_workflow.client._results._admin import WorkflowCommandResult
from durable_workflow.client._results._schedules import (
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleSpec,
    ScheduleTriggerResult,
)
from durable_workflow.client._results._workflows import (
    WorkflowExecution,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.sync._loop import LoopThread

__all__ = ["SyncScheduleHandle", "SyncStandaloneActivityHandle", "SyncWorkflowHandle"]


class SyncWorkflowHandle:
    """Blocking twin of ``WorkflowHandle``."""

    def __init__(self, handle: WorkflowHandle, loop: LoopThread) -> None:
        self._handle = handle
        self._loop = loop

    @property
    def workflow_id(self) -> str:
        return self._handle.workflow_id

    @property
    def run_id(self) -> str | None:
        return self._handle.run_id

    @property
    def workflow_type(self) -> str:
        return self._handle.workflow_type

    @property
    def async_handle(self) -> WorkflowHandle:
        """The async handle this one wraps."""
        return self._handle

    def __repr__(self) -> str:
        return repr(self._handle).replace("WorkflowHandle", "SyncWorkflowHandle", 1)

    def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        return self._loop.run(self._handle.result(poll_interval=poll_interval, timeout=timeout))

    def describe(self) -> WorkflowExecution:
        return self._loop.run(self._handle.describe())

    def get_history(self) -> dict[str, Any]:
        return self._loop.run(self._handle.get_history())

    def export_history(self) -> dict[str, Any]:
        return self._loop.run(self._handle.export_history())

    def list_runs(self) -> WorkflowRunList:
        return self._loop.run(self._handle.list_runs())

    def describe_run(self, run_id: str | None = None) -> WorkflowRun:
        return self._loop.run(self._handle.describe_run(run_id))

    def signal(self, signal_name: str, args: Sequence[Any] | None = None) -> None:
        self._loop.run(self._handle.signal(signal_name, args))

    def query(self, query_name: str, args: Sequence[Any] | None = None) -> dict[str, Any]:
        return self._loop.run(self._handle.query(query_name, args))

    def update(
        self,
        update_name: str,
        args: Sequence[Any] | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._handle.update(
                update_name,
                args,
                wait_for=wait_for,
                wait_timeout_seconds=wait_timeout_seconds,
                request_id=request_id,
            )
        )

    def cancel(self, *, reason: str | None = None) -> None:
        self._loop.run(self._handle.cancel(reason=reason))

    def terminate(self, *, reason: str | None = None) -> None:
        self._loop.run(self._handle.terminate(reason=reason))

    def repair(self) -> WorkflowCommandResult:
        return self._loop.run(self._handle.repair())

    def archive(self, *, reason: str | None = None) -> WorkflowCommandResult:
        return self._loop.run(self._handle.archive(reason=reason))


class SyncScheduleHandle:
    """Blocking twin of ``ScheduleHandle`` (with history, which upstream's lacked)."""

    def __init__(self, handle: ScheduleHandle, loop: LoopThread) -> None:
        self._handle = handle
        self._loop = loop

    @property
    def schedule_id(self) -> str:
        return self._handle.schedule_id

    def __repr__(self) -> str:
        return f"SyncScheduleHandle(schedule_id={self.schedule_id!r})"

    def describe(self) -> ScheduleDescription:
        return self._loop.run(self._handle.describe())

    def update(
        self,
        *,
        spec: ScheduleSpec | Mapping[str, Any] | None = None,
        action: ScheduleAction | Mapping[str, Any] | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        self._loop.run(
            self._handle.update(
                spec=spec,
                action=action,
                overlap_policy=overlap_policy,
                jitter_seconds=jitter_seconds,
                max_runs=max_runs,
                memo=memo,
                search_attributes=search_attributes,
                note=note,
            )
        )

    def pause(self, *, note: str | None = None) -> None:
        self._loop.run(self._handle.pause(note=note))

    def resume(self, *, note: str | None = None) -> None:
        self._loop.run(self._handle.resume(note=note))

    def trigger(self, *, overlap_policy: str | None = None) -> ScheduleTriggerResult:
        return self._loop.run(self._handle.trigger(overlap_policy=overlap_policy))

    def delete(self) -> None:
        self._loop.run(self._handle.delete())

    def backfill(
        self, *, start_time: str, end_time: str, overlap_policy: str | None = None
    ) -> ScheduleBackfillResult:
        return self._loop.run(
            self._handle.backfill(
                start_time=start_time, end_time=end_time, overlap_policy=overlap_policy
            )
        )

    def history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        return self._loop.run(self._handle.history(limit=limit, after_sequence=after_sequence))

    def iter_history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> Iterator[ScheduleHistoryEvent]:
        return self._loop.iterate(
            self._handle.iter_history(limit=limit, after_sequence=after_sequence)
        )


class SyncStandaloneActivityHandle:
    """Blocking twin of ``StandaloneActivityHandle``."""

    def __init__(self, handle: StandaloneActivityHandle, loop: LoopThread) -> None:
        self._handle = handle
        self._loop = loop

    @property
    def activity_id(self) -> str:
        return self._handle.activity_id

    @property
    def workflow_run_id(self) -> str | None:
        return self._handle.workflow_run_id

    @property
    def activity_execution_id(self) -> str | None:
        return self._handle.activity_execution_id

    @property
    def async_handle(self) -> StandaloneActivityHandle:
        return self._handle

    def describe(self) -> StandaloneActivityExecution:
        return self._loop.run(self._handle.describe())

    def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        return self._loop.run(self._handle.result(poll_interval=poll_interval, timeout=timeout))

    def cancel(self, *, reason: str | None = None) -> None:
        self._loop.run(self._handle.cancel(reason=reason))
