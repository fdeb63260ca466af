"""The upstream-compatible result dataclasses ``Client`` methods return (sdk-surface.md §1.4).

One private module per concern; this package re-exports them.
"""

from __future__ import annotations

from durable_workflow.client._results._activities import (
    StandaloneActivityExecution,
    StandaloneActivityList,
)
from durable_workflow.client._results._admin import (
    BridgeAdapterOutcome,
    NamespaceDescription,
    NamespaceList,
    SearchAttributeList,
    StoragePayloadTestResult,
    StorageTestResult,
    WorkflowCommandResult,
)
from durable_workflow.client._results._queues import (
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
)
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
from durable_workflow.client._results._workflows import (
    TERMINAL_STATUSES,
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)

__all__ = [
    "TERMINAL_STATUSES",
    "BridgeAdapterOutcome",
    "NamespaceDescription",
    "NamespaceList",
    "ScheduleAction",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SearchAttributeList",
    "StandaloneActivityExecution",
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
    "WorkerDescription",
    "WorkerList",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]
