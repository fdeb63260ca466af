"""``durable_workflow.sync``: a blocking facade over the async ``Client``.

Same constructor options and method signatures as upstream's ``sync.Client``
(sdk-surface.md §2), plus the methods upstream left out. Unlike upstream it
works inside a running event loop (Jupyter, async web apps): each client owns
a private loop thread that runs the async calls while the caller blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from durable_workflow._connection_config import client_arguments
from durable_workflow.client import Client as AsyncClient
from durable_workflow.client._handles import StandaloneActivityHandle, WorkflowHandle
from durable_workflow.client._results._activities import (
    StandaloneActivityExecution,
    StandaloneActivityList,
)
from durable_workflow.client._results._admin import WorkflowCommandResult
from durable_workflow.client._results._workflows import (
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.sync._admin import SyncAdminMixin
from durable_workflow.sync._handles import (
    SyncScheduleHandle,
    SyncStandaloneActivityHandle,
    SyncWorkflowHandle,
)
from durable_workflow.sync._loop import LoopThread
from durable_workflow.sync._runs import SyncRunsMixin
from durable_workflow.sync._schedules import SyncSchedulesMixin

__all__ = ["Client", "SyncScheduleHandle", "SyncStandaloneActivityHandle", "SyncWorkflowHandle"]


class Client(SyncSchedulesMixin, SyncRunsMixin, SyncAdminMixin):
    """Blocking client for one server and namespace; ``close()`` when done."""

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
        """Blocking twin of ``durable_workflow.Client.from_env``."""
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
        """Blocking twin of ``durable_workflow.Client.from_profile``."""
        return cls.from_env(profile=name, **options)

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
        metrics: Any = None,
        external_storage: Any = None,
        external_storage_threshold_bytes: int | None = None,
        external_storage_cache: Any = None,
        transport: httpx.AsyncBaseTransport | None = None,
        payload_codec: Any = None,
    ) -> None:
        self._client = AsyncClient(
            base_url,
            token=token,
            control_token=control_token,
            worker_token=worker_token,
            namespace=namespace,
            timeout=timeout,
            retry_policy=retry_policy,
            metrics=metrics,
            external_storage=external_storage,
            external_storage_threshold_bytes=external_storage_threshold_bytes,
            external_storage_cache=external_storage_cache,
            transport=transport,
            payload_codec=payload_codec,
        )
        self._loop = LoopThread()

    @property
    def async_client(self) -> AsyncClient:
        """The async client doing the work (its calls must run on this client's loop)."""
        return self._client

    @property
    def base_url(self) -> str:
        return self._client.base_url

    @property
    def namespace(self) -> str:
        return self._client.namespace

    def close(self) -> None:
        """Close the connection pool and stop the private loop thread."""
        try:
            self._loop.run(self._client.aclose())
        except RuntimeError:
            return
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- workflows ---------------------------------------------------------------

    def start_workflow(
        self,
        *,
        workflow_type: str,
        task_queue: str,
        workflow_id: str,
        input: Sequence[Any] | None = None,
        execution_timeout_seconds: int = 3600,
        run_timeout_seconds: int = 600,
        duplicate_policy: str | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        priority: int | None = None,
        fairness_key: str | None = None,
        fairness_weight: float | None = None,
    ) -> SyncWorkflowHandle:
        handle = self._loop.run(
            self._client.start_workflow(
                workflow_type=workflow_type,
                task_queue=task_queue,
                workflow_id=workflow_id,
                input=input,
                execution_timeout_seconds=execution_timeout_seconds,
                run_timeout_seconds=run_timeout_seconds,
                duplicate_policy=duplicate_policy,
                memo=memo,
                search_attributes=search_attributes,
                priority=priority,
                fairness_key=fairness_key,
                fairness_weight=fairness_weight,
            )
        )
        return SyncWorkflowHandle(handle, self._loop)

    def get_workflow_handle(
        self, workflow_id: str, *, run_id: str | None = None, workflow_type: str = ""
    ) -> SyncWorkflowHandle:
        handle = self._client.get_workflow_handle(
            workflow_id, run_id=run_id, workflow_type=workflow_type
        )
        return SyncWorkflowHandle(handle, self._loop)

    def describe_workflow(self, workflow_id: str) -> WorkflowExecution:
        return self._loop.run(self._client.describe_workflow(workflow_id))

    def list_workflows(
        self,
        *,
        workflow_type: str | None = None,
        status: str | None = None,
        query: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> WorkflowList:
        return self._loop.run(
            self._client.list_workflows(
                workflow_type=workflow_type,
                status=status,
                query=query,
                page_size=page_size,
                next_page_token=next_page_token,
            )
        )

    def iter_workflows(
        self,
        *,
        workflow_type: str | None = None,
        status: str | None = None,
        query: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[WorkflowExecution]:
        return self._loop.iterate(
            self._client.iter_workflows(
                workflow_type=workflow_type, status=status, query=query, page_size=page_size
            )
        )

    def list_workflow_runs(self, workflow_id: str) -> WorkflowRunList:
        return self._loop.run(self._client.list_workflow_runs(workflow_id))

    def iter_workflow_runs(self, workflow_id: str) -> Iterator[WorkflowRun]:
        return self._loop.iterate(self._client.iter_workflow_runs(workflow_id))

    def describe_workflow_run(self, workflow_id: str, run_id: str) -> WorkflowRun:
        return self._loop.run(self._client.describe_workflow_run(workflow_id, run_id))

    def get_history(self, workflow_id: str, run_id: str) -> dict[str, Any]:
        return self._loop.run(self._client.get_history(workflow_id, run_id))

    def get_history_page(
        self,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int | None = None,
        next_page_token: str | None = None,
        wait_new_event: bool | None = None,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.get_history_page(
                workflow_id,
                run_id,
                page_size=page_size,
                next_page_token=next_page_token,
                wait_new_event=wait_new_event,
            )
        )

    def iter_history_events(
        self, workflow_id: str, run_id: str, *, page_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        return self._loop.iterate(
            self._client.iter_history_events(workflow_id, run_id, page_size=page_size)
        )

    def export_history(self, workflow_id: str, run_id: str) -> dict[str, Any]:
        return self._loop.run(self._client.export_history(workflow_id, run_id))

    def signal_workflow(
        self, workflow_id: str, signal_name: str, *, args: Sequence[Any] | None = None
    ) -> None:
        self._loop.run(self._client.signal_workflow(workflow_id, signal_name, args=args))

    def query_workflow(
        self, workflow_id: str, query_name: str, *, args: Sequence[Any] | None = None
    ) -> dict[str, Any]:
        return self._loop.run(self._client.query_workflow(workflow_id, query_name, args=args))

    def update_workflow(
        self,
        workflow_id: str,
        update_name: str,
        *,
        args: Sequence[Any] | None = None,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.update_workflow(
                workflow_id,
                update_name,
                args=args,
                wait_for=wait_for,
                wait_timeout_seconds=wait_timeout_seconds,
                request_id=request_id,
            )
        )

    def cancel_workflow(self, workflow_id: str, *, reason: str | None = None) -> None:
        self._loop.run(self._client.cancel_workflow(workflow_id, reason=reason))

    def terminate_workflow(self, workflow_id: str, *, reason: str | None = None) -> None:
        self._loop.run(self._client.terminate_workflow(workflow_id, reason=reason))

    def repair_workflow(self, workflow_id: str) -> WorkflowCommandResult:
        return self._loop.run(self._client.repair_workflow(workflow_id))

    def archive_workflow(
        self, workflow_id: str, *, reason: str | None = None
    ) -> WorkflowCommandResult:
        return self._loop.run(self._client.archive_workflow(workflow_id, reason=reason))

    def get_result(
        self,
        handle: SyncWorkflowHandle | WorkflowHandle,
        *,
        poll_interval: float = 0.5,
        timeout: float = 30.0,
    ) -> Any:
        target = handle.async_handle if isinstance(handle, SyncWorkflowHandle) else handle
        return self._loop.run(
            self._client.get_result(target, poll_interval=poll_interval, timeout=timeout)
        )

    # -- standalone activities -----------------------------------------------------

    def start_activity(
        self,
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
    ) -> SyncStandaloneActivityHandle:
        handle = self._loop.run(
            self._client.start_activity(
                activity_type=activity_type,
                task_queue=task_queue,
                activity_id=activity_id,
                activity_class=activity_class,
                input=input,
                business_key=business_key,
                retry_policy=retry_policy,
                start_to_close_timeout_seconds=start_to_close_timeout_seconds,
                schedule_to_start_timeout_seconds=schedule_to_start_timeout_seconds,
                schedule_to_close_timeout_seconds=schedule_to_close_timeout_seconds,
                heartbeat_timeout_seconds=heartbeat_timeout_seconds,
            )
        )
        return SyncStandaloneActivityHandle(handle, self._loop)

    def get_activity_handle(
        self,
        activity_id: str,
        *,
        workflow_run_id: str | None = None,
        activity_execution_id: str | None = None,
        activity_type: str = "",
    ) -> SyncStandaloneActivityHandle:
        handle = self._client.get_activity_handle(
            activity_id,
            workflow_run_id=workflow_run_id,
            activity_execution_id=activity_execution_id,
            activity_type=activity_type,
        )
        return SyncStandaloneActivityHandle(handle, self._loop)

    def describe_activity(self, activity_id: str) -> StandaloneActivityExecution:
        return self._loop.run(self._client.describe_activity(activity_id))

    def list_activities(
        self,
        *,
        status: str | None = None,
        page_size: int | None = None,
        next_page_token: str | None = None,
    ) -> StandaloneActivityList:
        return self._loop.run(
            self._client.list_activities(
                status=status, page_size=page_size, next_page_token=next_page_token
            )
        )

    def get_activity_result(
        self,
        handle: SyncStandaloneActivityHandle | StandaloneActivityHandle,
        *,
        poll_interval: float = 0.5,
        timeout: float = 30.0,
    ) -> Any:
        target = handle.async_handle if isinstance(handle, SyncStandaloneActivityHandle) else handle
        return self._loop.run(
            self._client.get_activity_result(target, poll_interval=poll_interval, timeout=timeout)
        )
