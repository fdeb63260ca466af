"""``WorkflowHandle``: a reference to one workflow whose methods delegate to ``Client``.

Kept apart from the client so each method family can build handles without
importing the whole client (the client imports the families).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from durable_workflow._client_results import WorkflowExecution, WorkflowRun, WorkflowRunList
from durable_workflow._client_results_admin import WorkflowCommandResult

if TYPE_CHECKING:
    from durable_workflow.client import Client

__all__ = ["WorkflowHandle"]


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

    def _require_run(self, what: str) -> str:
        if not self.run_id:
            raise ValueError(f"{what}() needs a run_id on the handle")
        return self.run_id

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        """Wait for the workflow's final result (see ``Client.get_result``)."""
        return await self.client.get_result(self, poll_interval=poll_interval, timeout=timeout)

    async def describe(self) -> WorkflowExecution:
        return await self.client.describe_workflow(self.workflow_id)

    async def get_history(self) -> dict[str, Any]:
        return await self.client.get_history(self.workflow_id, self._require_run("get_history"))

    async def export_history(self) -> dict[str, Any]:
        run_id = self._require_run("export_history")
        return await self.client.export_history(self.workflow_id, run_id)

    async def list_runs(self) -> WorkflowRunList:
        return await self.client.list_workflow_runs(self.workflow_id)

    async def describe_run(self, run_id: str | None = None) -> WorkflowRun:
        target = run_id or self.run_id
        if not target:
            raise ValueError("describe_run() needs a run_id (argument or handle)")
        return await self.client.describe_workflow_run(self.workflow_id, target)

    async def signal(self, signal_name: str, args: Sequence[Any] | None = None) -> None:
        await self.client.signal_workflow(self.workflow_id, signal_name, args=args)

    async def query(self, query_name: str, args: Sequence[Any] | None = None) -> dict[str, Any]:
        return await self.client.query_workflow(self.workflow_id, query_name, args=args)

    async def update(
        self,
        update_name: str,
        args: Sequence[Any] | None = None,
        *,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return await self.client.update_workflow(
            self.workflow_id,
            update_name,
            args=args,
            wait_for=wait_for,
            wait_timeout_seconds=wait_timeout_seconds,
            request_id=request_id,
        )

    async def cancel(self, *, reason: str | None = None) -> None:
        await self.client.cancel_workflow(self.workflow_id, reason=reason)

    async def terminate(self, *, reason: str | None = None) -> None:
        await self.client.terminate_workflow(self.workflow_id, reason=reason)

    async def repair(self) -> WorkflowCommandResult:
        return await self.client.repair_workflow(self.workflow_id)

    async def archive(self, *, reason: str | None = None) -> WorkflowCommandResult:
        return await self.client.archive_workflow(self.workflow_id, reason=reason)
