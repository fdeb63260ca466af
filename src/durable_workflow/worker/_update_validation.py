"""What the worker does with one leased update-validation task (2.x servers).

A 2.x server accepts an update for a workflow type that declares a validator only
after a worker approved it: it leases an update-validation task (through the same
multiplexed poll as workflow tasks), the worker replays the run from the history the
task carries, runs the validator on the replayed instance (never the handler) and
approves or rejects. Rejections carry upstream SDK 2.12.0's reasons:
``update_validator_rejected`` (the validator refused) and
``update_validation_worker_failed`` (it could not run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from durable_workflow import errors
from durable_workflow.client import Client
from durable_workflow.converter import DataConverter
from durable_workflow.worker._support import (
    OWNERSHIP_REASONS,
    log_outcome_error,
    reason_of,
    retry_transient,
    trace_of,
)
from durable_workflow.worker._telemetry import WorkerTelemetry
from durable_workflow.workflow._entry import UpdateValidationFailed, validate_update

__all__ = ["UpdateValidationRunner"]

logger = logging.getLogger("durable_workflow.worker")

REJECTED = "update_validator_rejected"
WORKER_FAILED = "update_validation_worker_failed"

# A validation outcome the server no longer wants (the typed fences of the 2.x document).
FENCED_REASONS = frozenset(
    {
        "update_validation_task_not_found",
        "duplicate_update_validation_completion",
        "update_validation_task_not_leased",
        "update_validation_lease_owner_mismatch",
        "stale_update_validation_completion",
        "update_validation_lease_expired",
        "update_validator_worker_lost",
    }
)


class UpdateValidationRunner:
    """Approves or rejects one leased update-validation task."""

    def __init__(
        self,
        client: Client,
        workflows: Mapping[str, type],
        *,
        worker_id: str = "",
        task_queue: str = "",
        telemetry: WorkerTelemetry | None = None,
        converter: DataConverter | None = None,
    ) -> None:
        self.client = client
        self.workflows = workflows
        self.worker_id = worker_id
        self.task_queue = task_queue
        self.converter = converter if converter is not None else DataConverter()
        self.telemetry = telemetry or WorkerTelemetry(None, task_queue)

    async def handle(self, task: dict[str, Any]) -> None:
        """Validate ``task``'s update and report the verdict; records the outcome."""
        started = time.perf_counter()
        outcome = "error"
        try:
            outcome = await self._run(task)
        finally:
            self.telemetry.task("update_validation", outcome, time.perf_counter() - started)

    async def _run(self, task: dict[str, Any]) -> str:
        task_id = str(task["update_validation_task_id"])
        lease_owner = str(task.get("lease_owner") or self.worker_id)
        attempt = int(task.get("update_validation_attempt") or 1)
        update_name = str(task.get("update_name") or "")
        try:
            self._validate(task, update_name)
        except errors.UpdateRejected as exc:
            return await self._reject(task_id, lease_owner, attempt, exc, REJECTED)
        except Exception as exc:
            return await self._reject(task_id, lease_owner, attempt, exc, WORKER_FAILED)
        return await self._report(
            lambda: self.client.approve_update_validation_task(
                update_validation_task_id=task_id,
                lease_owner=lease_owner,
                update_validation_attempt=attempt,
            ),
            task_id,
            "approved",
        )

    def _validate(self, task: Mapping[str, Any], update_name: str) -> None:
        workflow_type = task.get("workflow_type")
        cls = self.workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            raise UpdateValidationFailed(f"no workflow registered for type {workflow_type!r}")
        codec = str(task.get("payload_codec") or "avro")
        start_input = self.converter.decode_arguments(task.get("workflow_arguments"), codec)
        arguments = self.converter.decode_arguments(task.get("update_arguments"), codec)
        events = [e for e in task.get("history_events") or [] if isinstance(e, dict)]
        validate_update(
            cls,
            events,
            start_input,
            update_name,
            arguments,
            workflow_id=task.get("workflow_id"),
            run_id=str(task.get("run_id") or ""),
            payload_codec=codec,
            converter=self.converter,
        )

    async def _reject(
        self, task_id: str, lease_owner: str, attempt: int, exc: BaseException, reason: str
    ) -> str:
        logger.info("update validation task %s rejected (%s): %s", task_id, reason, exc)
        # The validator's own exception names the failure, not the wrapper around it.
        cause = exc.__cause__ if isinstance(exc, errors.UpdateRejected) and exc.__cause__ else exc
        await self._report(
            lambda: self.client.reject_update_validation_task(
                update_validation_task_id=task_id,
                lease_owner=lease_owner,
                update_validation_attempt=attempt,
                message=str(exc) or type(exc).__name__,
                reason=reason,
                failure_type=type(cause).__name__,
                stack_trace=trace_of(cause),
            ),
            task_id,
            "rejected",
        )
        return "rejected" if reason == REJECTED else "failed"

    @staticmethod
    async def _report(call: Callable[[], Awaitable[Any]], task_id: str, outcome: str) -> str:
        try:
            await retry_transient(call)
        except errors.DurableWorkflowError as exc:
            log_outcome_error("update validation", task_id, exc)
            reason = reason_of(exc)
            return (
                "expired"
                if reason in FENCED_REASONS or reason in OWNERSHIP_REASONS
                else ("complete_error")
            )
        return outcome
