"""What the worker does with one leased task (worker-protocol.md §9, §11, §13).

Workflow task: read the rest of the history, decode the start arguments,
replay, send the new commands in the run's codec; anything that prevents a
trustworthy answer (unknown type, undecodable input, non-determinism) fails
the *task* with a message naming the cause.

Activity task: decode the arguments, run the function (sync ones in the
worker's thread pool so they never block the event loop, async ones on the
loop), each inside its own ``ActivityContext``, then report the result or the
cross-language failure shape.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from durable_workflow import errors, workflow
from durable_workflow._worker_support import OWNERSHIP_REASONS, decode_arguments, reason_of
from durable_workflow.activity import ActivityContext, ActivityInfo, _activity_scope
from durable_workflow.client import Client

__all__ = ["ActivityTaskRunner", "QueryTaskRunner", "WorkflowTaskRunner"]

logger = logging.getLogger("durable_workflow.worker")

_READABLE_CODECS = ("avro", "json")


class _TaskRejected(Exception):
    """A workflow task this worker cannot process; becomes ``fail_workflow_task``."""

    def __init__(self, message: str, failure_type: str, stack_trace: str | None = None) -> None:
        self.failure_type = failure_type
        self.stack_trace = stack_trace
        super().__init__(message)


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class WorkflowTaskRunner:
    """Turns one leased workflow task into a completion (or a task failure)."""

    def __init__(self, client: Client, task_queue: str, workflows: Mapping[str, type]) -> None:
        self.client = client
        self.task_queue = task_queue
        self.workflows = workflows

    async def handle(self, task: dict[str, Any]) -> None:
        task_id = str(task["task_id"])
        lease_owner = str(task["lease_owner"])
        attempt = int(task["workflow_task_attempt"])
        try:
            commands = await self._commands_for(task)
        except _TaskRejected as rejected:
            await self._fail(task_id, lease_owner, attempt, rejected)
            return
        except errors.DurableWorkflowError as exc:
            if reason_of(exc) in OWNERSHIP_REASONS:
                logger.info("workflow task %s is no longer ours (%s)", task_id, reason_of(exc))
                return
            raise
        if not commands:
            # Nothing new to decide (e.g. woken while still waiting on other steps).
            # The server refuses an empty completion, so close the task as failed:
            # no history is written and the next event creates a fresh task.
            await self._fail(
                task_id,
                lease_owner,
                attempt,
                _TaskRejected(
                    "workflow produced no new commands; waiting for the next event",
                    "NoNewCommands",
                ),
                quiet=True,
            )
            return
        try:
            await self.client.complete_workflow_task(
                task_id=task_id,
                lease_owner=lease_owner,
                workflow_task_attempt=attempt,
                commands=commands,
            )
        except errors.DurableWorkflowError as exc:
            reason = reason_of(exc)
            if reason in OWNERSHIP_REASONS:
                logger.info("workflow task %s completion not applied: %s", task_id, reason)
            elif isinstance(exc, errors.TransportError):
                logger.error("workflow task %s completion lost: %s", task_id, exc)
            else:
                await self._fail(
                    task_id,
                    lease_owner,
                    attempt,
                    _TaskRejected(
                        f"server rejected the workflow task completion: {exc}",
                        type(exc).__name__,
                    ),
                )

    async def _history(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        events = [e for e in task.get("history_events") or [] if isinstance(e, dict)]
        token = task.get("next_history_page_token")
        while isinstance(token, str) and token:
            page = await self.client.workflow_task_history(
                task_id=str(task["task_id"]),
                next_history_page_token=token,
                lease_owner=str(task["lease_owner"]),
                workflow_task_attempt=int(task["workflow_task_attempt"]),
            )
            events.extend(e for e in page.get("history_events") or [] if isinstance(e, dict))
            next_token = page.get("next_history_page_token")
            token = next_token if next_token != token else None
        return events

    async def _commands_for(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        workflow_type = task.get("workflow_type")
        cls = self.workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            raise _TaskRejected(
                f"no workflow registered for type {workflow_type!r} on this worker "
                f"(registered: {', '.join(sorted(self.workflows)) or 'none'})",
                "WorkflowTypeNotRegistered",
            )
        if task.get("workflow_update_id"):
            raise _TaskRejected(
                "workflow update tasks are not supported by this worker yet",
                "UpdateTaskNotSupported",
            )
        codec = task.get("payload_codec") or "avro"
        if codec not in _READABLE_CODECS:
            raise _TaskRejected(
                f"payload codec {codec!r} is not supported (use avro or json)",
                "UnsupportedPayloadCodec",
            )
        events = await self._history(task)
        try:
            arguments = decode_arguments(task.get("arguments"), codec)
        except Exception as exc:
            raise _TaskRejected(
                f"could not decode the start arguments of {task.get('workflow_id')}: {exc}",
                type(exc).__name__,
                _trace(exc),
            ) from exc
        try:
            outcome = workflow.replay(
                cls,
                events,
                arguments,
                workflow_id=task.get("workflow_id"),
                run_id=str(task.get("run_id") or ""),
                payload_codec=codec,
            )
            return workflow.commands_to_server_commands(
                outcome.commands, self.task_queue, payload_codec=codec
            )
        except Exception as exc:
            raise _TaskRejected(
                f"replay of workflow {task.get('workflow_id')} failed: {exc}",
                type(exc).__name__,
                _trace(exc),
            ) from exc

    async def _fail(
        self,
        task_id: str,
        lease_owner: str,
        attempt: int,
        rejected: _TaskRejected,
        *,
        quiet: bool = False,
    ) -> None:
        log = logger.debug if quiet else logger.warning
        log("failing workflow task %s: %s", task_id, rejected)
        try:
            await self.client.fail_workflow_task(
                task_id=task_id,
                lease_owner=lease_owner,
                workflow_task_attempt=attempt,
                message=str(rejected),
                failure_type=rejected.failure_type,
                stack_trace=rejected.stack_trace,
            )
        except errors.DurableWorkflowError as exc:
            logger.warning("could not report workflow task %s failure: %s", task_id, exc)


def _call_in_scope(ctx: ActivityContext, fn: Callable[..., Any], args: list[Any]) -> Any:
    with _activity_scope(ctx):
        return fn(*args)


class ActivityTaskRunner:
    """Runs one leased activity attempt and reports its outcome."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        worker_id: str,
        activities: Mapping[str, Callable[..., Any]],
        executor: Executor,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.worker_id = worker_id
        self.activities = activities
        self.executor = executor

    async def handle(self, task: dict[str, Any]) -> None:
        task_id = str(task["task_id"])
        attempt_id = str(task["activity_attempt_id"])
        lease_owner = str(task.get("lease_owner") or self.worker_id)
        activity_type = str(task.get("activity_type") or "")
        codec = str(task.get("payload_codec") or "avro")

        async def fail(message: str, failure_type: str, trace: str | None, final: bool) -> None:
            await self._report(
                self.client.fail_activity_task(
                    task_id=task_id,
                    activity_attempt_id=attempt_id,
                    lease_owner=lease_owner,
                    message=message,
                    failure_type=failure_type,
                    stack_trace=trace,
                    non_retryable=final,
                    codec=codec,
                    activity_name=activity_type,
                ),
                task_id,
            )

        fn = self.activities.get(activity_type)
        if fn is None:
            await fail(
                f"no activity registered for type {activity_type!r} on worker {self.worker_id}",
                "ActivityTypeNotRegistered",
                None,
                False,
            )
            return
        try:
            arguments = decode_arguments(task.get("arguments"), codec)
        except Exception as exc:
            await fail(
                f"could not decode activity arguments: {exc}", type(exc).__name__, _trace(exc), True
            )
            return
        ctx = self._context(task, task_id, attempt_id, lease_owner, activity_type)
        try:
            result = await self._invoke(fn, arguments, ctx)
        except asyncio.CancelledError:
            raise
        except errors.ActivityCancelled as exc:
            await fail(str(exc) or "activity cancelled", "ActivityCancelled", _trace(exc), True)
            return
        except errors.NonRetryableError as exc:
            await fail(str(exc) or type(exc).__name__, type(exc).__name__, _trace(exc), True)
            return
        except Exception as exc:
            await fail(str(exc) or type(exc).__name__, type(exc).__name__, _trace(exc), False)
            return
        try:
            await self.client.complete_activity_task(
                task_id=task_id,
                activity_attempt_id=attempt_id,
                lease_owner=lease_owner,
                result=result,
                codec=codec,
                activity_name=activity_type,
            )
        except errors.DurableWorkflowError as exc:
            self._log_report_error(exc, task_id)
        except Exception as exc:  # raised before sending: the result cannot be encoded
            await fail(
                f"activity result could not be encoded with codec {codec!r}: {exc}",
                type(exc).__name__,
                _trace(exc),
                True,
            )

    def _context(
        self,
        task: Mapping[str, Any],
        task_id: str,
        attempt_id: str,
        lease_owner: str,
        activity_type: str,
    ) -> ActivityContext:
        async def heartbeat(details: dict[str, Any] | None) -> Mapping[str, Any] | None:
            return await self.client.heartbeat_activity_task(
                task_id=task_id,
                activity_attempt_id=attempt_id,
                lease_owner=lease_owner,
                details=details,
            )

        number = task.get("attempt_number")
        info = ActivityInfo(
            task_id=task_id,
            activity_type=activity_type,
            activity_attempt_id=attempt_id,
            attempt_number=number if isinstance(number, int) else 1,
            task_queue=str(task.get("task_queue") or self.task_queue),
            worker_id=self.worker_id,
        )
        return ActivityContext(info, heartbeat=heartbeat, loop=asyncio.get_running_loop())

    async def _invoke(
        self, fn: Callable[..., Any], arguments: list[Any], ctx: ActivityContext
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

    async def _report(self, call: Awaitable[Any], task_id: str) -> None:
        try:
            await call
        except errors.DurableWorkflowError as exc:
            self._log_report_error(exc, task_id)

    @staticmethod
    def _log_report_error(exc: errors.DurableWorkflowError, task_id: str) -> None:
        _log_outcome_error("activity", task_id, exc)


class QueryTaskRunner:
    """Answers one leased query task by replaying the run and calling the query handler."""

    def __init__(self, client: Client, workflows: Mapping[str, type]) -> None:
        self.client = client
        self.workflows = workflows

    async def handle(self, task: dict[str, Any]) -> None:
        query_task_id = str(task["query_task_id"])
        lease_owner = str(task["lease_owner"])
        attempt = int(task["query_task_attempt"])
        codec = str(task.get("payload_codec") or "avro")

        async def fail(message: str, reason: str, exc: BaseException | None = None) -> None:
            await self._report(
                self.client.fail_query_task(
                    query_task_id=query_task_id,
                    lease_owner=lease_owner,
                    query_task_attempt=attempt,
                    message=message,
                    reason=reason,
                    failure_type=type(exc).__name__ if exc is not None else None,
                    stack_trace=_trace(exc) if exc is not None else None,
                ),
                query_task_id,
            )

        workflow_type = task.get("workflow_type")
        cls = self.workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            await fail(
                f"no workflow registered for type {workflow_type!r} on this worker",
                "query_workflow_type_not_registered",
            )
            return
        try:
            start_input = decode_arguments(task.get("workflow_arguments"), codec)
            query_input = decode_arguments(task.get("query_arguments"), codec)
        except Exception as exc:
            await fail(f"could not decode query input: {exc}", "query_payload_decode_failed", exc)
            return
        events = [e for e in task.get("history_events") or [] if isinstance(e, dict)]
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
            )
        except errors.QueryFailed as exc:
            await fail(str(exc), exc.reason or "query_rejected", exc)
            return
        except Exception as exc:
            await fail(f"query handler raised: {exc}", "query_rejected", exc)
            return
        try:
            await self.client.complete_query_task(
                query_task_id=query_task_id,
                lease_owner=lease_owner,
                query_task_attempt=attempt,
                result=result,
                codec=codec,
                workflow_id=task.get("workflow_id"),
                run_id=task.get("run_id"),
                query_name=task.get("query_name"),
            )
        except errors.DurableWorkflowError as exc:
            _log_outcome_error("query", query_task_id, exc)
        except Exception as exc:  # raised before sending: the result cannot be encoded
            await fail(
                f"query result could not be encoded: {exc}", "query_result_encode_failed", exc
            )

    async def _report(self, call: Awaitable[Any], query_task_id: str) -> None:
        try:
            await call
        except errors.DurableWorkflowError as exc:
            _log_outcome_error("query", query_task_id, exc)


_QUERY_OWNERSHIP_REASONS = frozenset(
    {
        "query_task_not_found",
        "query_task_not_leased",
        "query_task_attempt_mismatch",
        "query_task_timed_out",
    }
)


def _log_outcome_error(kind: str, task_id: str, exc: errors.DurableWorkflowError) -> None:
    reason = reason_of(exc)
    if reason in OWNERSHIP_REASONS or reason in _QUERY_OWNERSHIP_REASONS:
        logger.info("%s task %s outcome not applied: %s", kind, task_id, reason)
    else:
        logger.error("could not report %s task %s outcome: %s", kind, task_id, exc)
