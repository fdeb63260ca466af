"""Workflow reads and starts: start, describe, list (paged), runs, history, result.

``get_result`` here reads every history page and follows continue-as-new to
the final run (upstream read page 1 only and could return ``None``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from durable_workflow import errors
from durable_workflow.client import _client
from durable_workflow.client._calls import compact, require_dict
from durable_workflow.client._findings import timeout_message, warn_if_unregistered
from durable_workflow.client._handles import WorkflowHandle
from durable_workflow.client._history import TerminalOutcome
from durable_workflow.client._result_wait import wait_for_result
from durable_workflow.client._results import (
    WorkflowExecution,
    WorkflowList,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.client._results._parse import as_list, as_str
from durable_workflow.client._typing import (
    DuplicatePolicy,
    GeneratorWorkflow,
    PlainWorkflow,
    WorkflowStatusFilter,
)
from durable_workflow.converter._rich_values import run_result_type
from durable_workflow.workflow._replay.names import workflow_name

__all__ = [
    "describe_workflow",
    "describe_workflow_run",
    "execute_workflow",
    "export_history",
    "get_history",
    "get_history_page",
    "get_result",
    "get_workflow_handle",
    "iter_history_events",
    "iter_workflow_runs",
    "iter_workflows",
    "list_workflow_runs",
    "list_workflows",
    "start_workflow",
]

R = TypeVar("R")

# History page size used when the client reads a whole history (server max is 1000).
HISTORY_PAGE_SIZE = 1000


@overload
async def start_workflow(
    self: _client.Client,
    *,
    workflow_type: type[GeneratorWorkflow[R]],
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
) -> WorkflowHandle[R]: ...


@overload
async def start_workflow(
    self: _client.Client,
    *,
    workflow_type: type[PlainWorkflow[R]],
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
) -> WorkflowHandle[R]: ...


@overload
async def start_workflow(
    self: _client.Client,
    *,
    workflow_type: str,
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
) -> WorkflowHandle[Any]: ...


async def start_workflow(
    self: _client.Client,
    *,
    workflow_type: str | type,
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
) -> WorkflowHandle[Any]:
    """Start a workflow; ``input`` (positional arguments) is sent as an Avro envelope.

    ``workflow_type`` is the registered name or the ``@workflow.defn`` class;
    given the class, the handle is ``WorkflowHandle[T]`` with ``T`` read from
    ``run``'s return annotation, and its result is decoded into it.
    """
    result_type = None if isinstance(workflow_type, str) else run_result_type(workflow_type)
    workflow_type = workflow_name(workflow_type)
    await self._negotiate()
    body = compact(
        {
            "workflow_id": workflow_id,
            "workflow_type": workflow_type,
            "task_queue": task_queue,
            "input": self._envelope(
                list(input or []),
                context=self._payload_context(
                    "workflow_input",
                    workflow_id=workflow_id,
                    workflow_type=workflow_type,
                    task_queue=task_queue,
                ),
                field="input",
            ),
            "execution_timeout_seconds": execution_timeout_seconds,
            "run_timeout_seconds": run_timeout_seconds,
            "duplicate_policy": duplicate_policy,
            "memo": dict(memo) if memo is not None else None,
            "search_attributes": self._search_attributes(
                search_attributes,
                self._payload_context(
                    "search_attributes", workflow_id=workflow_id, task_queue=task_queue
                ),
            ),
            "priority": priority,
            "fairness_key": fairness_key,
            "fairness_weight": fairness_weight,
        }
    )
    data = await self._call("workflow.start", body=body, context=workflow_id)
    data = data if isinstance(data, dict) else {}
    await warn_if_unregistered(self, workflow_type, task_queue)
    return WorkflowHandle(
        self,
        workflow_id=as_str(data.get("workflow_id")) or workflow_id,
        run_id=as_str(data.get("run_id")),
        workflow_type=as_str(data.get("workflow_type")) or workflow_type,
        result_type=result_type,
    )


@overload
async def execute_workflow(
    self: _client.Client,
    *,
    workflow_type: type[GeneratorWorkflow[R]],
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> R: ...


@overload
async def execute_workflow(
    self: _client.Client,
    *,
    workflow_type: type[PlainWorkflow[R]],
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> R: ...


@overload
async def execute_workflow(
    self: _client.Client,
    *,
    workflow_type: str,
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> Any: ...


async def execute_workflow(
    self: _client.Client,
    *,
    workflow_type: str | type,
    task_queue: str,
    workflow_id: str,
    input: Sequence[Any] | None = None,
    execution_timeout_seconds: int = 3600,
    run_timeout_seconds: int = 600,
    duplicate_policy: DuplicatePolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    priority: int | None = None,
    fairness_key: str | None = None,
    fairness_weight: float | None = None,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> Any:
    """Start a workflow and wait for its result (``start_workflow`` then ``result``).

    Takes ``start_workflow``'s arguments plus ``result``'s ``poll_interval``
    and ``timeout``; given the workflow class, the result is typed and decoded
    as its ``run`` annotation.
    """
    handle = await self.start_workflow(
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
    return await handle.result(poll_interval=poll_interval, timeout=timeout)


@overload
def get_workflow_handle(
    self: _client.Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    workflow_type: type[GeneratorWorkflow[R]],
) -> WorkflowHandle[R]: ...


@overload
def get_workflow_handle(
    self: _client.Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    workflow_type: type[PlainWorkflow[R]],
) -> WorkflowHandle[R]: ...


@overload
def get_workflow_handle(
    self: _client.Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    workflow_type: str = "",
) -> WorkflowHandle[Any]: ...


def get_workflow_handle(
    self: _client.Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    workflow_type: str | type = "",
) -> WorkflowHandle[Any]:
    """A handle for an existing workflow (no request is sent).

    Given the workflow class as ``workflow_type`` the handle is typed as
    ``start_workflow``'s is.
    """
    if isinstance(workflow_type, str):
        return WorkflowHandle(self, workflow_id, run_id=run_id, workflow_type=workflow_type)
    return WorkflowHandle(
        self,
        workflow_id,
        run_id=run_id,
        workflow_type=workflow_name(workflow_type),
        result_type=run_result_type(workflow_type),
    )


async def describe_workflow(self: _client.Client, workflow_id: str) -> WorkflowExecution:
    """The workflow's current run, with input/output decoded."""
    data = await self._call("workflow.describe", path_params={"workflowId": workflow_id})
    return WorkflowExecution.from_dict(
        require_dict(data, "describe_response"), workflow_id=workflow_id, decode=self._decode
    )


