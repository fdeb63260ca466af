"""The ``Worker``: polls one task queue and runs workflow, activity and query tasks.

Private modules: ``_worker`` (registration, poll loops, shutdown, signals),
``_workflow_tasks`` / ``_activities`` / ``_queries`` (one runner per task
kind), ``_history`` (history pages for a task), ``_support`` (backoff, error
classes, process facts) and ``_telemetry`` (metrics).
"""

from __future__ import annotations

from durable_workflow._compat import QUERY_TASKS_CAPABILITY
from durable_workflow.activity import ActivityContext, ActivityInfo
from durable_workflow.auth_composition import (
    AUTH_COMPOSITION_CONTRACT_SCHEMA,
    AUTH_COMPOSITION_CONTRACT_VERSION,
    AuthCompositionContractError,
    parse_auth_composition_contract,
)
from durable_workflow.client import (
    CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
    CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
    CONTROL_PLANE_VERSION,
    PROTOCOL_VERSION,
    Client,
    WorkflowExecution,
)
from durable_workflow.errors import (
    ActivityCancelled,
    AvroNotInstalledError,
    DurableWorkflowError,
    InvalidArgument,
    NonRetryableError,
    QueryFailed,
    ServerError,
)
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.interceptors import (
    ActivityInterceptorContext,
    QueryTaskInterceptorContext,
    WorkerInterceptor,
    WorkflowTaskInterceptorContext,
)
from durable_workflow.metrics import (
    NOOP_METRICS,
    WORKER_POLL_DURATION_SECONDS,
    WORKER_POLLS,
    WORKER_TASK_DURATION_SECONDS,
    WORKER_TASKS,
    MetricsRecorder,
)
from durable_workflow.worker._support import should_fail_after_completion_error
from durable_workflow.worker._worker import Worker
from durable_workflow.workflow import (
    apply_update,
    commands_to_server_commands,
    query_state,
    replay,
)

# Beyond Worker: upstream's worker module also exposes the protocol and metric
# constants, errors, activity and interceptor types and replay functions it uses.
# Upstream 0.4.53's private name for the rule (its tests import it from here).
_should_fail_workflow_task_after_completion_error = should_fail_after_completion_error

__all__ = [
    "AUTH_COMPOSITION_CONTRACT_SCHEMA",
    "AUTH_COMPOSITION_CONTRACT_VERSION",
    "CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA",
    "CONTROL_PLANE_REQUEST_CONTRACT_VERSION",
    "CONTROL_PLANE_VERSION",
    "NOOP_METRICS",
    "PROTOCOL_VERSION",
    "QUERY_TASKS_CAPABILITY",
    "WORKER_POLLS",
    "WORKER_POLL_DURATION_SECONDS",
    "WORKER_TASKS",
    "WORKER_TASK_DURATION_SECONDS",
    "ActivityCancelled",
    "ActivityContext",
    "ActivityInfo",
    "ActivityInterceptorContext",
    "AuthCompositionContractError",
    "AvroNotInstalledError",
    "Client",
    "DurableWorkflowError",
    "ExternalPayloadCache",
    "ExternalStorageDriver",
    "InvalidArgument",
    "MetricsRecorder",
    "NonRetryableError",
    "QueryFailed",
    "QueryTaskInterceptorContext",
    "ServerError",
    "Worker",
    "WorkerInterceptor",
    "WorkflowExecution",
    "WorkflowTaskInterceptorContext",
    "apply_update",
    "commands_to_server_commands",
    "parse_auth_composition_contract",
    "query_state",
    "replay",
]
