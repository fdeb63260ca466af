"""The async ``Client``: every control-plane operation, plus the worker-plane calls.

Public names and signatures follow upstream 0.4.53 (sdk-surface.md §1). The
client is assembled from one mixin per concern (``_client_workflows``,
``_client_workflow_commands``, ``_client_run_commands``, ``_client_schedules``,
``_client_namespaces``, ``_client_queues``, ``_client_activities``,
``_client_worker_plane``); every
request goes through ``_transport.HttpTransport`` using the generated operation
specs, so paths, methods and planes come from ``contracts/`` and nowhere else.
``client.operations`` exposes the generated, fully typed stubs on the same
transport for callers who want the generated pydantic models.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from durable_workflow._client_activities import ActivitiesMixin, StandaloneActivityHandle
from durable_workflow._client_handles import WorkflowHandle
from durable_workflow._client_namespaces import NamespacesMixin
from durable_workflow._client_queues import QueuesMixin
from durable_workflow._client_results import (
    TERMINAL_STATUSES,
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow._client_results_activities import (
    StandaloneActivityExecution,
    StandaloneActivityList,
)
from durable_workflow._client_results_admin import (
    BridgeAdapterOutcome,
    NamespaceDescription,
    NamespaceList,
    SearchAttributeList,
    StoragePayloadTestResult,
    StorageTestResult,
    WorkflowCommandResult,
)
from durable_workflow._client_results_queues import (
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
from durable_workflow._client_results_schedules import (
    ScheduleAction,
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleList,
    ScheduleSpec,
    ScheduleTriggerResult,
)
from durable_workflow._client_run_commands import RunCommandsMixin
from durable_workflow._client_schedules import ScheduleHandle, SchedulesMixin
from durable_workflow._client_worker_plane import WorkerPlaneMixin
from durable_workflow._client_workflow_commands import WorkflowCommandsMixin
from durable_workflow._client_workflows import WorkflowsMixin
from durable_workflow._connection_config import client_arguments
from durable_workflow._generated import manifest as _manifest
from durable_workflow._transport import HttpTransport
from durable_workflow._version import SDK_VERSION
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import DataConverter
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
    NoopMetrics,
)
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.serializer import (
    DEFAULT_PAYLOAD_SIZE_BYTES,
    DEFAULT_WARNING_THRESHOLD_PERCENT,
    PayloadSizeWarningConfig,
)

# Upstream's client module also exposes the metric names, errors and storage policy
# it uses; they stay importable from here.
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
    "ExternalPayloadStoragePolicy",
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
    "WorkflowTerminated",
]

PROTOCOL_VERSION: str = _manifest.WORKER_PROTOCOL_VERSION
CONTROL_PLANE_VERSION: str = _manifest.CONTROL_PLANE_VERSION
CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA: str = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA
CONTROL_PLANE_REQUEST_CONTRACT_VERSION: int = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION
DEFAULT_SDK_VERSION: str = SDK_VERSION


class Client(
    WorkflowsMixin,
    WorkflowCommandsMixin,
    RunCommandsMixin,
    SchedulesMixin,
    NamespacesMixin,
    QueuesMixin,
    ActivitiesMixin,
    WorkerPlaneMixin,
):
    """Async client for one server and namespace; one HTTP connection pool per instance.

    Options are upstream's (sdk-surface.md §1.1) plus ``transport``, an
    ``httpx.AsyncBaseTransport`` that replaces the network layer (tests use
    ``httpx.MockTransport``). ``metrics`` records one counter and duration per
    HTTP call; a payload whose encoded size reaches the warning threshold logs a
    warning (``payload_size_warnings=False`` turns that off), and a payload or
    request body over ``payload_size_limit_bytes`` raises ``PayloadTooLargeError``
    before anything is sent. With both
    ``external_storage`` and ``external_storage_threshold_bytes`` set, payloads
    larger than the threshold are offloaded and sent as references, and
    referenced payloads in answers are fetched and verified. ``payload_codec``
    (beyond upstream, off by default) is a codec chain applied to every payload
    blob before offloading and undone on every decode (docs/payload-codecs.md).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        control_token: str | None = None,
        worker_token: str | None = None,
        namespace: str = "default",
        timeout: float = 60.0,
        retry_policy: TransportRetryPolicy | None = None,
        metrics: MetricsRecorder | None = None,
        payload_size_limit_bytes: int = DEFAULT_PAYLOAD_SIZE_BYTES,
        payload_size_warning_threshold_percent: int = DEFAULT_WARNING_THRESHOLD_PERCENT,
        payload_size_warnings: bool = True,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_threshold_bytes: int | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        payload_codec: PayloadCodec | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.control_token = control_token
        self.worker_token = worker_token
        self.namespace = namespace
        self.timeout = timeout
        self.retry_policy = retry_policy if retry_policy is not None else TransportRetryPolicy()
        self.metrics: MetricsRecorder = metrics if metrics is not None else NoopMetrics()
        self.payload_size_limit_bytes = payload_size_limit_bytes
        self.payload_size_warning_threshold_percent = payload_size_warning_threshold_percent
        self.payload_size_warnings = payload_size_warnings
        # The client's payload object; the upstream attributes read and replace it.
        self.converter = DataConverter(
            codec_chain=payload_codec,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            storage_cache=(
                external_storage_cache
                if external_storage_cache is not None
                else ExternalPayloadCache()
            ),
            size_warning=(
                PayloadSizeWarningConfig(
                    limit_bytes=payload_size_limit_bytes,
                    threshold_percent=payload_size_warning_threshold_percent,
                )
                if payload_size_warnings
                else None
            ),
        )
        self._transport = HttpTransport(
            self.base_url,
            token=token,
            control_token=control_token,
            worker_token=worker_token,
            namespace=namespace,
            timeout=timeout,
            retry_policy=self.retry_policy,
            http_transport=transport,
            metrics=self.metrics,
            payload_size_limit_bytes=payload_size_limit_bytes,
        )

    @classmethod
    def from_env(
        cls,
        *,
        server_url: str | None = None,
        namespace: str | None = None,
        token: str | None = None,
        tls_verify: bool | None = None,
        profile: str | None = None,
        **options: Any,
    ) -> Client:
        """A client configured as the auth composition contract says.

        Each of server URL, namespace, token and TLS verification comes from the
        first of: the argument, the environment (``DURABLE_WORKFLOW_SERVER_URL``,
        ``DURABLE_WORKFLOW_NAMESPACE``, ``DURABLE_WORKFLOW_AUTH_TOKEN``,
        ``DURABLE_WORKFLOW_TLS_VERIFY``; profile from ``DW_ENV``), the selected
        profile in the user's profiles file, the default. Other ``Client``
        options pass through ``options``.
        """
        base_url, kwargs = client_arguments(
            server_url=server_url,
            namespace=namespace,
            token=token,
            tls_verify=tls_verify,
            profile=profile,
            options=options,
        )
        return cls(base_url, **kwargs)

    @classmethod
    def from_profile(cls, name: str, **options: Any) -> Client:
        """A client for the named profile (arguments and environment still win)."""
        return cls.from_env(profile=name, **options)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
