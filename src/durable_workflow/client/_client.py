"""The async ``Client``: one class, its methods written per concern in private modules.

Each concern (``_workflows``, ``_schedules``, ``_worker_plane``, ...) is a module
of functions whose first parameter is ``self: Client``; the class body below
binds them, one line each, so this file is also the map of the client's API.
No mixins and no base class: every method knows it is a ``Client`` method.
Every request goes through ``_transport.HttpTransport`` on ``self._http`` (the
``httpx.AsyncClient``) using the generated operation specs, so paths, methods
and planes come from ``contracts/`` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from durable_workflow._connection_config import client_arguments
from durable_workflow._generated.operations import Operations
from durable_workflow._transport import HttpTransport, ServerProfile
from durable_workflow.client import (
    _activities,
    _calls,
    _namespaces,
    _payloads,
    _queues,
    _run_commands,
    _schedules,
    _worker_plane,
    _worker_plane_v2,
    _workflow_commands,
    _workflows,
)
from durable_workflow.client._intercept import install_interceptors
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import ConverterAttribute, DataConverter
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.interceptors import ClientInterceptor
from durable_workflow.metrics import MetricsRecorder, NoopMetrics
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.serializer import (
    DEFAULT_PAYLOAD_SIZE_BYTES,
    DEFAULT_WARNING_THRESHOLD_PERCENT,
    PayloadSizeWarningConfig,
)

__all__ = ["Client"]


class Client:
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

    ``server_generation`` (beyond upstream) picks the server line: ``None`` (the
    default; also ``"auto"``) reads it once from ``/api/cluster/info`` before the
    first operation, ``1`` or ``2`` forces it (the environment variable
    ``DURABLE_WORKFLOW_SERVER_GENERATION`` does the same without code changes).
    The generation decides the worker protocol version sent and how payloads are
    framed; ``await client.server_profile()`` shows what was negotiated.

    ``interceptors`` (beyond upstream) wrap workflow starts, signals, queries,
    updates, cancels and terminates (``durable_workflow.interceptors.ClientInterceptor``);
    ``contrib.opentelemetry.TracingInterceptor`` is one.
    """

    #: Every payload setting in one object; upstream's attributes below are views of it.
    converter: DataConverter
    external_storage = ConverterAttribute[ExternalStorageDriver | None]("external_storage")
    external_storage_threshold_bytes = ConverterAttribute[int | None]("threshold_bytes")
    external_storage_cache = ConverterAttribute[ExternalPayloadCache | None]("storage_cache")
    #: The payload codec chain (beyond upstream).
    payload_codec = ConverterAttribute[PayloadCodec | None]("codec_chain")
    payload_size_warning_config = ConverterAttribute[PayloadSizeWarningConfig | None](
        "size_warning"
    )

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
        server_generation: int | str | None = None,
        interceptors: Sequence[ClientInterceptor] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        for interceptor in interceptors:
            if not callable(getattr(interceptor, "execute_client_call", None)):
                raise TypeError(
                    f"interceptors: {interceptor!r} is not a client interceptor "
                    "(it has no execute_client_call)"
                )
        #: Client interceptors (beyond upstream), first outermost: ``interceptors.ClientCall``.
        self.interceptors: tuple[ClientInterceptor, ...] = tuple(interceptors)
        if self.interceptors:
            install_interceptors(self)
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
            server_generation=server_generation,
            on_profile=self._adopt_profile,
        )

    @property
    def _http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` every request goes through, called as upstream calls it.

        ``request(method, "/api/...?query", headers=..., json=body, timeout=...)``:
        a double placed on it (``patch.object(client._http, "request", ...)``) sees
        each request and its answers are parsed as a server's would be.
        """
        return self._transport.http

    @_http.setter
    def _http(self, http: httpx.AsyncClient) -> None:
        self._transport.http = http

    def _headers(self, *, worker: bool = False) -> dict[str, str]:
        """The headers of a control-plane (or, with ``worker=True``, worker-plane) request."""
        return self._transport.headers_for("worker" if worker else "control")

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

    async def server_profile(self) -> ServerProfile:
        """What this client negotiated with its server (read once, then cached).

        The generation (1: the 0.x line, 2: the 2.x line), the worker protocol
        version sent, the payload framing written and the capabilities that gate
        features; ``profile.require(feature)`` raises ``UnsupportedServerCapability``.
        """
        return await self._transport.server_profile()

    def _adopt_cluster_info(self, info: dict[str, Any]) -> ServerProfile:
        """Negotiate from a discovery document the caller read (the worker's start-up check)."""
        return self._transport.adopt_cluster_info(info)

    def _adopt_profile(self, profile: ServerProfile) -> None:
        """Write payloads as the negotiated server reads them (both framings are read)."""
        self.converter = self.converter.with_framing(profile.framing)

    @property
    def operations(self) -> Operations:
        """The generated, fully typed operation stubs on this client's transport.

        Each returns the operation's generated pydantic response model (the
        upstream-compatible methods return upstream's dataclasses instead).
        """
        return Operations(self._transport)

    # -- the call path and the payload path (private) --------------------
    _call = _calls.call
    _negotiate = _calls.negotiate
    _call_v2 = _calls.call_v2
    _request = _calls.request
    send_operation = _calls.send_operation
    _payload_context = _payloads.payload_context
    _envelope = _payloads.envelope
    _payload_envelope = _payloads.payload_envelope_upstream
    _search_attributes = _payloads.search_attributes
    _input_body = _payloads.input_body
    _decode = _payloads.decode
    _decoded_result = _payloads.decoded_result

    # -- workflows: start, read, history, result ---------------------------------
    start_workflow = _workflows.start_workflow
    execute_workflow = _workflows.execute_workflow
    get_workflow_handle = _workflows.get_workflow_handle
    describe_workflow = _workflows.describe_workflow
    list_workflows = _workflows.list_workflows
    iter_workflows = _workflows.iter_workflows
    describe_workflow_run = _workflows.describe_workflow_run
    list_workflow_runs = _workflows.list_workflow_runs
    iter_workflow_runs = _workflows.iter_workflow_runs
    get_history = _workflows.get_history
    get_history_page = _workflows.get_history_page
    iter_history_events = _workflows.iter_history_events
    export_history = _workflows.export_history
    get_result = _workflows.get_result

    # -- commands on a workflow's current run ------------------------------------
    signal_workflow = _workflow_commands.signal_workflow
    query_workflow = _workflow_commands.query_workflow
    update_workflow = _workflow_commands.update_workflow
    cancel_workflow = _workflow_commands.cancel_workflow
    terminate_workflow = _workflow_commands.terminate_workflow
    repair_workflow = _workflow_commands.repair_workflow
    archive_workflow = _workflow_commands.archive_workflow

    # -- commands and diagnostics on one named run -------------------------------
    signal_workflow_run = _run_commands.signal_workflow_run
    query_workflow_run = _run_commands.query_workflow_run
    update_workflow_run = _run_commands.update_workflow_run
    cancel_workflow_run = _run_commands.cancel_workflow_run
    terminate_workflow_run = _run_commands.terminate_workflow_run
    debug_workflow = _run_commands.debug_workflow

    # -- standalone activities ---------------------------------------------------
    start_activity = _activities.start_activity
    get_activity_handle = _activities.get_activity_handle
    describe_activity = _activities.describe_activity
    list_activities = _activities.list_activities
    get_activity_result = _activities.get_activity_result

    # -- schedules ---------------------------------------------------------------
    get_schedule_handle = _schedules.get_schedule_handle
    create_schedule = _schedules.create_schedule
    list_schedules = _schedules.list_schedules
    iter_schedules = _schedules.iter_schedules
    describe_schedule = _schedules.describe_schedule
    update_schedule = _schedules.update_schedule
    pause_schedule = _schedules.pause_schedule
    resume_schedule = _schedules.resume_schedule
    trigger_schedule = _schedules.trigger_schedule
    delete_schedule = _schedules.delete_schedule
    backfill_schedule = _schedules.backfill_schedule
    get_schedule_history = _schedules.get_schedule_history
    iter_schedule_history = _schedules.iter_schedule_history

    # -- namespaces, storage, search attributes, system passes -------------------
    list_namespaces = _namespaces.list_namespaces
    describe_namespace = _namespaces.describe_namespace
    create_namespace = _namespaces.create_namespace
    update_namespace = _namespaces.update_namespace
    set_namespace_external_storage = _namespaces.set_namespace_external_storage
    test_external_storage = _namespaces.test_external_storage
    list_search_attributes = _namespaces.list_search_attributes
    create_search_attribute = _namespaces.create_search_attribute
    delete_search_attribute = _namespaces.delete_search_attribute
    repair_status = _namespaces.repair_status
    repair_pass = _namespaces.repair_pass
    retention_status = _namespaces.retention_status
    retention_pass = _namespaces.retention_pass
    activity_timeout_status = _namespaces.activity_timeout_status
    activity_timeout_pass = _namespaces.activity_timeout_pass

    # -- discovery, task queues, workers, bridge ---------------------------------
    get_cluster_info = _queues.get_cluster_info
    health = _queues.health
    ready = _queues.ready
    system_metrics = _queues.system_metrics
    operator_metrics = _queues.operator_metrics
    list_task_queues = _queues.list_task_queues
    describe_task_queue = _queues.describe_task_queue
    list_task_queue_build_ids = _queues.list_task_queue_build_ids
    drain_task_queue_build_id = _queues.drain_task_queue_build_id
    resume_task_queue_build_id = _queues.resume_task_queue_build_id
    list_workers = _queues.list_workers
    describe_worker = _queues.describe_worker
    deregister_worker = _queues.deregister_worker
    send_webhook_bridge_event = _queues.send_webhook_bridge_event

    # -- the worker plane (used by Worker and custom runtimes) -------------------
    register_worker = _worker_plane.register_worker
    heartbeat_worker = _worker_plane.heartbeat_worker
    poll_workflow_task = _worker_plane.poll_workflow_task
    workflow_task_history = _worker_plane.workflow_task_history
    heartbeat_workflow_task = _worker_plane.heartbeat_workflow_task
    complete_workflow_task = _worker_plane.complete_workflow_task
    fail_workflow_task = _worker_plane.fail_workflow_task
    poll_query_task = _worker_plane.poll_query_task
    complete_query_task = _worker_plane.complete_query_task
    fail_query_task = _worker_plane.fail_query_task
    poll_activity_task = _worker_plane.poll_activity_task
    complete_activity_task = _worker_plane.complete_activity_task
    fail_activity_task = _worker_plane.fail_activity_task
    heartbeat_activity_task = _worker_plane.heartbeat_activity_task
    # 2.x servers only (upstream SDK 2.12.0's names)
    poll_update_validation_task = _worker_plane_v2.poll_update_validation_task
    approve_update_validation_task = _worker_plane_v2.approve_update_validation_task
    reject_update_validation_task = _worker_plane_v2.reject_update_validation_task
    deregister_worker_registration = _worker_plane_v2.deregister_worker_registration
