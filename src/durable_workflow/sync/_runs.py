"""Blocking run-targeted commands, diagnostics and server metrics of ``sync.Client``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from durable_workflow.sync._loop import LoopThread

if TYPE_CHECKING:
    from durable_workflow.client import Client as AsyncClient

__all__ = ["SyncRunsMixin"]


class SyncRunsMixin:
    """Each method runs the async method of the same name on the private loop."""

    _client: AsyncClient
    _loop: LoopThread

    def signal_workflow_run(
        self,
        workflow_id: str,
        run_id: str,
        signal_name: str,
        *,
        args: Sequence[Any] | None = None,
    ) -> None:
        self._loop.run(
            self._client.signal_workflow_run(workflow_id, run_id, signal_name, args=args)
        )

    def query_workflow_run(
        self,
        workflow_id: str,
        run_id: str,
        query_name: str,
        *,
        args: Sequence[Any] | None = None,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.query_workflow_run(workflow_id, run_id, query_name, args=args)
        )

    def update_workflow_run(
        self,
        workflow_id: str,
        run_id: str,
        update_name: str,
        *,
        args: Sequence[Any] | None = None,
        wait_for: str | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.update_workflow_run(
                workflow_id,
                run_id,
                update_name,
                args=args,
                wait_for=wait_for,
                wait_timeout_seconds=wait_timeout_seconds,
                request_id=request_id,
            )
        )

    def cancel_workflow_run(
        self, workflow_id: str, run_id: str, *, reason: str | None = None
    ) -> None:
        self._loop.run(self._client.cancel_workflow_run(workflow_id, run_id, reason=reason))

    def terminate_workflow_run(
        self, workflow_id: str, run_id: str, *, reason: str | None = None
    ) -> None:
        self._loop.run(self._client.terminate_workflow_run(workflow_id, run_id, reason=reason))

    def debug_workflow(
        self,
        workflow_id: str,
        *,
        run_id: str | None = None,
        include_last_event_payload: bool = False,
    ) -> dict[str, Any]:
        return self._loop.run(
            self._client.debug_workflow(
                workflow_id, run_id=run_id, include_last_event_payload=include_last_event_payload
            )
        )

    def ready(self) -> dict[str, Any]:
        return self._loop.run(self._client.ready())

    def system_metrics(self) -> dict[str, Any]:
        return self._loop.run(self._client.system_metrics())

    def operator_metrics(self) -> dict[str, Any]:
        return self._loop.run(self._client.operator_metrics())
