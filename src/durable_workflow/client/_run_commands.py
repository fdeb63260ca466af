"""Commands and diagnostics aimed at one specific run (not in upstream 0.4.53).

The server routes ``/workflows/{id}/runs/{run}/...`` reject the command when
that run is no longer the current one, which the current-run routes cannot
express; ``debug_workflow`` returns the server's diagnostic view of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from durable_workflow.client import _client
from durable_workflow.client._calls import compact
from durable_workflow.client._typing import UpdateWaitFor

__all__ = [
    "cancel_workflow_run",
    "debug_workflow",
    "query_workflow_run",
    "signal_workflow_run",
    "terminate_workflow_run",
    "update_workflow_run",
]


def _as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


async def signal_workflow_run(
    self: _client.Client,
    workflow_id: str,
    run_id: str,
    signal_name: str,
    *,
    args: Sequence[Any] | None = None,
) -> None:
    await self._negotiate()
    await self._call(
        "workflow.signal_run",
        path_params={"workflowId": workflow_id, "runId": run_id, "signalName": signal_name},
        body=self._input_body(
            args,
            self._payload_context(
                "signal", workflow_id=workflow_id, run_id=run_id, signal_name=signal_name
            ),
        ),
        context=workflow_id,
    )


async def query_workflow_run(
    self: _client.Client,
    workflow_id: str,
    run_id: str,
    query_name: str,
    *,
    args: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The whole query response (the value is under ``"result"``), like ``query_workflow``."""
    await self._negotiate()
    data = await self._call(
        "workflow.query_run",
        path_params={"workflowId": workflow_id, "runId": run_id, "queryName": query_name},
        body=self._input_body(
            args,
            self._payload_context(
                "query", workflow_id=workflow_id, run_id=run_id, query_name=query_name
            ),
        ),
        context=workflow_id,
    )
    return self._decoded_result(_as_dict(data))


async def update_workflow_run(
    self: _client.Client,
    workflow_id: str,
    run_id: str,
    update_name: str,
    *,
    args: Sequence[Any] | None = None,
    wait_for: UpdateWaitFor | None = None,
    wait_timeout_seconds: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    await self._negotiate()
    body = self._input_body(
        args,
        self._payload_context(
            "update", workflow_id=workflow_id, run_id=run_id, update_name=update_name
        ),
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
        "workflow.update_run",
        path_params={"workflowId": workflow_id, "runId": run_id, "updateName": update_name},
        body=body,
        context=workflow_id,
    )
    return self._decoded_result(_as_dict(data))


async def cancel_workflow_run(
    self: _client.Client, workflow_id: str, run_id: str, *, reason: str | None = None
) -> None:
    await self._call(
        "workflow.cancel_run",
        path_params={"workflowId": workflow_id, "runId": run_id},
        body=compact({"reason": reason}),
        context=workflow_id,
    )


async def terminate_workflow_run(
    self: _client.Client, workflow_id: str, run_id: str, *, reason: str | None = None
) -> None:
    await self._call(
        "workflow.terminate_run",
        path_params={"workflowId": workflow_id, "runId": run_id},
        body=compact({"reason": reason}),
        context=workflow_id,
    )


async def debug_workflow(
    self: _client.Client,
    workflow_id: str,
    *,
    run_id: str | None = None,
    include_last_event_payload: bool = False,
) -> dict[str, Any]:
    """The server's diagnostic view of the current run (or ``run_id``)."""
    query = {"include_last_event_payload": 1} if include_last_event_payload else None
    if run_id is None:
        data = await self._call(
            "workflow.debug", path_params={"workflowId": workflow_id}, query=query
        )
    else:
        data = await self._call(
            "workflow.debug_run",
            path_params={"workflowId": workflow_id, "runId": run_id},
            query=query,
        )
    return _as_dict(data)
