"""Workflow authoring and replay (drop-in for upstream 0.4.53's ``durable_workflow.workflow``).

Workflows are classes whose ``run(self, ctx, *args)`` is a generator that
yields commands built by :class:`WorkflowContext`. Private modules:
``_decorators`` (``defn`` and the handler marks), ``_retry`` (durable retry
policies), ``_entry`` (replay entry points) and ``_replay/`` (the replay
engine: history, steps, commands, context, driver, sticky cache).
"""

from __future__ import annotations

from durable_workflow.errors import (
    ActivityFailed,
    ChildWorkflowFailed,
    NonDeterministicReplayError,
    QueryFailed,
    WorkflowPayloadDecodeError,
)
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.serializer import PayloadWarningContext
from durable_workflow.workflow._decorators import (
    defn,
    query,
    registry,
    signal,
    update,
    update_validator,
)
from durable_workflow.workflow._entry import Replayer, apply_update, query_state, replay
from durable_workflow.workflow._replay.commands import (
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailUpdate,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    commands_to_server_commands,
)
from durable_workflow.workflow._replay.context import WorkflowContext
from durable_workflow.workflow._replay.driver import ReplayOutcome
from durable_workflow.workflow._replay.history import MalformedHistoryError
from durable_workflow.workflow._replay.sticky import CacheStats, WorkflowCache
from durable_workflow.workflow._retry import (
    ActivityRetryPolicy,
    ActivityRetryPolicyInput,
    ChildWorkflowRetryPolicy,
    ChildWorkflowRetryPolicyInput,
)

# Beyond the authoring API: upstream's workflow module also exposes the errors a
# workflow catches and the input types its commands take.
__all__ = [
    "ActivityFailed",
    "ActivityRetryPolicy",
    "ActivityRetryPolicyInput",
    "CacheStats",
    "ChildWorkflowFailed",
    "ChildWorkflowRetryPolicy",
    "ChildWorkflowRetryPolicyInput",
    "Command",
    "CompleteUpdate",
    "CompleteWorkflow",
    "ContinueAsNew",
    "ExternalPayloadCache",
    "ExternalStorageDriver",
    "FailUpdate",
    "FailWorkflow",
    "MalformedHistoryError",
    "NonDeterministicReplayError",
    "PayloadWarningContext",
    "QueryFailed",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ReplayOutcome",
    "Replayer",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WaitCondition",
    "WorkflowCache",
    "WorkflowContext",
    "WorkflowPayloadDecodeError",
    "apply_update",
    "commands_to_server_commands",
    "defn",
    "query",
    "query_state",
    "registry",
    "replay",
    "signal",
    "update",
    "update_validator",
]
