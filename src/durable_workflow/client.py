"""The async ``Client``: start and inspect workflows, and the worker-plane calls.

Public names and signatures follow upstream 0.4.53 (sdk-surface.md §1). Every
request goes through ``_transport.HttpTransport`` using the generated operation
specs, so paths, methods and planes come from ``contracts/`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from durable_workflow import errors, serializer
from durable_workflow._client_history import TerminalOutcome, terminal_outcome
from durable_workflow._client_results import (
    TERMINAL_STATUSES,
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow._generated import manifest as _manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow._transport import HttpTransport
from durable_workflow._version import SDK_VERSION
from durable_workflow.retry_policy import TransportRetryPolicy

__all__ = [
    "CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA",
    "CONTROL_PLANE_REQUEST_CONTRACT_VERSION",
    "CONTROL_PLANE_VERSION",
    "DEFAULT_SDK_VERSION",
    "PROTOCOL_VERSION",
    "TERMINAL_STATUSES",
    "Client",
    "WorkflowExecution",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]

PROTOCOL_VERSION: str = _manifest.WORKER_PROTOCOL_VERSION
CONTROL_PLANE_VERSION: str = _manifest.CONTROL_PLANE_VERSION
CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA: str = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA
CONTROL_PLANE_REQUEST_CONTRACT_VERSION: int = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION
DEFAULT_SDK_VERSION: str = SDK_VERSION

# History page size used when the client reads a whole history (server max is 1000).
_HISTORY_PAGE_SIZE = 1000


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values: optional request fields are omitted, not sent as null."""
    return {key: value for key, value in values.items() if value is not None}


def _decode_payload(envelope: Mapping[str, Any], default_codec: str | None) -> Any:
    return serializer.decode_envelope(dict(envelope), default_codec=default_codec or "avro")


def _require_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.ServerError(200, {"reason": f"invalid_{what}", "body": value})
    return value


class WorkflowHandle:
    """A reference to one workflow (and optionally one of its runs); no I/O until used."""

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        run_id: str | None = None,
        workflow_type: str = "",
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type

    def __repr__(self) -> str:
        return (
            f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, "
            f"workflow_type={self.workflow_type!r})"
        )

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        """Wait for the workflow's final result (see ``Client.get_result``)."""
        return await self.client.get_result(self, poll_interval=poll_interval, timeout=timeout)

    async def describe(self) -> WorkflowExecution:
        return await self.client.describe_workflow(self.workflow_id)

    async def get_history(self) -> dict[str, Any]:
        if not self.run_id:
            raise ValueError("get_history() needs a run_id on the handle")
        return await self.client.get_history(self.workflow_id, self.run_id)

    async def list_runs(self) -> WorkflowRunList:
        return await self.client.list_workflow_runs(self.workflow_id)

    async def describe_run(self, run_id: str | None = None) -> WorkflowRun:
        target = run_id or self.run_id
        if not target:
            raise ValueError("describe_run() needs a run_id (argument or handle)")
        return await self.client.describe_workflow_run(self.workflow_id, target)


