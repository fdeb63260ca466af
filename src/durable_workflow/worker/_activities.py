"""What the worker does with one leased activity task (worker-protocol.md §11, §13).

Decode the arguments, run the function (sync ones in the worker's thread pool
so they never block the event loop, async ones on the loop), each inside its
own ``ActivityContext``, then report the result or the cross-language failure
shape. A heartbeat answered with ``cancel_requested`` (or a 409 saying the run
is closed or the lease is gone) marks the context cancelled and raises
``ActivityCancelled`` inside the activity.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from durable_workflow import errors
from durable_workflow.activity import ActivityContext, ActivityInfo, _activity_scope
from durable_workflow.client import Client
from durable_workflow.converter import DataConverter
from durable_workflow.converter._rich_values import call_arguments
from durable_workflow.external_storage import ExternalStorageError
from durable_workflow.interceptors import ActivityInterceptorContext, chain_activity
from durable_workflow.worker._eager import EagerWorkflowTasks, lending_workflow_slots
from durable_workflow.worker._support import (
    OWNERSHIP_REASONS,
    log_outcome_error,
    reason_of,
    retry_transient,
    trace_of,
    unsupported_codec,
)
from durable_workflow.worker._telemetry import WorkerTelemetry, activity_scheduled_at

__all__ = ["ActivityTaskRunner", "unknown_activity_message"]

logger = logging.getLogger("durable_workflow.worker")


def unknown_activity_message(
    activity_type: str, registered: Sequence[str], worker_id: str, task_queue: str
) -> str:
    """Upstream's words, then which activities this worker does have."""
    names = ", ".join(repr(name) for name in sorted(registered)) or "none"
    return (
        f"no activity registered for {activity_type!r}; worker {worker_id} on task queue "
        f"{task_queue!r} registers: {names}. Pass the function in Worker(activities=[...]) "
        "and check that @activity.defn(name=...) matches the name the workflow schedules."
    )


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _call_in_scope(ctx: ActivityContext, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    with _activity_scope(ctx):
        return fn(*args)


class _Outcome(Exception):
    """Carries the metric outcome of an attempt that did not complete normally."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        super().__init__(outcome)


class ActivityTaskRunner:
    """Runs one leased activity attempt and reports its outcome."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        worker_id: str,
        activities: Mapping[str, Callable[..., Any]],
        executor: Executor,
        *,
        interceptors: Sequence[Any] = (),
        telemetry: WorkerTelemetry | None = None,
        converter: DataConverter | None = None,
        eager_workflow: EagerWorkflowTasks | None = None,
    ) -> None:
        self.client = client
        # Set when the server advertises eager workflow tasks: outcomes lend a free slot.
        self.eager_workflow = eager_workflow
        self.task_queue = task_queue
        self.worker_id = worker_id
        self.activities = activities
        self.executor = executor
        self.converter = converter if converter is not None else DataConverter()
        self.telemetry = telemetry or WorkerTelemetry(None, task_queue)
        self._interceptors = tuple(interceptors)

    async def handle(self, task: dict[str, Any]) -> str:
        """Run the attempt and report it; records one task metric with its outcome (returned)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            outcome = await self._handle(task)
        finally:
            self.telemetry.task("activity", outcome, time.perf_counter() - started)
        return outcome

    async def _handle(self, task: dict[str, Any]) -> str:
        task_id = str(task["task_id"])
        attempt_id = str(task.get("activity_attempt_id") or task.get("attempt_id") or "")
        lease_owner = str(task.get("lease_owner") or self.worker_id)
        activity_type = str(task.get("activity_type") or "")
        codec = str(task.get("payload_codec") or "avro")

        async def fail(message: str, failure_type: str, trace: str | None, final: bool) -> None:
            self.telemetry.failure("activity", failure_type)
            await self._report(
                lambda asking: self.client.fail_activity_task(
                    task_id=task_id,
                    activity_attempt_id=attempt_id,
                    lease_owner=lease_owner,
                    message=message,
                    failure_type=failure_type,
                    stack_trace=trace,
                    non_retryable=final,
                    codec=codec,
                    activity_name=activity_type,
                    **asking,
                ),
                task_id,
            )

        fn = self.activities.get(activity_type)
        if fn is None:
            message = unknown_activity_message(
                activity_type, list(self.activities), self.worker_id, self.task_queue
            )
            logger.warning("failing activity task %s: %s", task_id, message)
            await fail(message, "ActivityTypeNotRegistered", None, False)
            return "no_handler"
        self.telemetry.scheduled_at("activity", activity_scheduled_at(task))
        self.telemetry.payload_received("activity_arguments", task.get("arguments"))
        try:
            bad_codec = unsupported_codec(codec)
            if bad_codec is not None:
                raise bad_codec
            arguments = self.converter.decode_arguments(task.get("arguments"), codec)
        except Exception as exc:
            await fail(
                f"could not decode activity arguments: {exc}",
                type(exc).__name__,
                trace_of(exc),
                True,
            )
            return "decode_error"
        ctx = self._context(task, task_id, attempt_id, lease_owner, activity_type)

        async def innermost(context: ActivityInterceptorContext) -> Any:
            return await self._invoke(fn, tuple(call_arguments(fn, context.args)), ctx)

        call = chain_activity(self._interceptors, innermost)
        try:
            result = await call(
                ActivityInterceptorContext(
                    self.worker_id,
                    self.task_queue,
                    task,
                    activity_type,
                    tuple(arguments),
                    client=self.client,
                )
            )
        except asyncio.CancelledError:
            raise
        except errors.ActivityCancelled as exc:
            await fail(str(exc) or "activity cancelled", "ActivityCancelled", trace_of(exc), True)
            return "cancelled"
        except errors.NonRetryableError as exc:
            await fail(str(exc) or type(exc).__name__, type(exc).__name__, trace_of(exc), True)
            return "failed_non_retryable"
        except Exception as exc:
            final = bool(getattr(exc, "non_retryable", False))
            await fail(str(exc) or type(exc).__name__, type(exc).__name__, trace_of(exc), final)
            return "failed_non_retryable" if final else "failed"

        async def stored_nothing(exc: Exception) -> str:
            # Offloading the result failed before anything was sent: let the server retry.
            await fail(
                f"activity result could not be stored externally: {exc}",
                type(exc).__name__,
                trace_of(exc),
                False,
            )
            return "complete_error"

        try:
            await lending_workflow_slots(
                self.eager_workflow,
                lambda asking: retry_transient(
                    lambda: self.client.complete_activity_task(
                        task_id=task_id,
                        activity_attempt_id=attempt_id,
                        lease_owner=lease_owner,
                        result=result,
                        codec=codec,
                        activity_name=activity_type,
                        workflow_id=_optional_str(task.get("workflow_id")),
                        run_id=_optional_str(task.get("run_id")),
                        **self.converter.offload_options(),
                        **asking,
                    )
                ),
            )
        except errors.PayloadTooLargeError as exc:
            # Nothing was sent; the same result would be too large on every retry.
            await fail(str(exc), "PayloadTooLargeError", None, True)
            return "complete_error"
        except ExternalStorageError as exc:
            return await stored_nothing(exc)
        except errors.DurableWorkflowError as exc:
            log_outcome_error("activity", task_id, exc)
            return "complete_error"
        except Exception as exc:  # raised before sending
            if self.converter.offloads and not isinstance(exc, (TypeError, ValueError)):
                return await stored_nothing(exc)  # the storage driver failed (I/O, network)
            await fail(
                f"activity result could not be encoded with codec {codec!r}: {exc}",
                type(exc).__name__,
                trace_of(exc),
                True,
            )
            return "complete_error"
        return "completed"

    def _context(
        self,
        task: Mapping[str, Any],
        task_id: str,
        attempt_id: str,
        lease_owner: str,
        activity_type: str,
    ) -> ActivityContext:
        async def heartbeat(details: dict[str, Any] | None) -> Mapping[str, Any] | None:
            try:
                return await self.client.heartbeat_activity_task(
                    task_id=task_id,
                    activity_attempt_id=attempt_id,
                    lease_owner=lease_owner,
                    details=details,
                )
            except errors.DurableWorkflowError as exc:
                # The run was cancelled/terminated/closed or the attempt is no longer
                # ours: the attempt's outcome would be ignored, so tell it to stop.
                if reason_of(exc) in OWNERSHIP_REASONS:
                    return {"cancel_requested": True, "reason": reason_of(exc)}
                raise

        number = task.get("attempt_number")
        info = ActivityInfo(
            task_id=task_id,
            activity_type=activity_type,
            activity_attempt_id=attempt_id,
            attempt_number=number if isinstance(number, int) else 1,
            task_queue=str(task.get("task_queue") or self.task_queue),
            worker_id=self.worker_id,
            workflow_id=_optional_str(task.get("workflow_id")),
            run_id=_optional_str(task.get("run_id")),
            activity_id=_optional_str(task.get("activity_execution_id")),
        )
        return ActivityContext(info, heartbeat=heartbeat, loop=asyncio.get_running_loop())

    async def _invoke(
        self, fn: Callable[..., Any], arguments: tuple[Any, ...], ctx: ActivityContext
    ) -> Any:
        if inspect.iscoroutinefunction(fn):
            with _activity_scope(ctx):
                return await fn(*arguments)
        loop = asyncio.get_running_loop()
        call_context = contextvars.copy_context()
        result = await loop.run_in_executor(
            self.executor, call_context.run, _call_in_scope, ctx, fn, arguments
        )
        if inspect.isawaitable(result):
            with _activity_scope(ctx):
                return await result
        return result

    async def _report(self, call: Callable[[dict[str, Any]], Awaitable[Any]], task_id: str) -> None:
        """Send a failure report, lending a workflow slot as a completion does."""
        try:
            await lending_workflow_slots(
                self.eager_workflow, lambda asking: retry_transient(lambda: call(asking))
            )
        except errors.DurableWorkflowError as exc:
            log_outcome_error("activity", task_id, exc)
