"""Handles: a workflow, a schedule or a standalone activity, bound to its ``Client``.

A handle sends nothing until used; each method calls the ``Client`` method of
the same concern with the handle's id. Kept apart from the client so each
method family can build handles without importing the whole client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from durable_workflow.client import _client
from durable_workflow.client._results import (
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleTriggerResult,
    StandaloneActivityExecution,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.client._results._schedule_args import ActionArg, SpecArg

__all__ = ["ScheduleHandle", "StandaloneActivityHandle", "WorkflowHandle"]


class WorkflowHandle:
    """A reference to one workflow (and optionally one of its runs); no I/O until used."""

    def __init__(
        self,
        client: _client.Client,
        workflow_id: str,
        run_id: str | None = None,
        workflow_type: str = "",
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type

    def __repr__(self) -> str:
        return (
            f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, "
            f"workflow_type={self.workflow_type!r})"
        )

    def _require_run(self, what: str, purpose: str) -> str:
        if not self.run_id:
            raise ValueError(
                f"run_id is required to {purpose} from a handle "
                f"({what}() needs a run_id on the handle)"
            )
        return self.run_id

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        """Wait for the workflow's final result (see ``Client.get_result``)."""
        return await self.client.get_result(self, poll_interval=poll_interval, timeout=timeout)

    async def describe(self) -> WorkflowExecution:
        return await self.client.describe_workflow(self.workflow_id)

    async def get_history(self) -> dict[str, Any]:
        return await self.client.get_history(
            self.workflow_id, self._require_run("get_history", "fetch workflow history")
        )

    async def export_history(self) -> dict[str, Any]:
        run_id = self._require_run("export_history", "export workflow history")
        return await self.client.export_history(self.workflow_id, run_id)

    async def list_runs(self) -> WorkflowRunList:
        return await self.client.list_workflow_runs(self.workflow_id)

    async def describe_run(self, run_id: str | None = None) -> WorkflowRun:
        target = run_id or self.run_id
        if not target:
            raise ValueError(
                "run_id is required to describe a workflow run from a handle "
                "(describe_run() needs a run_id, as argument or on the handle)"
            )
        return await self.client.describe_workflow_run(self.workflow_id, target)

    async def signal(self, signal_name: str, args: Sequence[Any] | None = None) -> None:
        await self.client.signal_workflow(self.workflow_id, signal_name, args=args)

    async def query(self, query_name: str, args: Sequence[Any] | None = None) -> dict[str, Any]:
        return await self.client.query_workflow(self.workflow_id, query_name, args=args)

    async def update(
        self,
        update_name: str,
        args: Sequence[Any] | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return await self.client.update_workflow(
            self.workflow_id,
            update_name,
            args=args,
            wait_for=wait_for,
            wait_timeout_seconds=wait_timeout_seconds,
            request_id=request_id,
        )

    async def cancel(self, *, reason: str | None = None) -> None:
        await self.client.cancel_workflow(self.workflow_id, reason=reason)

    async def terminate(self, *, reason: str | None = None) -> None:
        await self.client.terminate_workflow(self.workflow_id, reason=reason)

    async def repair(self) -> WorkflowCommandResult:
        return await self.client.repair_workflow(self.workflow_id)

    async def archive(self, *, reason: str | None = None) -> WorkflowCommandResult:
        return await self.client.archive_workflow(self.workflow_id, reason=reason)


class ScheduleHandle:
    """A reference to one schedule; methods delegate to the ``Client``."""

    def __init__(self, client: _client.Client, schedule_id: str) -> None:
        self.client = client
        self.schedule_id = schedule_id

    def __repr__(self) -> str:
        return f"ScheduleHandle(schedule_id={self.schedule_id!r})"

    async def describe(self) -> ScheduleDescription:
        return await self.client.describe_schedule(self.schedule_id)

    async def update(
        self,
        *,
        spec: SpecArg | None = None,
        action: ActionArg | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        await self.client.update_schedule(
            self.schedule_id,
            spec=spec,
            action=action,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter_seconds,
            max_runs=max_runs,
            memo=memo,
            search_attributes=search_attributes,
            note=note,
        )

    async def pause(self, *, note: str | None = None) -> None:
        await self.client.pause_schedule(self.schedule_id, note=note)

    async def resume(self, *, note: str | None = None) -> None:
        await self.client.resume_schedule(self.schedule_id, note=note)

    async def trigger(self, *, overlap_policy: str | None = None) -> ScheduleTriggerResult:
        return await self.client.trigger_schedule(self.schedule_id, overlap_policy=overlap_policy)

    async def delete(self) -> None:
        await self.client.delete_schedule(self.schedule_id)

    async def backfill(
        self, *, start_time: str, end_time: str, overlap_policy: str | None = None
    ) -> ScheduleBackfillResult:
        return await self.client.backfill_schedule(
            self.schedule_id,
            start_time=start_time,
            end_time=end_time,
            overlap_policy=overlap_policy,
        )

    async def history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        return await self.client.get_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        )

    def iter_history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> AsyncIterator[ScheduleHistoryEvent]:
        return self.client.iter_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        )


class StandaloneActivityHandle:
    """A reference to one standalone activity; methods delegate to the ``Client``."""

    def __init__(
        self,
        client: _client.Client,
        activity_id: str,
        *,
        workflow_run_id: str | None = None,
        activity_execution_id: str | None = None,
        workflow_type: str = "",
        activity_type: str = "",
    ) -> None:
        self.client = client
        self.activity_id = activity_id
        self.workflow_run_id = workflow_run_id
        self.activity_execution_id = activity_execution_id
        self.workflow_type = workflow_type
        self.activity_type = activity_type

    def __repr__(self) -> str:
        return f"StandaloneActivityHandle(activity_id={self.activity_id!r})"

    async def describe(self) -> StandaloneActivityExecution:
        return await self.client.describe_activity(self.activity_id)

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        return await self.client.get_activity_result(
            self, poll_interval=poll_interval, timeout=timeout
        )

    async def cancel(self, *, reason: str | None = None) -> None:
        """Cancel the activity by cancelling its host workflow (same id)."""
        await self.client.cancel_workflow(self.activity_id, reason=reason)
