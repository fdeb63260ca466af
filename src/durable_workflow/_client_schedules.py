"""Schedules: create/list/describe/update/pause/resume/trigger/backfill/delete/history.

``ScheduleHandle`` binds a schedule id to these calls. ``spec`` and ``action``
accept upstream's dataclasses or plain mappings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from durable_workflow._client_base import ClientBase, compact, require_dict
from durable_workflow._client_parse import as_str
from durable_workflow._client_results_schedules import (
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleList,
    ScheduleSpec,
    ScheduleTriggerResult,
    action_to_wire,
    spec_to_wire,
)

if TYPE_CHECKING:
    from durable_workflow.client import Client

__all__ = ["ScheduleHandle", "SchedulesMixin"]

SpecArg = ScheduleSpec | Mapping[str, Any]
ActionArg = ScheduleAction | Mapping[str, Any]


def _id(schedule_id: str) -> dict[str, str]:
    return {"scheduleId": schedule_id}


class ScheduleHandle:
    """A reference to one schedule; methods delegate to the ``Client``."""

    def __init__(self, client: Client, schedule_id: str) -> None:
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


class SchedulesMixin(ClientBase):
    """The schedule family of the control plane."""

    def _schedule_input_encoder(
        self, action: ActionArg, schedule_id: str | None
    ) -> Callable[[list[Any]], Any]:
        """Encodes a schedule action's input with its size warning context and limit check."""
        workflow_type: str | None
        if isinstance(action, ScheduleAction):
            workflow_type, task_queue = action.workflow_type, action.task_queue
        else:
            workflow_type = as_str(action.get("workflow_type"))
            task_queue = as_str(action.get("task_queue"))
        context = self._payload_context(
            "schedule_input",
            workflow_type=workflow_type,
            schedule_id=schedule_id,
            task_queue=task_queue,
        )
        return lambda values: self._envelope(values, context=context, field="action.input")

    def get_schedule_handle(self, schedule_id: str) -> ScheduleHandle:
        """A handle for an existing schedule (no request is sent)."""
        return ScheduleHandle(cast("Client", self), schedule_id)

    async def create_schedule(
        self,
        *,
        schedule_id: str | None = None,
        spec: SpecArg,
        action: ActionArg,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        paused: bool = False,
        note: str | None = None,
    ) -> ScheduleHandle:
        """Create a schedule; the server picks an id when ``schedule_id`` is None."""
        body = compact(
            {
                "schedule_id": schedule_id,
                "spec": spec_to_wire(spec),
                "action": action_to_wire(
                    action, input_encoder=self._schedule_input_encoder(action, schedule_id)
                ),
                "overlap_policy": overlap_policy,
                "jitter_seconds": jitter_seconds,
                "max_runs": max_runs,
                "memo": dict(memo) if memo is not None else None,
                "search_attributes": self._search_attributes(
                    search_attributes,
                    self._payload_context("schedule_search_attributes", schedule_id=schedule_id),
                ),
                "paused": True if paused else None,
                "note": note,
            }
        )
        data = await self._call("schedule.create", body=body, context=schedule_id or "")
        created = as_str(data.get("schedule_id")) if isinstance(data, dict) else None
        return ScheduleHandle(cast("Client", self), created or schedule_id or "")

    async def list_schedules(self, *, next_page_token: str | None = None) -> ScheduleList:
        """One page of the namespace's schedules."""
        query = compact({"next_page_token": next_page_token}) or None
        data = await self._call("schedule.list", query=query)
        return ScheduleList.from_dict(require_dict(data, "schedule_list"))

    async def iter_schedules(self) -> AsyncIterator[ScheduleDescription]:
        """Every schedule, following ``next_page_token`` across pages."""
        token: str | None = None
        while True:
            page = await self.list_schedules(next_page_token=token)
            for schedule in page.schedules:
                yield schedule
            if not page.next_page_token or page.next_page_token == token:
                return
            token = page.next_page_token

    async def describe_schedule(self, schedule_id: str) -> ScheduleDescription:
        data = await self._call("schedule.describe", path_params=_id(schedule_id))
        return ScheduleDescription.from_dict(require_dict(data, "schedule"))

    async def update_schedule(
        self,
        schedule_id: str,
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
        """Change only the fields given (None leaves a field as it is)."""
        body = compact(
            {
                "spec": spec_to_wire(spec) if spec is not None else None,
                "action": (
                    action_to_wire(
                        action, input_encoder=self._schedule_input_encoder(action, schedule_id)
                    )
                    if action is not None
                    else None
                ),
                "overlap_policy": overlap_policy,
                "jitter_seconds": jitter_seconds,
                "max_runs": max_runs,
                "memo": dict(memo) if memo is not None else None,
                "search_attributes": self._search_attributes(
                    search_attributes,
                    self._payload_context("schedule_search_attributes", schedule_id=schedule_id),
                ),
                "note": note,
            }
        )
        await self._call("schedule.update", path_params=_id(schedule_id), body=body)

    async def pause_schedule(self, schedule_id: str, *, note: str | None = None) -> None:
        await self._call(
            "schedule.pause", path_params=_id(schedule_id), body=compact({"note": note})
        )

    async def resume_schedule(self, schedule_id: str, *, note: str | None = None) -> None:
        await self._call(
            "schedule.resume", path_params=_id(schedule_id), body=compact({"note": note})
        )

    async def trigger_schedule(
        self, schedule_id: str, *, overlap_policy: str | None = None
    ) -> ScheduleTriggerResult:
        """Fire the schedule now, outside its spec."""
        data = await self._call(
            "schedule.trigger",
            path_params=_id(schedule_id),
            body=compact({"overlap_policy": overlap_policy}),
        )
        return ScheduleTriggerResult.from_dict(require_dict(data, "trigger_response"))

    async def delete_schedule(self, schedule_id: str) -> None:
        await self._call("schedule.delete", path_params=_id(schedule_id))

    async def backfill_schedule(
        self,
        schedule_id: str,
        *,
        start_time: str,
        end_time: str,
        overlap_policy: str | None = None,
    ) -> ScheduleBackfillResult:
        """Fire the schedule for every time its spec matched in ``[start_time, end_time]``."""
        body = compact(
            {"start_time": start_time, "end_time": end_time, "overlap_policy": overlap_policy}
        )
        data = await self._call("schedule.backfill", path_params=_id(schedule_id), body=body)
        return ScheduleBackfillResult.from_dict(require_dict(data, "backfill_response"))

    async def get_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        """One page of the schedule's own event log, after ``after_sequence``."""
        if limit is not None and limit < 1:
            raise ValueError("limit must be >= 1")
        if after_sequence is not None and after_sequence < 0:
            raise ValueError("after_sequence must be >= 0")
        query = compact({"limit": limit, "after_sequence": after_sequence}) or None
        data = await self._call("schedule.history", path_params=_id(schedule_id), query=query)
        return ScheduleHistoryPage.from_dict(require_dict(data, "schedule_history"))

    async def iter_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> AsyncIterator[ScheduleHistoryEvent]:
        """Every schedule event after ``after_sequence``, page by page."""
        cursor = after_sequence
        while True:
            page = await self.get_schedule_history(schedule_id, limit=limit, after_sequence=cursor)
            for event in page.events:
                yield event
            if not page.has_more or page.next_cursor is None or page.next_cursor == cursor:
                return
            cursor = page.next_cursor
