"""Standalone activities (sdk-surface.md §6): run one activity without writing a workflow.

These routes are not in the server snapshot's operation catalogue, so they go
through ``ClientBase._request`` with upstream's paths; a server that lacks
them answers 404/501 and the call raises the mapped error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from durable_workflow import errors
from durable_workflow.client import _client
from durable_workflow.client._calls import compact, require_dict
from durable_workflow.client._handles import StandaloneActivityHandle
from durable_workflow.client._results import (
    TERMINAL_STATUSES,
    StandaloneActivityExecution,
    StandaloneActivityList,
)
from durable_workflow.client._results._parse import as_str

__all__ = [
    "describe_activity",
    "get_activity_handle",
    "get_activity_result",
    "list_activities",
    "start_activity",
]

_ACTIVITIES_PATH = "/api/activities"


def _activity_path(activity_id: str) -> str:
    return f"{_ACTIVITIES_PATH}/{quote(activity_id, safe='._:-')}"


async def start_activity(
    self: _client.Client,
    *,
    activity_type: str,
    task_queue: str,
    activity_id: str | None = None,
    activity_class: str | None = None,
    input: Sequence[Any] | None = None,
    business_key: str | None = None,
    retry_policy: Mapping[str, Any] | None = None,
    start_to_close_timeout_seconds: int | None = None,
    schedule_to_start_timeout_seconds: int | None = None,
    schedule_to_close_timeout_seconds: int | None = None,
    heartbeat_timeout_seconds: int | None = None,
) -> StandaloneActivityHandle:
    await self._negotiate()
    body = compact(
        {
            "activity_type": activity_type,
            "task_queue": task_queue,
            "activity_id": activity_id,
            "activity_class": activity_class,
            "business_key": business_key,
            "input": (
                self._envelope(
                    list(input),
                    context=self._payload_context(
                        "activity_input", activity_name=activity_type, task_queue=task_queue
                    ),
                    field="input",
                )
                if input is not None
                else None
            ),
            "retry_policy": dict(retry_policy) if retry_policy is not None else None,
            "start_to_close_timeout_seconds": start_to_close_timeout_seconds,
            "schedule_to_start_timeout_seconds": schedule_to_start_timeout_seconds,
            "schedule_to_close_timeout_seconds": schedule_to_close_timeout_seconds,
            "heartbeat_timeout_seconds": heartbeat_timeout_seconds,
        }
    )
    data = require_dict(await self._request("POST", _ACTIVITIES_PATH, body=body), "activity_start")
    return StandaloneActivityHandle(
        self,
        as_str(data.get("activity_id")) or activity_id or "",
        workflow_run_id=as_str(data.get("workflow_run_id")),
        activity_execution_id=as_str(data.get("activity_execution_id")),
        workflow_type=as_str(data.get("workflow_type")) or "",
        activity_type=as_str(data.get("activity_type")) or activity_type,
    )


def get_activity_handle(
    self: _client.Client,
    activity_id: str,
    *,
    workflow_run_id: str | None = None,
    activity_execution_id: str | None = None,
    activity_type: str = "",
) -> StandaloneActivityHandle:
    """A handle for an existing standalone activity (no request is sent)."""
    return StandaloneActivityHandle(
        self,
        activity_id,
        workflow_run_id=workflow_run_id,
        activity_execution_id=activity_execution_id,
        activity_type=activity_type,
    )


async def describe_activity(self: _client.Client, activity_id: str) -> StandaloneActivityExecution:
    data = await self._request("GET", _activity_path(activity_id), context=activity_id)
    return StandaloneActivityExecution.from_dict(
        require_dict(data, "activity"), decode=self._decode
    )


async def list_activities(
    self: _client.Client,
    *,
    status: str | None = None,
    page_size: int | None = None,
    next_page_token: str | None = None,
) -> StandaloneActivityList:
    query = compact({"status": status, "page_size": page_size, "next_page_token": next_page_token})
    data = await self._request("GET", _ACTIVITIES_PATH, query=query or None)
    return StandaloneActivityList.from_dict(
        require_dict(data, "activity_list"), decode=self._decode
    )


async def get_activity_result(
    self: _client.Client,
    handle: StandaloneActivityHandle,
    *,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> Any:
    """Poll until the activity closes; its result, or the workflow-style error."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        execution = await self.describe_activity(handle.activity_id)
        status = (execution.status or "").lower()
        if status in TERMINAL_STATUSES:
            if status == "completed":
                return execution.result
            reason = execution.closed_reason or f"activity {handle.activity_id} {status}"
            if status == "terminated":
                raise errors.WorkflowTerminated(reason)
            if status in ("canceled", "cancelled"):
                raise errors.WorkflowCancelled(reason)
            raise errors.WorkflowFailed(reason)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"activity {handle.activity_id} did not finish within {timeout:g}s")
        await asyncio.sleep(min(poll_interval, remaining))
