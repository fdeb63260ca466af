"""``durable_workflow.client``: the async ``Client``, its handles and its result types.

Upstream 0.4.53's public module (sdk-surface.md §1): every name it exposes
imports from here. The implementation lives in private modules, one per
concern; this file only re-exports.
"""

from __future__ import annotations

from durable_workflow import serializer
from durable_workflow._generated import manifest as _manifest
from durable_workflow._transport import ServerProfile
from durable_workflow._version import SDK_VERSION
from durable_workflow.client._client import Client
from durable_workflow.client._handles import (
    ScheduleHandle,
    StandaloneActivityHandle,
    WorkflowHandle,
)
from durable_workflow.client._results import (
    TERMINAL_STATUSES,
    BridgeAdapterOutcome,
    NamespaceDescription,
    NamespaceList,
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleList,
    ScheduleSpec,
    ScheduleTriggerResult,
    SearchAttributeList,
    StandaloneActivityExecution,
    StandaloneActivityList,
    StoragePayloadTestResult,
    StorageTestResult,
    TaskQueueAdmission,
    TaskQueueBuildIdCohort,
    TaskQueueBuildIdRollout,
    TaskQueueBuildIdRolloutState,
    TaskQueueDescription,
    TaskQueueList,
    TaskQueueQueryAdmission,
    TaskQueueTaskAdmission,
    WorkerDescription,
    WorkerList,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.client._typing import (
    DuplicatePolicy,
    UpdateWaitFor,
    WorkflowStatus,
    WorkflowStatusFilter,
)
from durable_workflow.errors import (
    ServerError,
    WorkflowCancelled,
    WorkflowFailed,
    WorkflowTerminated,
)
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalPayloadStoragePolicy,
    ExternalStorageDriver,
)
from durable_workflow.metrics import (
    CLIENT_REQUEST_DURATION_SECONDS,
    CLIENT_REQUESTS,
    NOOP_METRICS,
    MetricsRecorder,
)
from durable_workflow.retry_policy import TransportRetryPolicy

__all__ = [
    "CLIENT_REQUESTS",
    "CLIENT_REQUEST_DURATION_SECONDS",
    "CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA",
    "CONTROL_PLANE_REQUEST_CONTRACT_VERSION",
    "CONTROL_PLANE_VERSION",
    "DEFAULT_SDK_VERSION",
    "NOOP_METRICS",
    "PROTOCOL_VERSION",
    "TERMINAL_STATUSES",
    "BridgeAdapterOutcome",
    "Client",
    "DuplicatePolicy",
    "ExternalPayloadCache",
    "ExternalPayloadStoragePolicy",
    "ExternalStorageDriver",
    "MetricsRecorder",
    "NamespaceDescription",
    "NamespaceList",
    "ScheduleAction",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SearchAttributeList",
    "ServerError",
    "ServerProfile",
    "StandaloneActivityExecution",
    "StandaloneActivityHandle",
    "StandaloneActivityList",
    "StoragePayloadTestResult",
    "StorageTestResult",
    "TaskQueueAdmission",
    "TaskQueueBuildIdCohort",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueList",
    "TaskQueueQueryAdmission",
    "TaskQueueTaskAdmission",
    "TransportRetryPolicy",
    "UpdateWaitFor",
    "WorkerDescription",
    "WorkerList",
    "WorkflowCancelled",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
    "WorkflowStatus",
    "WorkflowStatusFilter",
    "WorkflowTerminated",
    "serializer",
]

PROTOCOL_VERSION: str = _manifest.WORKER_PROTOCOL_VERSION
CONTROL_PLANE_VERSION: str = _manifest.CONTROL_PLANE_VERSION
CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA: str = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA
CONTROL_PLANE_REQUEST_CONTRACT_VERSION: int = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION
DEFAULT_SDK_VERSION: str = SDK_VERSION
