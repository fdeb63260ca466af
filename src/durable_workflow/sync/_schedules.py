"""Blocking schedule methods of ``durable_workflow.sync.Client`` (incl. history).

Each runs the async ``Client`` method of the same name and signature on the
blocking client's private loop; handles are ``SyncScheduleHandle``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from durable_workflow.client._results._schedules import (
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleList,
    ScheduleSpec,
    ScheduleTriggerResult,
)
from durable_workflow.sync._handles import SyncScheduleHandle
from durable_workflow.sync._loop import LoopThread

if TYPE_CHECKING:
    from durable_workflow.client import Client as AsyncClient

__all__ = ["SyncSchedulesMixin"]

SpecArg = ScheduleSpec | Mapping[str, Any]
ActionArg = ScheduleAction | Mapping[str, Any]


class SyncSchedulesMixin:
    """The schedule family, blocking."""

    _client: AsyncClient
    _loop: LoopThread

    def get_schedule_handle(self, schedule_id: str) -> SyncScheduleHandle:
        return SyncScheduleHandle(self._client.get_schedule_handle(schedule_id), self._loop)

    def create_schedule(
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
    ) -> SyncScheduleHandle:
        handle = self._loop.run(
            self._client.create_schedule(
                schedule_id=schedule_id,
                spec=spec,
                action=action,
                overlap_policy=overlap_policy,
                jitter_seconds=jitter_seconds,
                max_runs=max_runs,
                memo=memo,
                search_attributes=search_attributes,
                paused=paused,
                note=note,
            )
        )
        return SyncScheduleHandle(handle, self._loop)

    def list_schedules(self, *, next_page_token: str | None = None) -> ScheduleList:
        return self._loop.run(self._client.list_schedules(next_page_token=next_page_token))

    def iter_schedules(self) -> Iterator[ScheduleDescription]:
        return self._loop.iterate(self._client.iter_schedules())

    def describe_schedule(self, schedule_id: str) -> ScheduleDescription:
        return self._loop.run(self._client.describe_schedule(schedule_id))

    def update_schedule(
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
        self.get_schedule_handle(schedule_id).update(
            spec=spec,
            action=action,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter_seconds,
            max_runs=max_runs,
            memo=memo,
            search_attributes=search_attributes,
            note=note,
        )

    def pause_schedule(self, schedule_id: str, *, note: str | None = None) -> None:
        self._loop.run(self._client.pause_schedule(schedule_id, note=note))

    def resume_schedule(self, schedule_id: str, *, note: str | None = None) -> None:
        self._loop.run(self._client.resume_schedule(schedule_id, note=note))

    def trigger_schedule(
        self, schedule_id: str, *, overlap_policy: str | None = None
    ) -> ScheduleTriggerResult:
        return self._loop.run(
            self._client.trigger_schedule(schedule_id, overlap_policy=overlap_policy)
        )

    def delete_schedule(self, schedule_id: str) -> None:
        self._loop.run(self._client.delete_schedule(schedule_id))

    def backfill_schedule(
        self,
        schedule_id: str,
        *,
        start_time: str,
        end_time: str,
        overlap_policy: str | None = None,
    ) -> ScheduleBackfillResult:
        return self.get_schedule_handle(schedule_id).backfill(
            start_time=start_time, end_time=end_time, overlap_policy=overlap_policy
        )

    def get_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        return self.get_schedule_handle(schedule_id).history(
            limit=limit, after_sequence=after_sequence
        )

    def iter_schedule_history(
        self, schedule_id: str, *, limit: int | None = None, after_sequence: int | None = None
    ) -> Iterator[ScheduleHistoryEvent]:
        return self.get_schedule_handle(schedule_id).iter_history(
            limit=limit, after_sequence=after_sequence
        )