async def list_workflows(
    self: _client.Client,
    *,
    workflow_type: str | None = None,
    status: WorkflowStatusFilter | None = None,
    query: str | None = None,
    page_size: int | None = None,
    next_page_token: str | None = None,
) -> WorkflowList:
    """One page of workflows matching the filters; pass ``next_page_token`` for the next."""
    params = compact(
        {
            "workflow_type": workflow_type,
            "status": status,
            "query": query,
            "page_size": page_size,
            "next_page_token": next_page_token,
        }
    )
    data = require_dict(await self._call("workflow.list", query=params), "list_response")
    return WorkflowList(
        executions=[
            WorkflowExecution.from_dict(item)
            for item in as_list(data.get("workflows"))
            if isinstance(item, dict)
        ],
        next_page_token=as_str(data.get("next_page_token")) or None,
    )


async def iter_workflows(
    self: _client.Client,
    *,
    workflow_type: str | None = None,
    status: WorkflowStatusFilter | None = None,
    query: str | None = None,
    page_size: int | None = None,
) -> AsyncIterator[WorkflowExecution]:
    """Every matching workflow, following the server's page tokens."""
    token: str | None = None
    while True:
        page = await self.list_workflows(
            workflow_type=workflow_type,
            status=status,
            query=query,
            page_size=page_size,
            next_page_token=token,
        )
        for execution in page.executions:
            yield execution
        if not page.next_page_token or page.next_page_token == token:
            return
        token = page.next_page_token


async def describe_workflow_run(self: _client.Client, workflow_id: str, run_id: str) -> WorkflowRun:
    """One run of a workflow by run id."""
    data = await self._call(
        "workflow.show_run", path_params={"workflowId": workflow_id, "runId": run_id}
    )
    return WorkflowRun.from_dict(
        require_dict(data, "run_response"),
        workflow_id=workflow_id,
        run_id=run_id,
        decode=self._decode,
    )


