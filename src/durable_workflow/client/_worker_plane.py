"""Worker-plane calls (register, poll, complete, fail, heartbeat) used by ``Worker``.

Public for custom runtimes (sdk-surface.md §1.3); the wire shapes are in
worker-protocol.md for 0.x servers. On a 2.x server each call sends the same
route with the fields the vendored 2.x documents add (``_worker_plane_v2``).
Polls return ``None`` when nothing arrived in time.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from durable_workflow import errors
from durable_workflow._version import SDK_VERSION
from durable_workflow.client import _client
from durable_workflow.client._calls import (
    compact,
    dict_or_none,
    list_or_none,
    require_dict,
)
from durable_workflow.client._worker_plane_v2 import TASK_KINDS, poll_timeouts
from durable_workflow.client._worker_plane_v2 import capability_manifest as no_portable_features
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter._rich_values import to_plain

__all__ = [
    "complete_activity_task",
    "complete_query_task",
    "complete_workflow_task",
    "fail_activity_task",
    "fail_query_task",
    "fail_workflow_task",
    "heartbeat_activity_task",
    "heartbeat_worker",
    "heartbeat_workflow_task",
    "poll_activity_task",
    "poll_query_task",
    "poll_workflow_task",
    "register_worker",
    "workflow_task_history",
]


async def register_worker(
    self: _client.Client,
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
    capability_manifest: Mapping[str, Any] | None = None,
    workflow_command_contracts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``POST /api/worker/register``.

    On a 2.x server the body also carries the portable ``capability_manifest``
    (default: no portable feature offered) and
    ``workflow_command_contracts`` (per workflow type: its signals, queries,
    updates and ``update_validators``; the server routes validated updates by it).
    """
    for name, value in (
        ("max_concurrent_workflow_tasks", max_concurrent_workflow_tasks),
        ("max_concurrent_activity_tasks", max_concurrent_activity_tasks),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1")
    body = compact(
        {
            "worker_id": worker_id,
            "task_queue": task_queue,
            "runtime": runtime,
            "sdk_version": sdk_version or SDK_VERSION,
            "build_id": build_id,
            "supported_workflow_types": list_or_none(supported_workflow_types),
            "workflow_definition_fingerprints": dict_or_none(workflow_definition_fingerprints),
            "supported_activity_types": list_or_none(supported_activity_types),
            "max_concurrent_workflow_tasks": max_concurrent_workflow_tasks,
            "max_concurrent_activity_tasks": max_concurrent_activity_tasks,
            "capabilities": list_or_none(capabilities),
            "task_slots": dict_or_none(task_slots),
            "process_metrics": dict_or_none(process_metrics),
            "heartbeat_interval_seconds": heartbeat_interval_seconds,
        }
    )
    if await _on_2x(self):
        body["capability_manifest"] = dict(
            capability_manifest if capability_manifest is not None else no_portable_features()
        )
        if workflow_command_contracts is not None:
            body["workflow_command_contracts"] = dict(workflow_command_contracts)
        body.setdefault("supported_workflow_types", [])
        body.setdefault("supported_activity_types", [])
        if heartbeat_interval_seconds is not None:
            body["heartbeat_interval_seconds"] = max(1, math.ceil(heartbeat_interval_seconds))
    return require_dict(await self._call("worker.register", body=body), "register_response")


async def heartbeat_worker(
    self: _client.Client,
    *,
    worker_id: str,
    task_slots: Mapping[str, Any] | None = None,
    process_metrics: Mapping[str, Any] | None = None,
    heartbeat_interval_seconds: float | None = None,
) -> dict[str, Any]:
    """``POST /api/worker/heartbeat``."""
    body = compact(
        {
            "worker_id": worker_id,
            "task_slots": dict_or_none(task_slots),
            "process_metrics": dict_or_none(process_metrics),
            "heartbeat_interval_seconds": heartbeat_interval_seconds,
        }
    )
    return require_dict(await self._call("worker.heartbeat", body=body), "heartbeat_response")


async def _on_2x(self: _client.Client) -> bool:
    return (await self._negotiate()).generation == 2


async def _poll_body(
    self: _client.Client, body: dict[str, Any], timeout: float, *, queues: bool
) -> float:
    """Add a 2.x poll's fields to ``body``; return the HTTP timeout to use.

    A 2.x server holds the poll for ``timeout_seconds`` (at most 60), so the HTTP
    request waits a little longer than that; activity and query polls name their
    queue in ``task_queues`` as well (``PollRequest``).
    """
    if not await _on_2x(self):
        return timeout
    seconds, http_timeout = poll_timeouts(timeout)
    body["timeout_seconds"] = seconds
    if queues:
        body["task_queues"] = [body["task_queue"]]
    return http_timeout


async def _poll(
    self: _client.Client, operation: str, body: dict[str, Any], timeout: float
) -> dict[str, Any] | None:
    # The server holds a poll for at most its long-poll timeout. After a client-side
    # timeout the same poll (same poll_request_id) is sent once more: the server
    # answers it with whatever it leased to the first, so that task is not stranded.
    # A second timeout means "nothing arrived"; the caller simply polls again.
    for _ in range(2):
        try:
            data = await self._call(operation, body=body, timeout=timeout)
        except errors.TransportTimeout:
            continue
        task = data.get("task") if isinstance(data, dict) else None
        return task if isinstance(task, dict) else None
    return None


async def poll_workflow_task(
    self: _client.Client,
    *,
    worker_id: str,
    task_queue: str,
    timeout: float = 35.0,
    history_page_size: int | None = None,
    task_kinds: Sequence[str] | None = None,
) -> dict[str, Any] | None:
    """Long-poll for a workflow task; ``None`` when none arrived in time.

    ``history_page_size`` (1..1000, server default 500) sizes the first history
    page the task carries; a worker that caches runs asks for a small one.
    ``task_kinds`` (2.x servers that offer ``update_validation_tasks``) widens the
    poll to update-validation tasks too: the answer's ``task_kind`` says which came.
    """
    body = compact(
        {
            "worker_id": worker_id,
            "task_queue": task_queue,
            "poll_request_id": f"wf-poll-{uuid.uuid4().hex}",
            "history_page_size": history_page_size,
        }
    )
    if task_kinds is not None:
        kinds = [kind for kind in task_kinds]
        unknown = sorted(set(kinds) - set(TASK_KINDS))
        if not kinds or unknown or len(set(kinds)) != len(kinds):
            raise errors.InvalidArgument(
                f"task_kinds must be distinct values of {', '.join(TASK_KINDS)}",
                {"task_kinds": [f"unknown: {unknown}" if unknown else "empty or repeated"]},
            )
        if "update_validation" in kinds:
            (await self._negotiate()).require("update_validation_tasks")
        body["task_kinds"] = kinds
    timeout = await _poll_body(self, body, timeout, queues=False)
    return await _poll(self, "workflow-task.poll", body, timeout)


async def workflow_task_history(
    self: _client.Client,
    *,
    task_id: str,
    next_history_page_token: str | None = None,
    page_token: str | None = None,
    lease_owner: str,
    workflow_task_attempt: int,
    history_page_size: int | None = None,
) -> dict[str, Any]:
    """The next history page of a leased workflow task (``history_page_size`` 1..1000)."""
    if next_history_page_token and page_token and next_history_page_token != page_token:
        raise ValueError("next_history_page_token and page_token disagree")
    token = next_history_page_token or page_token
    body = compact(
        {
            "lease_owner": lease_owner,
            "workflow_task_attempt": workflow_task_attempt,
            "next_history_page_token": token,
            "history_page_size": history_page_size,
        }
    )
    data = await self._call("workflow-task.history", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "history_response")


async def heartbeat_workflow_task(
    self: _client.Client, *, task_id: str, lease_owner: str, workflow_task_attempt: int
) -> dict[str, Any]:
    """Extend a leased workflow task while a long replay is still running."""
    body = {"lease_owner": lease_owner, "workflow_task_attempt": workflow_task_attempt}
    data = await self._call("workflow-task.heartbeat", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "workflow_task_heartbeat")


async def complete_workflow_task(
    self: _client.Client,
    *,
    task_id: str,
    lease_owner: str,
    workflow_task_attempt: int,
    commands: Sequence[Mapping[str, Any]],
    eager_activity_slots: int | None = None,
    workflow_task_slots: int | None = None,
    history_page_size: int | None = None,
) -> dict[str, Any]:
    """Submit a workflow task's commands (already in wire form).

    ``eager_activity_slots`` asks a server advertising ``eager_activity_dispatch``
    for up to that many of the activity tasks these commands schedule, leased to
    this worker, in the response's ``eager_activity_tasks``; ``workflow_task_slots``
    (with the ``history_page_size`` of this worker's polls) asks a server advertising
    ``eager_workflow_tasks`` for up to that many ready workflow tasks, in the
    response's ``workflow_tasks``. Neither field is sent when ``None``.
    """
    body: dict[str, Any] = {
        "lease_owner": lease_owner,
        "workflow_task_attempt": workflow_task_attempt,
        "commands": [dict(command) for command in commands],
    }
    if eager_activity_slots is not None:
        body["eager_activity_slots"] = eager_activity_slots
    _ask_workflow_tasks(body, workflow_task_slots, history_page_size)
    data = await self._call("workflow-task.complete", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "complete_response")


async def fail_workflow_task(
    self: _client.Client,
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
        "failure": compact({"message": message, "type": failure_type, "stack_trace": stack_trace}),
    }
    await _name_the_worker(self, body, lease_owner)
    data = await self._call("workflow-task.fail", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "fail_response")


async def poll_query_task(
    self: _client.Client, *, worker_id: str, task_queue: str, timeout: float = 35.0
) -> dict[str, Any] | None:
    """Long-poll for a query task; ``None`` when none arrived in time."""
    body: dict[str, Any] = {
        "worker_id": worker_id,
        "task_queue": task_queue,
        "poll_request_id": f"query-poll-{uuid.uuid4().hex}",
    }
    timeout = await _poll_body(self, body, timeout, queues=True)
    return await _poll(self, "query-task.poll", body, timeout)


async def complete_query_task(
    self: _client.Client,
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
    payload_codec_chain: PayloadCodec | None = None,
) -> dict[str, Any]:
    """Answer a query task with the raw result plus its encoded envelope."""
    await self._negotiate()
    chain = payload_codec_chain if payload_codec_chain is not None else self.payload_codec
    body = {
        "lease_owner": lease_owner,
        "query_task_attempt": query_task_attempt,
        # The plain value would bypass a payload codec chain: then only the envelope
        # (also for a value JSON cannot carry, such as bytes on a 2.x server).
        "result": _plain_result(result) if chain is None else None,
        "result_envelope": self._envelope(
            result,
            codec,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            payload_codec_chain=chain,
            context=self._payload_context(
                "query_result", workflow_id=workflow_id, run_id=run_id, query_name=query_name
            ),
            field="result_envelope",
        ),
    }
    await _name_the_worker(self, body, lease_owner)
    data = await self._call(
        "query-task.complete", path_params={"queryTaskId": query_task_id}, body=body
    )
    return require_dict(data, "query_complete_response")


async def fail_query_task(
    self: _client.Client,
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
        "failure": compact(
            {
                "message": message,
                "reason": reason,
                "type": failure_type,
                "stack_trace": stack_trace,
            }
        ),
    }
    await _name_the_worker(self, body, lease_owner)
    data = await self._call(
        "query-task.fail", path_params={"queryTaskId": query_task_id}, body=body
    )
    return require_dict(data, "query_fail_response")


async def poll_activity_task(
    self: _client.Client, *, worker_id: str, task_queue: str, timeout: float = 35.0
) -> dict[str, Any] | None:
    """Long-poll for an activity task; ``None`` when none arrived in time."""
    body: dict[str, Any] = {"worker_id": worker_id, "task_queue": task_queue}
    timeout = await _poll_body(self, body, timeout, queues=True)
    return await _poll(self, "activity.poll", body, timeout)


async def complete_activity_task(
    self: _client.Client,
    *,
    task_id: str,
    activity_attempt_id: str,
    lease_owner: str,
    result: Any,
    codec: str = "avro",
    activity_name: str | None = None,
    external_storage: Any = None,
    external_storage_threshold_bytes: int | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    workflow_id: str | None = None,
    run_id: str | None = None,
    workflow_task_slots: int | None = None,
    history_page_size: int | None = None,
) -> dict[str, Any]:
    """Report an activity attempt's result (sent as a ``{codec, blob}`` envelope).

    ``workflow_id``/``run_id`` (the task's) only label size warnings and errors;
    ``workflow_task_slots`` and ``history_page_size`` as for ``complete_workflow_task``.
    """
    await self._negotiate()
    context = self._payload_context(
        "activity_result",
        workflow_id=workflow_id,
        run_id=run_id,
        activity_name=activity_name,
    )
    body = {
        "activity_attempt_id": activity_attempt_id,
        "lease_owner": lease_owner,
        "result": self._envelope(
            result,
            codec,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            payload_codec_chain=payload_codec_chain,
            context=context,
            field="result",
        ),
    }
    _ask_workflow_tasks(body, workflow_task_slots, history_page_size)
    await _name_the_worker(self, body, lease_owner)
    data = await self._call("activity.complete", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "activity_complete_response")


async def fail_activity_task(
    self: _client.Client,
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
    external_storage: Any = None,
    external_storage_threshold_bytes: int | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    workflow_task_slots: int | None = None,
    history_page_size: int | None = None,
) -> dict[str, Any]:
    """Report an activity attempt's failure in the cross-language failure shape.

    ``details`` are offloaded like a result when they exceed the storage threshold;
    ``workflow_task_slots`` and ``history_page_size`` as for ``complete_workflow_task``.
    """
    await self._negotiate()
    failure: dict[str, Any] = compact(
        {"message": message, "type": failure_type, "stack_trace": stack_trace}
    )
    failure["non_retryable"] = bool(non_retryable)
    if details is not None:
        failure["details"] = self._envelope(
            details,
            codec,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            payload_codec_chain=payload_codec_chain,
            context=self._payload_context("activity_failure_details", activity_name=activity_name),
            field="failure.details",
        )
    body = {
        "activity_attempt_id": activity_attempt_id,
        "lease_owner": lease_owner,
        "failure": failure,
    }
    _ask_workflow_tasks(body, workflow_task_slots, history_page_size)
    await _name_the_worker(self, body, lease_owner)
    data = await self._call("activity.fail", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "activity_fail_response")


async def heartbeat_activity_task(
    self: _client.Client,
    *,
    task_id: str,
    activity_attempt_id: str,
    lease_owner: str,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Extend an activity attempt's lease; the answer says whether to stop."""
    body = compact(
        {
            "activity_attempt_id": activity_attempt_id,
            "lease_owner": lease_owner,
            "details": dict_or_none(details),
        }
    )
    await _name_the_worker(self, body, lease_owner)
    data = await self._call("activity.heartbeat", path_params={"taskId": task_id}, body=body)
    return require_dict(data, "activity_heartbeat_response")


def _ask_workflow_tasks(body: dict[str, Any], slots: int | None, page_size: int | None) -> None:
    """The ``eager_workflow_tasks`` request fields (dev server, generation 1), when asked."""
    if slots is not None:
        body["workflow_task_slots"] = slots
        if page_size is not None:
            body["history_page_size"] = page_size


async def _name_the_worker(self: _client.Client, body: dict[str, Any], lease_owner: str) -> None:
    """2.x task reports name the reporting worker (``worker_id``): the lease owner."""
    if await _on_2x(self):
        body.setdefault("worker_id", lease_owner)


def _plain_result(value: Any) -> Any:
    """The query result as plain JSON (rich values in their JSON form), else ``None``."""
    if not _json_safe(value):
        value = to_plain(value, bytes_native=True)
    return value if _json_safe(value) else None


def _json_safe(value: Any) -> bool:
    """Whether ``value`` travels as plain JSON (a 2.x Value may hold bytes, JSON cannot)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
