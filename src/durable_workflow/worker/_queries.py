"""What the worker does with one leased query task (worker-protocol.md §12.4, §13).

Replay the run's history, call the ``@workflow.query`` receiver on the
replayed instance, and complete with the result; every problem fails the
query task with the documented reason (``rejected_unknown_query`` for a query
the workflow does not declare, ``query_rejected`` when the receiver raised, ...).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from durable_workflow import errors, workflow
from durable_workflow.client import Client
from durable_workflow.converter import DataConverter
from durable_workflow.external_storage import ExternalStorageError
from durable_workflow.interceptors import QueryTaskInterceptorContext, chain_query_task
from durable_workflow.worker._query_history import with_export_signal_arguments
from durable_workflow.worker._support import (
    OWNERSHIP_REASONS,
    QUERY_OWNERSHIP_REASONS,
    log_outcome_error,
    reason_of,
    retry_transient,
    trace_of,
    unsupported_codec,
)
from durable_workflow.worker._telemetry import WorkerTelemetry

__all__ = ["QueryTaskRunner"]


class QueryTaskRunner:
    """Answers one leased query task by replaying the run and calling the query receiver."""

    def __init__(
        self,
        client: Client,
        workflows: Mapping[str, type],
        *,
        worker_id: str = "",
        task_queue: str = "",
        interceptors: Sequence[Any] = (),
        telemetry: WorkerTelemetry | None = None,
        converter: DataConverter | None = None,
    ) -> None:
        self.client = client
        self.workflows = workflows
        self.worker_id = worker_id
        self.task_queue = task_queue
        self.converter = converter if converter is not None else DataConverter()
        self.telemetry = telemetry or WorkerTelemetry(None, task_queue)
        self._execute = chain_query_task(tuple(interceptors), self._execute_task)

    async def handle(self, task: dict[str, Any]) -> str:
        """Answer ``task`` through the interceptor chain; records its outcome (returned)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            outcome = await self._execute(
                QueryTaskInterceptorContext(
                    self.worker_id, self.task_queue, task, client=self.client
                )
            )
        finally:
            self.telemetry.task("query", outcome, time.perf_counter() - started)
        return outcome

    async def _execute_task(self, context: QueryTaskInterceptorContext) -> str:
        task = context.task
        query_task_id = str(task["query_task_id"])
        lease_owner = str(task.get("lease_owner") or self.worker_id)
        attempt = int(task.get("query_task_attempt") or 1)
        codec = str(task.get("payload_codec") or "avro")

        async def fail(message: str, reason: str, exc: BaseException | None = None) -> str:
            return await self._report(
                lambda: self.client.fail_query_task(
                    query_task_id=query_task_id,
                    lease_owner=lease_owner,
                    query_task_attempt=attempt,
                    message=message,
                    reason=reason,
                    failure_type=type(exc).__name__ if exc is not None else None,
                    stack_trace=trace_of(exc) if exc is not None else None,
                ),
                query_task_id,
                "failed",
            )

        workflow_type = task.get("workflow_type")
        cls = self.workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            return await fail(
                f"no workflow registered for type {workflow_type!r} on this worker",
                "query_workflow_type_not_registered",
            )
        try:
            bad_codec = unsupported_codec(codec)
            if bad_codec is not None:
                raise bad_codec
            start_input = self.converter.decode_arguments(task.get("workflow_arguments"), codec)
            query_input = self.converter.decode_arguments(task.get("query_arguments"), codec)
        except Exception as exc:
            return await fail(
                f"could not decode query input: {exc}", "query_payload_decode_failed", exc
            )
        events = with_export_signal_arguments(
            [e for e in task.get("history_events") or [] if isinstance(e, dict)],
            task.get("history_export"),
            codec,
        )
        try:
            result = workflow.query_state(
                cls,
                events,
                start_input,
                str(task.get("query_name") or ""),
                query_input,
                workflow_id=task.get("workflow_id"),
                run_id=str(task.get("run_id") or ""),
                payload_codec=codec,
                converter=self.converter,
            )
            if inspect.isawaitable(result):  # an async query receiver
                result = await result
        except errors.QueryFailed as exc:
            return await fail(str(exc), exc.reason or "query_rejected", exc)
        except Exception as exc:
            return await fail(f"query handler raised: {exc}", "query_rejected", exc)
        try:
            return await self._report(
                lambda: self.client.complete_query_task(
                    query_task_id=query_task_id,
                    lease_owner=lease_owner,
                    query_task_attempt=attempt,
                    result=result,
                    codec=codec,
                    workflow_id=task.get("workflow_id"),
                    run_id=task.get("run_id"),
                    query_name=task.get("query_name"),
                    **self.converter.offload_options(),
                ),
                query_task_id,
                "completed",
                reraise_local=True,
            )
        except Exception as exc:  # raised before sending: the result cannot be encoded
            return await fail(
                f"query result could not be encoded: {exc}", "query_result_encode_failed", exc
            )

    @staticmethod
    async def _report(
        call: Callable[[], Awaitable[Any]],
        query_task_id: str,
        outcome: str,
        *,
        reraise_local: bool = False,
    ) -> str:
        try:
            await retry_transient(call)
        except (ExternalStorageError, errors.PayloadTooLargeError):
            if reraise_local:  # offloading failed or the result is too large: nothing was sent
                raise
            return "complete_error"
        except errors.DurableWorkflowError as exc:
            log_outcome_error("query", query_task_id, exc)
            reason = reason_of(exc)
            if reason in QUERY_OWNERSHIP_REASONS or reason in OWNERSHIP_REASONS:
                return "expired"
            return "complete_error"
        except Exception:
            if reraise_local:
                raise
            return "complete_error"
        return outcome