async def list_workflow_runs(self: _client.Client, workflow_id: str) -> WorkflowRunList:
    """Every run of a workflow id (a continue-as-new chain), oldest first."""
    data = require_dict(
        await self._call("workflow.list_runs", path_params={"workflowId": workflow_id}),
        "runs_response",
    )
    runs = [
        WorkflowRun.from_dict(item, workflow_id=workflow_id, decode=self._decode)
        for item in as_list(data.get("runs"))
        if isinstance(item, dict)
    ]
    count = data.get("run_count")
    return WorkflowRunList(
        workflow_id=as_str(data.get("workflow_id")) or workflow_id,
        run_count=count if isinstance(count, int) else len(runs),
        runs=runs,
    )


async def iter_workflow_runs(self: _client.Client, workflow_id: str) -> AsyncIterator[WorkflowRun]:
    """The runs of a workflow id one by one (the server sends them in one answer)."""
    for run in (await self.list_workflow_runs(workflow_id)).runs:
        yield run


async def get_history(self: _client.Client, workflow_id: str, run_id: str) -> dict[str, Any]:
    """The first page of a run's history, as the server sent it (upstream shape)."""
    data = await self._call(
        "workflow.history", path_params={"workflowId": workflow_id, "runId": run_id}
    )
    return require_dict(data, "history_response")


async def get_history_page(
    self: _client.Client,
    workflow_id: str,
    run_id: str,
    *,
    page_size: int | None = None,
    next_page_token: str | None = None,
    wait_new_event: bool | None = None,
) -> dict[str, Any]:
    """One history page with the protocol's paging and long-poll parameters."""
    params = compact(
        {
            "page_size": page_size,
            "next_page_token": next_page_token,
            "wait_new_event": None if wait_new_event is None else int(wait_new_event),
        }
    )
    data = await self._call(
        "workflow.history",
        path_params={"workflowId": workflow_id, "runId": run_id},
        query=params or None,
    )
    return require_dict(data, "history_response")


async def iter_history_events(
    self: _client.Client, workflow_id: str, run_id: str, *, page_size: int = HISTORY_PAGE_SIZE
) -> AsyncIterator[dict[str, Any]]:
    """Every event of a run, following ``next_page_token`` to the last page."""
    token: str | None = None
    while True:
        data = await self.get_history_page(
            workflow_id, run_id, page_size=page_size, next_page_token=token
        )
        for event in as_list(data.get("events")):
            if isinstance(event, dict):
                yield event
        next_token = data.get("next_page_token")
        if not isinstance(next_token, str) or not next_token or next_token == token:
            return
        token = next_token


async def export_history(self: _client.Client, workflow_id: str, run_id: str) -> dict[str, Any]:
    """The run's history export bundle (integrity-checked archive format)."""
    data = await self._call(
        "workflow.history_export", path_params={"workflowId": workflow_id, "runId": run_id}
    )
    return require_dict(data, "history_export")


async def get_result(
    self: _client.Client,
    handle: WorkflowHandle[Any],
    *,
    poll_interval: float = 0.5,
    timeout: float = 30.0,
) -> Any:
    """Wait until the workflow closes and return its decoded result.

    It long-polls the run's history (``wait_new_event``), so the result comes one
    round trip after the run closes; ``poll_interval`` paces a server that does not
    hold the request. Unlike upstream it reads every history page and follows
    continue-as-new to the final run. Raises ``WorkflowFailed`` / ``WorkflowTerminated`` /
    ``WorkflowCancelled`` for those outcomes and ``TimeoutError`` when the
    workflow is still open after ``timeout`` seconds.
    """
    return await wait_for_result(
        self,
        handle.workflow_id,
        handle.run_id,
        poll_interval=poll_interval,
        timeout=timeout,
        resolve=lambda outcome, codec: _resolve(outcome, codec, self._decode),
        timeout_message=lambda run, status: timeout_message(
            self, handle.workflow_id, run, timeout, status
        ),
    )


def _resolve(
    outcome: TerminalOutcome,
    run_codec: str | None,
    decode: Callable[[Mapping[str, Any] | str, str | None], Any],
) -> Any:
    """Turn a run's terminal event into its result or the matching exception.

    ``decode`` opens an envelope output: inline, or an external-storage reference
    read (and verified) through the client's driver.
    """
    payload = outcome.payload
    if outcome.event_type == "WorkflowCompleted":
        output = payload.get("output")
        if output is None:
            return None
        codec = payload.get("payload_codec") or run_codec or "avro"
        return decode(output, str(codec))
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