class Client:
    """Async client for one server and namespace; one HTTP connection pool per instance.

    Options are upstream's (sdk-surface.md §1.1) plus ``transport``, an
    ``httpx.AsyncBaseTransport`` that replaces the network layer (tests use
    ``httpx.MockTransport``). ``metrics`` and the payload-size options are stored
    for later use; ``external_storage`` is not supported yet and is refused.
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
        metrics: Any = None,
        payload_size_limit_bytes: int = 2_097_152,
        payload_size_warning_threshold_percent: int = 80,
        payload_size_warnings: bool = True,
        external_storage: Any = None,
        external_storage_threshold_bytes: int | None = None,
        external_storage_cache: Any = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if external_storage is not None:
            raise NotImplementedError(
                "external payload storage is not supported by this SDK version yet; "
                "construct the Client without external_storage"
            )
        if external_storage_threshold_bytes is not None and external_storage_threshold_bytes < 1:
            raise ValueError("external_storage_threshold_bytes must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.control_token = control_token
        self.worker_token = worker_token
        self.namespace = namespace
        self.timeout = timeout
        self.retry_policy = retry_policy if retry_policy is not None else TransportRetryPolicy()
        self.metrics = metrics
        self.payload_size_limit_bytes = payload_size_limit_bytes
        self.payload_size_warning_threshold_percent = payload_size_warning_threshold_percent
        self.payload_size_warnings = payload_size_warnings
        self.payload_size_warning_config: Any = None
        self.external_storage = external_storage
        self.external_storage_threshold_bytes = external_storage_threshold_bytes
        self.external_storage_cache = external_storage_cache
        self._transport = HttpTransport(
            self.base_url,
            token=token,
            control_token=control_token,
            worker_token=worker_token,
            namespace=namespace,
            timeout=timeout,
            retry_policy=self.retry_policy,
            http_transport=transport,
        )

    # -- lifecycle -------------------------------------------------------------

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

    # -- plumbing --------------------------------------------------------------

    async def _call(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        context: str | None = None,
    ) -> Any:
        spec = OPERATIONS[operation]
        return await self._transport.call(
            spec,
            path_params=path_params or {},
            query=query,
            body=_validated_body(spec.request_model, operation, body),
            timeout=timeout,
            context=context,
        )

    # -- discovery ---------------------------------------------------------------

    async def get_cluster_info(self) -> dict[str, Any]:
        """``GET /api/cluster/info``: the server's versions, contracts and capabilities."""
        info = await self._call("cluster.info")
        if not isinstance(info, dict):
            raise errors.ServerError(200, {"reason": "invalid_cluster_info"})
        return info

    async def health(self) -> dict[str, Any]:
        """``GET /api/health``."""
        return _require_dict(await self._call("health.check"), "health")

    # -- workflows -----------------------------------------------------------------

    async def start_workflow(
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
    ) -> WorkflowHandle:
        """Start a workflow; ``input`` (positional arguments) is sent as an Avro envelope."""
        body = _compact(
            {
                "workflow_id": workflow_id,
                "workflow_type": workflow_type,
                "task_queue": task_queue,
                "input": serializer.envelope(list(input or []), codec="avro"),
                "execution_timeout_seconds": execution_timeout_seconds,
                "run_timeout_seconds": run_timeout_seconds,
                "duplicate_policy": duplicate_policy,
                "memo": dict(memo) if memo is not None else None,
                "search_attributes": (
                    dict(search_attributes) if search_attributes is not None else None
                ),
                "priority": priority,
                "fairness_key": fairness_key,
                "fairness_weight": fairness_weight,
            }
        )
        data = _require_dict(
            await self._call("workflow.start", body=body, context=workflow_id), "start_response"
        )
        return WorkflowHandle(
            self,
            workflow_id=str(data.get("workflow_id") or workflow_id),
            run_id=data.get("run_id") if isinstance(data.get("run_id"), str) else None,
            workflow_type=str(data.get("workflow_type") or workflow_type),
        )

    def get_workflow_handle(
        self, workflow_id: str, *, run_id: str | None = None, workflow_type: str = ""
    ) -> WorkflowHandle:
        """A handle for an existing workflow (no request is sent)."""
        return WorkflowHandle(self, workflow_id, run_id=run_id, workflow_type=workflow_type)

    async def describe_workflow(self, workflow_id: str) -> WorkflowExecution:
        """The workflow's current run, with input/output decoded."""
        data = await self._call("workflow.describe", path_params={"workflowId": workflow_id})
        return WorkflowExecution.from_dict(
            _require_dict(data, "describe_response"),
            workflow_id=workflow_id,
            decode=_decode_payload,
        )

    async def describe_workflow_run(self, workflow_id: str, run_id: str) -> WorkflowRun:
        """One run of a workflow by run id."""
        data = await self._call(
            "workflow.show_run", path_params={"workflowId": workflow_id, "runId": run_id}
        )
        return WorkflowRun.from_dict(
            _require_dict(data, "run_response"),
            workflow_id=workflow_id,
            run_id=run_id,
            decode=_decode_payload,
        )

    async def list_workflow_runs(self, workflow_id: str) -> WorkflowRunList:
        """Every run of a workflow id (a continue-as-new chain), oldest first."""
        data = _require_dict(
            await self._call("workflow.list_runs", path_params={"workflowId": workflow_id}),
            "runs_response",
        )
        items = data.get("runs")
        runs = [
            WorkflowRun.from_dict(item, workflow_id=workflow_id, decode=_decode_payload)
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ]
        count = data.get("run_count")
        return WorkflowRunList(
            workflow_id=str(data.get("workflow_id") or workflow_id),
            run_count=count if isinstance(count, int) else len(runs),
            runs=runs,
        )

    async def get_history(self, workflow_id: str, run_id: str) -> dict[str, Any]:
        """The first page of a run's history, as the server sent it (upstream shape)."""
        data = await self._call(
            "workflow.history", path_params={"workflowId": workflow_id, "runId": run_id}
        )
        return _require_dict(data, "history_response")

    async def _history_events(self, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every event of a run, following ``next_page_token`` to the last page."""
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            data = _require_dict(
                await self._call(
                    "workflow.history",
                    path_params={"workflowId": workflow_id, "runId": run_id},
                    query=_compact({"page_size": _HISTORY_PAGE_SIZE, "next_page_token": token}),
                ),
                "history_response",
            )
            page = data.get("events")
            events.extend(
                e for e in (page if isinstance(page, list) else []) if isinstance(e, dict)
            )
            next_token = data.get("next_page_token")
            if not isinstance(next_token, str) or not next_token or next_token == token:
                return events
            token = next_token

    async def get_result(
        self, handle: WorkflowHandle, *, poll_interval: float = 0.5, timeout: float = 30.0
    ) -> Any:
        """Wait until the workflow closes and return its decoded result.

        Unlike upstream it reads every history page and follows continue-as-new
        to the final run. Raises ``WorkflowFailed`` / ``WorkflowTerminated`` /
        ``WorkflowCancelled`` for those outcomes and ``TimeoutError`` when the
        workflow is still open after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        run_id = handle.run_id
        while True:
            run_codec: str | None
            if run_id is None:
                execution = await self.describe_workflow(handle.workflow_id)
                status, current_run, run_codec = (
                    execution.status,
                    execution.run_id,
                    execution.payload_codec,
                )
            else:
                run = await self.describe_workflow_run(handle.workflow_id, run_id)
                status, current_run, run_codec = run.status, run.run_id or run_id, run.payload_codec
            if (status or "").lower() in TERMINAL_STATUSES and current_run:
                events = await self._history_events(handle.workflow_id, current_run)
                outcome = terminal_outcome(events)
                if outcome is not None and outcome.continued_to_run_id:
                    run_id = outcome.continued_to_run_id
                    continue
                if outcome is not None:
                    return _resolve(outcome, run_codec)
                if (status or "").lower() != "completed":
                    raise errors.WorkflowFailed(
                        f"workflow {handle.workflow_id} closed with status {status}"
                    )
                return None
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"workflow {handle.workflow_id} did not finish within {timeout:g}s "
                    f"(last status: {status})"
                )
            await asyncio.sleep(min(poll_interval, remaining))

    # -- worker plane ------------------------------------------------------------

    async def register_worker(
        self,
        *,
        worker_id: str,
        task_queue: str,
        supported_workflow_types: Sequence[str] | None = None,
        workflow_definition_fingerprints: Mapping[str, str] | None = None,
        supported_activity_types: Sequence[str] | None = None,
        max_concurrent_workflow_tasks: int | None = None,
        max_concurrent_activity_tasks: int | None = None,
        runtime: str = "python",
        sdk_version: str | None = None,
        build_id: str | None = None,
        capabilities: Sequence[str] | None = None,
        task_slots: Mapping[str, Any] | None = None,
        process_metrics: Mapping[str, Any] | None = None,
        heartbeat_interval_seconds: float | None = None,
    ) -> dict[str, Any]:
        """``POST /api/worker/register``."""
        for name, value in (
            ("max_concurrent_workflow_tasks", max_concurrent_workflow_tasks),
            ("max_concurrent_activity_tasks", max_concurrent_activity_tasks),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1")
        body = _compact(
            {
                "worker_id": worker_id,
                "task_queue": task_queue,
                "runtime": runtime,
                "sdk_version": sdk_version or DEFAULT_SDK_VERSION,
                "build_id": build_id,
                "supported_workflow_types": _list_or_none(supported_workflow_types),
                "workflow_definition_fingerprints": _dict_or_none(workflow_definition_fingerprints),
                "supported_activity_types": _list_or_none(supported_activity_types),
                "max_concurrent_workflow_tasks": max_concurrent_workflow_tasks,
                "max_concurrent_activity_tasks": max_concurrent_activity_tasks,
                "capabilities": _list_or_none(capabilities),
                "task_slots": _dict_or_none(task_slots),
                "process_metrics": _dict_or_none(process_metrics),
                "heartbeat_interval_seconds": heartbeat_interval_seconds,
            }
        )
        return _require_dict(await self._call("worker.register", body=body), "register_response")

    async def heartbeat_worker(
        self,
        *,
        worker_id: str,
        task_slots: Mapping[str, Any] | None = None,
        process_metrics: Mapping[str, Any] | None = None,
        heartbeat_interval_seconds: float | None = None,
    ) -> dict[str, Any]:
        """``POST /api/worker/heartbeat``."""
        body = _compact(
            {
                "worker_id": worker_id,
                "task_slots": _dict_or_none(task_slots),
                "process_metrics": _dict_or_none(process_metrics),
                "heartbeat_interval_seconds": heartbeat_interval_seconds,
            }
        )
        return _require_dict(await self._call("worker.heartbeat", body=body), "heartbeat_response")

    async def _poll(
        self, operation: str, body: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None:
        try:
            data = await self._call(operation, body=body, timeout=timeout)
        except errors.TransportTimeout:
            # The server holds a poll for at most its long-poll timeout; a client-side
            # timeout means "nothing arrived", the caller simply polls again.
            return None
        task = data.get("task") if isinstance(data, dict) else None
        return task if isinstance(task, dict) else None

    async def poll_workflow_task(
        self, *, worker_id: str, task_queue: str, timeout: float = 35.0
    ) -> dict[str, Any] | None:
        """Long-poll for a workflow task; ``None`` when none arrived in time."""
        body = {
            "worker_id": worker_id,
            "task_queue": task_queue,
            "poll_request_id": f"wf-poll-{uuid.uuid4().hex}",
        }
        return await self._poll("workflow-task.poll", body, timeout)

    async def workflow_task_history(
        self,
        *,
        task_id: str,
        next_history_page_token: str | None = None,
        page_token: str | None = None,
        lease_owner: str,
        workflow_task_attempt: int,
    ) -> dict[str, Any]:
        """The next history page of a leased workflow task."""
        if next_history_page_token and page_token and next_history_page_token != page_token:
            raise ValueError("next_history_page_token and page_token disagree")
        token = next_history_page_token or page_token
        body = _compact(
            {
                "lease_owner": lease_owner,
                "workflow_task_attempt": workflow_task_attempt,
                "next_history_page_token": token,
            }
        )
        data = await self._call("workflow-task.history", path_params={"taskId": task_id}, body=body)
        return _require_dict(data, "history_response")

    async def complete_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        commands: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """Submit a workflow task's commands (already in wire form)."""
        body = {
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
            "commands": [dict(command) for command in commands],
        }
        data = await self._call(
            "workflow-task.complete", path_params={"taskId": task_id}, body=body
        )
        return _require_dict(data, "complete_response")

    async def fail_workflow_task(
        self,
        *,
        task_id: str,
        lease_owner: str,
        workflow_task_attempt: int,
        message: str,
        failure_type: str | None = None,
        stack_trace: str | None = None,
    ) -> dict[str, Any]:
        """Report that this worker could not process a workflow task."""
        body = {
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
            "failure": _compact(
                {"message": message, "type": failure_type, "stack_trace": stack_trace}
            ),
        }
        data = await self._call("workflow-task.fail", path_params={"taskId": task_id}, body=body)
        return _require_dict(data, "fail_response")

    async def poll_query_task(
        self, *, worker_id: str, task_queue: str, timeout: float = 35.0
    ) -> dict[str, Any] | None:
        """Long-poll for a query task; ``None`` when none arrived in time."""
        body = {
            "worker_id": worker_id,
            "task_queue": task_queue,
            "poll_request_id": f"query-poll-{uuid.uuid4().hex}",
        }
        return await self._poll("query-task.poll", body, timeout)

    async def complete_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        result: Any,
        codec: str = "avro",
        workflow_id: str | None = None,
        run_id: str | None = None,
        query_name: str | None = None,
        external_storage: Any = None,
        external_storage_threshold_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Answer a query task with the raw result plus its encoded envelope."""
        if external_storage is not None:
            raise NotImplementedError("external payload storage is not supported yet")
        body = {
            "lease_owner": lease_owner,
            "query_task_attempt": query_task_attempt,
            "result": result,
            "result_envelope": serializer.envelope(result, codec=codec),
        }
        data = await self._call(
            "query-task.complete", path_params={"queryTaskId": query_task_id}, body=body
        )
        return _require_dict(data, "query_complete_response")

    async def fail_query_task(
        self,
        *,
        query_task_id: str,
        lease_owner: str,
        query_task_attempt: int,
        message: str,
        reason: str = "query_rejected",
        failure_type: str | None = None,
        stack_trace: str | None = None,
    ) -> dict[str, Any]:
        """Answer a query task with a failure and its reason code."""
        body = {
            "lease_owner": lease_owner,
            "query_task_attempt": query_task_attempt,
            "failure": _compact(
                {
                    "message": message,
                    "reason": reason,
                    "type": failure_type,
                    "stack_trace": stack_trace,
                }
            ),
        }
        data = await self._call(
            "query-task.fail", path_params={"queryTaskId": query_task_id}, body=body
        )
        return _require_dict(data, "query_fail_response")

    async def poll_activity_task(
        self, *, worker_id: str, task_queue: str, timeout: float = 35.0
    ) -> dict[str, Any] | None:
        """Long-poll for an activity task; ``None`` when none arrived in time."""
        body = {"worker_id": worker_id, "task_queue": task_queue}
        return await self._poll("activity.poll", body, timeout)

    async def complete_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        result: Any,
        codec: str = "avro",
        activity_name: str | None = None,
        external_storage: Any = None,
        external_storage_threshold_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Report an activity attempt's result (sent as a ``{codec, blob}`` envelope)."""
        if external_storage is not None:
            raise NotImplementedError("external payload storage is not supported yet")
        body = {
            "activity_attempt_id": activity_attempt_id,
            "lease_owner": lease_owner,
            "result": serializer.envelope(result, codec=codec),
        }
        data = await self._call("activity.complete", path_params={"taskId": task_id}, body=body)
        return _require_dict(data, "activity_complete_response")

    async def fail_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        message: str,
        failure_type: str | None = None,
        stack_trace: str | None = None,
        non_retryable: bool = False,
        details: Any = None,
        codec: str = "avro",
        activity_name: str | None = None,
    ) -> dict[str, Any]:
        """Report an activity attempt's failure in the cross-language failure shape."""
        failure: dict[str, Any] = _compact(
            {"message": message, "type": failure_type, "stack_trace": stack_trace}
        )
        failure["non_retryable"] = bool(non_retryable)
        if details is not None:
            failure["details"] = serializer.envelope(details, codec=codec)
        body = {
            "activity_attempt_id": activity_attempt_id,
            "lease_owner": lease_owner,
            "failure": failure,
        }
        data = await self._call("activity.fail", path_params={"taskId": task_id}, body=body)
        return _require_dict(data, "activity_fail_response")

    async def heartbeat_activity_task(
        self,
        *,
        task_id: str,
        activity_attempt_id: str,
        lease_owner: str,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Extend an activity attempt's lease; the answer says whether to stop."""
        body = _compact(
            {
                "activity_attempt_id": activity_attempt_id,
                "lease_owner": lease_owner,
                "details": _dict_or_none(details),
            }
        )
        data = await self._call("activity.heartbeat", path_params={"taskId": task_id}, body=body)
        return _require_dict(data, "activity_heartbeat_response")


def _validated_body(model: type[BaseModel] | None, operation: str, body: Any) -> Any:
    """Check a request body against the operation's generated model before sending it.

    A bad argument then fails here with ``InvalidArgument`` naming the field,
    instead of as a server 422 (or, for some fields, a silently wrong request).
    Only the fields the caller set are sent.
    """
    if model is None or not isinstance(body, Mapping):
        return body
    try:
        validated = model.model_validate(dict(body))
    except ValidationError as exc:
        fields: dict[str, Any] = {}
        for problem in exc.errors():
            path = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(path, []).append(problem["msg"])
        first = next(iter(fields.items()))
        raise errors.InvalidArgument(
            f"invalid {operation} request: {first[0]}: {first[1][0]}", fields
        ) from None
    return validated.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _list_or_none(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values is not None else None


def _dict_or_none(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(values) if values is not None else None


def _resolve(outcome: TerminalOutcome, run_codec: str | None) -> Any:
    """Turn a run's terminal event into its result or the matching exception."""
    payload = outcome.payload
    if outcome.event_type == "WorkflowCompleted":
        output = payload.get("output")
        if output is None:
            return None
        codec = payload.get("payload_codec") or run_codec or "avro"
        if isinstance(output, dict):
            return serializer.decode_envelope(output, default_codec=str(codec))
        return serializer.decode(output, codec=str(codec))
    message = _failure_message(payload)
    if outcome.event_type == "WorkflowTerminated":
        raise errors.WorkflowTerminated(message or "workflow was terminated")
    if outcome.event_type == "WorkflowCancelled":
        raise errors.WorkflowCancelled(message or "workflow was cancelled")
    exception_class = payload.get("exception_class") or payload.get("exception_type")
    raise errors.WorkflowFailed(
        message or f"workflow failed ({outcome.event_type})",
        str(exception_class) if exception_class else None,
    )


def _failure_message(payload: Mapping[str, Any]) -> str:
    for key in ("message", "reason"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    exception = payload.get("exception")
    if isinstance(exception, dict) and isinstance(exception.get("message"), str):
        return str(exception["message"])
    return ""
