"""``durable_workflow.sync``: the blocking twin of ``durable_workflow.client``.

Upstream 0.4.53's public module (sdk-surface.md §2). ``Client`` and the
blocking handles are generated from the async ones (codegen/sync_client.py
writes ``_generated.py``); this file only re-exports them, plus the names
upstream's module exposed (the async types its methods return or take).
"""

from __future__ import annotations

from durable_workflow.client import Client as AsyncClient
from durable_workflow.client import (
    NamespaceDescription,
    NamespaceList,
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleList,
    ScheduleSpec,
    ScheduleTriggerResult,
    StandaloneActivityExecution,
    StandaloneActivityHandle,
    StandaloneActivityList,
    StorageTestResult,
    TaskQueueBuildIdRollout,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    TaskQueueList,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.metrics import MetricsRecorder
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.sync._generated import (
    Client,
    SyncScheduleHandle,
    SyncStandaloneActivityHandle,
    SyncWorkflowHandle,
)

__all__ = [
    "AsyncClient",
    "Client",
    "ExternalPayloadCache",
    "ExternalStorageDriver",
    "MetricsRecorder",
    "NamespaceDescription",
    "NamespaceList",
    "ScheduleAction",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleList",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "StandaloneActivityExecution",
    "StandaloneActivityHandle",
    "StandaloneActivityList",
    "StorageTestResult",
    "SyncScheduleHandle",
    "SyncStandaloneActivityHandle",
    "SyncWorkflowHandle",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueList",
    "TransportRetryPolicy",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]
