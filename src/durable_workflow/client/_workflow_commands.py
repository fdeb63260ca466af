"""Commands on a running workflow: signal, query, update, cancel, terminate, repair, archive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from durable_workflow.client import _client
from durable_workflow.client._calls import compact
from durable_workflow.client._results import WorkflowCommandResult
from durable_workflow.client._typing import UpdateWaitFor

__all__ = [
    "archive_workflow",
    "cancel_workflow",
    "query_workflow",
    "repair_workflow",
    "signal_workflow",
    "terminate_workflow",
    "update_workflow",
]


def _as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


async def signal_workflow(
    self: _client.Client, workflow_id: str, signal_name: str, *, args: Sequence[Any] | None = None
) -> None:
    """Deliver a signal; its arguments travel as one Avro envelope."""
    await self._negotiate()
    await self._call(
        "workflow.signal",
        path_params={"workflowId": workflow_id, "signalName": signal_name},
        body=self._input_body(
            args,
            self._payload_context("signal", workflow_id=workflow_id, signal_name=signal_name),
        ),
        context=workflow_id,
    )


async def query_workflow(
    self: _client.Client, workflow_id: str, query_name: str, *, args: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Run a query; returns the whole response (the value is under ``"result"``)."""
    await self._negotiate()
    data = await self._call(
        "workflow.query",
        path_params={"workflowId": workflow_id, "queryName": query_name},
        body=self._input_body(
            args, self._payload_context("query", workflow_id=workflow_id, query_name=query_name)
        ),
        context=workflow_id,
    )
    return self._decoded_result(_as_dict(data))


async def update_workflow(
    self: _client.Client,
    workflow_id: str,
    update_name: str,
    *,
    args: Sequence[Any] | None = None,
    wait_for: UpdateWaitFor | None = None,
    wait_timeout_seconds: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Send an update, optionally waiting until ``accepted`` or ``completed``."""
    await self._negotiate()
    body = self._input_body(
        args, self._payload_context("update", workflow_id=workflow_id, update_name=update_name)
    )
    body.update(
        compact(
            {
                "wait_for": wait_for,
                "wait_timeout_seconds": wait_timeout_seconds,
                "request_id": request_id,
            }
        )
    )
    data = await self._call(
        "workflow.update",
        path_params={"workflowId": workflow_id, "updateName": update_name},
        body=body,
        context=workflow_id,
    )
    return self._decoded_result(_as_dict(data))


async def cancel_workflow(
    self: _client.Client, workflow_id: str, *, reason: str | None = None
) -> None:
    """Ask the workflow to cancel (it may clean up before closing)."""
    await self._call(
        "workflow.cancel",
        path_params={"workflowId": workflow_id},
        body=compact({"reason": reason}),
        context=workflow_id,
    )


async def terminate_workflow(
    self: _client.Client, workflow_id: str, *, reason: str | None = None
) -> None:
    """Close the workflow immediately, without running any workflow code."""
    await self._call(
        "workflow.terminate",
        path_params={"workflowId": workflow_id},
        body=compact({"reason": reason}),
        context=workflow_id,
    )


async def repair_workflow(self: _client.Client, workflow_id: str) -> WorkflowCommandResult:
    """Ask the server to re-create missing tasks of a stuck run."""
    data = await self._call(
        "workflow.repair", path_params={"workflowId": workflow_id}, body={}, context=workflow_id
    )
    return WorkflowCommandResult.from_dict(_as_dict(data), workflow_id=workflow_id)


async def archive_workflow(
    self: _client.Client, workflow_id: str, *, reason: str | None = None
) -> WorkflowCommandResult:
    """Archive a closed workflow."""
    data = await self._call(
        "workflow.archive",
        path_params={"workflowId": workflow_id},
        body=compact({"reason": reason}),
        context=workflow_id,
    )
    return WorkflowCommandResult.from_dict(_as_dict(data), workflow_id=workflow_id)
