"""Durable Workflow Python SDK: write workflows and activities, run them with a Worker.

The names exported here are the public API of upstream ``durable-workflow``
0.4.53 that this package implements so far; ``tests/unit/test_exports.py``
pins the list.
"""

from __future__ import annotations

from . import activity, serializer, workflow
from ._version import __version__
from .activity import ActivityContext, ActivityInfo
from .client import (
    Client,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from .errors import (
    ActivityCancelled,
    ActivityFailed,
    ChildWorkflowFailed,
    DurableWorkflowError,
    InvalidArgument,
    NamespaceNotFound,
    NonDeterministicReplayError,
    NonRetryableError,
    QueryFailed,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    ServerError,
    SignalFailed,
    Unauthorized,
    UpdateRejected,
    WorkflowAlreadyStarted,
    WorkflowCancelled,
    WorkflowFailed,
    WorkflowNotFound,
    WorkflowPayloadDecodeError,
    WorkflowTerminated,
)
from .retry_policy import RetryPolicy, TransportRetryPolicy
from .serializer import (
    PayloadSizeWarningConfig,
    PayloadSizeWarningContext,
    to_avro_payload_value,
    to_avro_payload_values,
)
from .worker import Worker
from .workflow import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    ContinueAsNew,
    Replayer,
    ReplayOutcome,
    StartChildWorkflow,
    replay,
)

__all__ = [
    "ActivityCancelled",
    "ActivityContext",
    "ActivityFailed",
    "ActivityInfo",
    "ActivityRetryPolicy",
    "ChildWorkflowFailed",
    "ChildWorkflowRetryPolicy",
    "Client",
    "ContinueAsNew",
    "DurableWorkflowError",
    "InvalidArgument",
    "NamespaceNotFound",
    "NonDeterministicReplayError",
    "NonRetryableError",
    "PayloadSizeWarningConfig",
    "PayloadSizeWarningContext",
    "QueryFailed",
    "ReplayOutcome",
    "Replayer",
    "RetryPolicy",
    "ScheduleAlreadyExists",
    "ScheduleNotFound",
    "ServerError",
    "SignalFailed",
    "StartChildWorkflow",
    "TransportRetryPolicy",
    "Unauthorized",
    "UpdateRejected",
    "Worker",
    "WorkflowAlreadyStarted",
    "WorkflowCancelled",
    "WorkflowExecution",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowNotFound",
    "WorkflowPayloadDecodeError",
    "WorkflowRun",
    "WorkflowRunList",
    "WorkflowTerminated",
    "__version__",
    "activity",
    "replay",
    "serializer",
    "to_avro_payload_value",
    "to_avro_payload_values",
    "workflow",
]
