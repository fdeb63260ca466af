"""``Client``'s schedule methods: create/list/describe/update/pause/resume/trigger/...

Functions of ``self: Client``, bound onto ``Client`` in ``client/_client.py``.
``spec`` and ``action`` accept upstream's dataclasses or plain mappings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from durable_workflow.client import _client
from durable_workflow.client._calls import compact, require_dict
from durable_workflow.client._handles import ScheduleHandle
from durable_workflow.client._results import (
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleList,
    ScheduleTriggerResult,
)
from durable_workflow.client._results._parse import as_str
from durable_workflow.client._results._schedule_args import (
    ActionArg,
    SpecArg,
    action_to_wire,
    spec_to_wire,
)

__all__ = [
    "backfill_schedule",
    "create_schedule",
    "delete_schedule",
    "describe_schedule",
    "get_schedule_handle",
    "get_schedule_history",
    "iter_schedule_history",
    "iter_schedules",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "trigger_schedule",
    "update_schedule",
]


def _id(schedule_id: str) -> dict[str, str]:
    return {"scheduleId": schedule_id}


def _schedule_input_encoder(
    self: _client.Client, action: ActionArg, schedule_id: str | None
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


def get_schedule_handle(self: _client.Client, schedule_id: str) -> ScheduleHandle:
    """A handle for an existing schedule (no request is sent)."""
    return ScheduleHandle(self, schedule_id)


async def create_schedule(
    self: _client.Client,
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
    await self._negotiate()
    body = compact(
        {
            "schedule_id": schedule_id,
            "spec": spec_to_wire(spec),
            "action": action_to_wire(
                action, input_encoder=_schedule_input_encoder(self, action, schedule_id)
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
    return ScheduleHandle(self, created or schedule_id or "")


async def list_schedules(
    self: _client.Client, *, next_page_token: str | None = None
) -> ScheduleList:
    """One page of the namespace's schedules."""
    query = compact({"next_page_token": next_page_token}) or None
    data = await self._call("schedule.list", query=query)
    return ScheduleList.from_dict(require_dict(data, "schedule_list"))


async def iter_schedules(self: _client.Client) -> AsyncIterator[ScheduleDescription]:
    """Every schedule, following ``next_page_token`` across pages."""
    token: str | None = None
    while True:
        page = await self.list_schedules(next_page_token=token)
        for schedule in page.schedules:
            yield schedule
        if not page.next_page_token or page.next_page_token == token:
            return
        token = page.next_page_token


async def describe_schedule(self: _client.Client, schedule_id: str) -> ScheduleDescription:
    data = await self._call("schedule.describe", path_params=_id(schedule_id))
    return ScheduleDescription.from_dict(require_dict(data, "schedule"))


async def update_schedule(
    self: _client.Client,
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
    await self._negotiate()
    body = compact(
        {
            "spec": spec_to_wire(spec) if spec is not None else None,
            "action": (
                action_to_wire(
                    action, input_encoder=_schedule_input_encoder(self, action, schedule_id)
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


async def pause_schedule(
    self: _client.Client, schedule_id: str, *, note: str | None = None
) -> None:
    await self._call("schedule.pause", path_params=_id(schedule_id), body=compact({"note": note}))


async def resume_schedule(
    self: _client.Client, schedule_id: str, *, note: str | None = None
) -> None:
    await self._call("schedule.resume", path_params=_id(schedule_id), body=compact({"note": note}))


async def trigger_schedule(
    self: _client.Client, schedule_id: str, *, overlap_policy: str | None = None
) -> ScheduleTriggerResult:
    """Fire the schedule now, outside its spec."""
    data = await self._call(
        "schedule.trigger",
        path_params=_id(schedule_id),
        body=compact({"overlap_policy": overlap_policy}),
    )
    return ScheduleTriggerResult.from_dict(require_dict(data, "trigger_response"))


async def delete_schedule(self: _client.Client, schedule_id: str) -> None:
    await self._call("schedule.delete", path_params=_id(schedule_id))


async def backfill_schedule(
    self: _client.Client,
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
    self: _client.Client,
    schedule_id: str,
    *,
    limit: int | None = None,
    after_sequence: int | None = None,
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
    self: _client.Client,
    schedule_id: str,
    *,
    limit: int | None = None,
    after_sequence: int | None = None,
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
