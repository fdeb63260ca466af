"""Typed usage of the client, checked by ``mypy --strict`` (tests/unit/test_client_typing.py).

``assert_type`` fails type checking if a method's declared return type drifts:
upstream's dataclasses from the compatible methods, the generated pydantic
models from ``client.operations`` -- never an untyped ``dict[str, Any]`` where
the protocol defines a shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from typing_extensions import assert_type

from durable_workflow import sync
from durable_workflow._generated.models.namespace import Namespace, NamespaceListResponse
from durable_workflow._generated.models.schedule import ScheduleDescription as ScheduleModel
from durable_workflow._generated.models.task_queue import TaskQueueDescription as QueueModel
from durable_workflow._generated.models.workflow import WorkflowCommandResponse, WorkflowRunView
from durable_workflow.client import (
    Client,
    NamespaceDescription,
    ScheduleAction,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleHistoryEvent,
    ScheduleSpec,
    ScheduleTriggerResult,
    StandaloneActivityHandle,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    WorkerList,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowList,
)


async def generated_models(client: Client) -> None:
    ops = client.operations
    assert_type(await ops.workflow_describe(workflow_id="wf"), WorkflowRunView)
    assert_type(
        await ops.workflow_cancel({"reason": "x"}, workflow_id="wf"), WorkflowCommandResponse
    )
    assert_type(await ops.namespace_list(), NamespaceListResponse)
    assert_type(await ops.namespace_describe(namespace="default"), Namespace)
    assert_type(await ops.schedule_describe(schedule_id="s"), ScheduleModel)
    assert_type(await ops.task_queue_describe(task_queue="q"), QueueModel)


async def upstream_dataclasses(client: Client) -> None:
    handle = await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf")
    assert_type(handle, WorkflowHandle[Any])
    assert_type(await handle.describe(), WorkflowExecution)
    assert_type(await handle.archive(reason="old"), WorkflowCommandResult)
    assert_type(await client.list_workflows(status="running"), WorkflowList)
    assert_type(client.iter_workflows(), AsyncIterator[WorkflowExecution])
    assert_type(await client.query_workflow("wf", "q"), dict[str, Any])
    assert_type(await client.describe_namespace("default"), NamespaceDescription)
    assert_type(await client.describe_task_queue("q"), TaskQueueDescription)
    assert_type(await client.drain_task_queue_build_id("q", None), TaskQueueBuildIdRolloutState)
    assert_type(await client.list_workers(task_queue="q"), WorkerList)
    schedule = await client.create_schedule(
        spec=ScheduleSpec(cron_expressions=["0 * * * *"]), action=ScheduleAction("t")
    )
    assert_type(schedule, ScheduleHandle)
    assert_type(await schedule.describe(), ScheduleDescription)
    assert_type(await schedule.trigger(), ScheduleTriggerResult)
    assert_type(schedule.iter_history(), AsyncIterator[ScheduleHistoryEvent])
    activity = await client.start_activity(activity_type="a", task_queue="q")
    assert_type(activity, StandaloneActivityHandle)


def blocking(client: sync.Client) -> None:
    handle = client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf")
    assert_type(handle, sync.SyncWorkflowHandle[Any])
    assert_type(handle.describe(), WorkflowExecution)
    assert_type(client.get_schedule_handle("s"), sync.SyncScheduleHandle)
    assert_type(client.iter_schedules(), Iterator[ScheduleDescription])
    assert_type(client.get_activity_handle("a"), sync.SyncStandaloneActivityHandle)
