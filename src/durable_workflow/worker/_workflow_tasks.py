"""What the worker does with one leased workflow task (worker-protocol.md §9, §13).

Read the rest of the history (for a cached run only the events after what
the cache has seen, ``_history``), decode the start arguments, then
either run the one accepted update the task is about (``workflow_update_id``:
only a ``complete_update``/``fail_update`` command is sent) or replay and
send the new commands in the run's codec. Replays go through the sticky cache when the
worker has one, so a task of a cached run costs only its new events; a miss
or any doubt falls back to full replay inside the cache. Anything that
prevents a trustworthy answer (unknown type, undecodable input,
non-determinism) fails the *task* with a message naming the cause.

Activity and query tasks have their own runners (``_activities``, ``_queries``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from durable_workflow import errors, workflow
from durable_workflow.client import Client
from durable_workflow.converter import DataConverter
from durable_workflow.interceptors import WorkflowTaskInterceptorContext, chain_workflow_task
from durable_workflow.worker._eager import (
    EagerActivities,
    EagerWorkflowTasks,
    lending_workflow_slots,
)
from durable_workflow.worker._history import HistoryReader
from durable_workflow.worker._support import (
    OWNERSHIP_REASONS,
    reason_of,
    retry_transient,
    should_fail_after_completion_error,
    trace_of,
    unsupported_codec,
)
from durable_workflow.worker._telemetry import WorkerTelemetry, parse_time
from durable_workflow.workflow._replay.commands import command_codec, converted_commands
from durable_workflow.workflow._replay.sticky import WorkflowCache

__all__ = ["WorkflowTaskRunner"]

logger = logging.getLogger("durable_workflow.worker")


class _TaskRejected(Exception):
    """A workflow task this worker cannot process; becomes ``fail_workflow_task``."""

    def __init__(self, message: str, failure_type: str, stack_trace: str | None = None) -> None:
        self.failure_type = failure_type
        self.stack_trace = stack_trace
        super().__init__(message)


class WorkflowTaskRunner:
    """Turns one leased workflow task into a completion (or a task failure)."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        workflows: Mapping[str, type],
        *,
        worker_id: str = "",
        cache: WorkflowCache | None = None,
        interceptors: Sequence[Any] = (),
        telemetry: WorkerTelemetry | None = None,
        converter: DataConverter | None = None,
        validated_updates: bool = False,
        eager: EagerActivities | None = None,
        eager_workflow: EagerWorkflowTasks | None = None,
    ) -> None:
        self.client = client
        # Set when the server advertises eager activity dispatch / eager workflow tasks.
        self.eager = eager
        self.eager_workflow = eager_workflow
        # The server ran validators before accepting (2.x update-validation tasks).
        self.validated_updates = validated_updates
        self.task_queue = task_queue
        self.workflows = workflows
        self.worker_id = worker_id
        self.cache = cache
        self.converter = converter if converter is not None else DataConverter()
        self._history = HistoryReader(client, cache)
        self.telemetry = telemetry or WorkerTelemetry(None, task_queue)
        self._execute = chain_workflow_task(tuple(interceptors), self._execute_task)

    async def handle(self, task: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Handle ``task`` through the interceptor chain and record its outcome.

        Returns the commands sent, or ``None`` when the task was failed or dropped.
        """
        started = time.perf_counter()
        context = WorkflowTaskInterceptorContext(
            self.worker_id, self.task_queue, task, client=self.client
        )
        outcome = "error"
        sent: list[dict[str, Any]] | None = None
        try:
            sent = await self._execute(context)
            outcome = "completed" if sent is not None else "failed"
        finally:
            self.telemetry.task("workflow", outcome, time.perf_counter() - started)
        return sent

    async def _execute_task(
        self, context: WorkflowTaskInterceptorContext
    ) -> list[dict[str, Any]] | None:
        # A task without lease fields (hand-built, as upstream's worker accepted) is this
        # worker's first attempt.
        task = {
            **context.task,
            "lease_owner": context.task.get("lease_owner") or self.worker_id,
            "workflow_task_attempt": context.task.get("workflow_task_attempt") or 1,
        }
        task_id = str(task["task_id"])
        lease_owner = str(task["lease_owner"])
        attempt = int(task["workflow_task_attempt"])
        run_id = str(task.get("run_id") or "")
        try:
            commands = await self._commands_for(task)
        except _TaskRejected as rejected:
            self._forget(run_id)
            await self._fail(task_id, lease_owner, attempt, rejected)
            return None
        except errors.DurableWorkflowError as exc:
            self._forget(run_id)
            if reason_of(exc) in OWNERSHIP_REASONS:
                logger.info("workflow task %s is no longer ours (%s)", task_id, reason_of(exc))
                return None
            raise
        if not commands:
            # Nothing new to decide (e.g. woken while still waiting on other steps).
            # The server refuses an empty completion (422), so close the task as
            # failed: no history is written and the next event creates a new task.
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
            return None
        self.telemetry.commands_sent(commands)
        # Free activity slots lent to the completion (a server's eager dispatch).
        reserved = await self.eager.reserve(commands) if self.eager is not None else 0
        answer: dict[str, Any] | None = None
        try:
            answer = await lending_workflow_slots(
                self.eager_workflow,
                lambda asking: retry_transient(
                    lambda: self.client.complete_workflow_task(
                        task_id=task_id,
                        lease_owner=lease_owner,
                        workflow_task_attempt=attempt,
                        commands=commands,
                        eager_activity_slots=reserved or None,
                        **asking,
                    )
                ),
            )
        except errors.PayloadTooLargeError as exc:
            # Refused before sending (the server would answer a bare 413): fail the
            # task with the reason, so it is visible on the task and in the logs.
            self._forget(run_id)
            await self._fail(
                task_id, lease_owner, attempt, _TaskRejected(str(exc), type(exc).__name__)
            )
            return None
        except errors.DurableWorkflowError as exc:
            # The server did not take these commands: the cached instance ran ahead
            # of the recorded history, so the next task must replay from scratch.
            self._forget(run_id)
            reason = reason_of(exc)
            if reason in OWNERSHIP_REASONS:
                logger.info("workflow task %s completion not applied: %s", task_id, reason)
            elif not should_fail_after_completion_error(exc):
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
                return None
        except Exception as exc:  # not an SDK error (a broken client): the outcome is unknown
            self._forget(run_id)
            logger.error("workflow task %s completion lost: %s", task_id, exc)
        finally:
            if self.eager is not None:
                self.eager.settle(reserved, answer)
        # The commands this task produced, also when their completion's fate is unknown.
        return commands

    def _forget(self, run_id: str) -> None:
        if self.cache is not None and run_id:
            self.cache.evict(run_id)

    async def _commands_for(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        workflow_type = task.get("workflow_type")
        cls = self.workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            raise _TaskRejected(
                f"no workflow registered for type {workflow_type!r} on this worker "
                f"(registered: {', '.join(sorted(self.workflows)) or 'none'})",
                "WorkflowTypeNotRegistered",
            )
        codec = task.get("payload_codec") or "avro"
        bad_codec = unsupported_codec(codec)
        if bad_codec is not None:
            raise _TaskRejected(str(bad_codec), type(bad_codec).__name__)
        events = await self._history.read(task)
        if events and not task.get("workflow_update_id"):
            # The newest event is what made this task due (a start, signal, completion...).
            self.telemetry.scheduled_at("workflow", parse_time(events[-1].get("recorded_at")))
        self.telemetry.payload_received("workflow_input", task.get("arguments"))
        try:
            arguments = self.converter.decode_arguments(task.get("arguments"), codec)
        except Exception as exc:
            raise _TaskRejected(
                f"could not decode the start arguments of {task.get('workflow_id')}: {exc}",
                type(exc).__name__,
                trace_of(exc),
            ) from exc
        update_id = task.get("workflow_update_id")
        try:
            if isinstance(update_id, str) and update_id:
                return self._update_commands(cls, task, events, arguments, update_id, codec)
            return self._replay_commands(cls, task, events, arguments, codec)
        except Exception as exc:
            raise _TaskRejected(
                f"replay of workflow {task.get('workflow_id')} failed: {exc}",
                type(exc).__name__,
                trace_of(exc),
            ) from exc

    def _replay_commands(
        self,
        cls: type,
        task: Mapping[str, Any],
        events: Sequence[dict[str, Any]],
        arguments: list[Any],
        codec: str,
    ) -> list[dict[str, Any]]:
        run_id = str(task.get("run_id") or "")
        workflow_id = task.get("workflow_id")
        if self.cache is not None and run_id:
            before = replace(self.cache.stats)
            try:
                outcome = self.cache.get_or_replay(
                    run_id,
                    cls,
                    events,
                    arguments,
                    workflow_id=workflow_id,
                    payload_codec=codec,
                    converter=self.converter,
                )
            finally:
                after = self.cache.stats
                self.telemetry.sticky_cache(
                    after.hits - before.hits,
                    after.misses - before.misses + after.fallbacks - before.fallbacks,
                    after.evictions - before.evictions,
                )
        else:
            outcome = workflow.replay(
                cls,
                events,
                arguments,
                workflow_id=workflow_id,
                run_id=run_id,
                payload_codec=codec,
                converter=self.converter,
            )
        return converted_commands(outcome.commands, self.task_queue, self._writer(task, codec))

    def _update_commands(
        self,
        cls: type,
        task: Mapping[str, Any],
        events: Sequence[dict[str, Any]],
        arguments: list[Any],
        update_id: str,
        codec: str,
    ) -> list[dict[str, Any]]:
        # An update task answers exactly that update (worker-protocol.md §9.5.12):
        # validator rejection, unknown update or handler error become fail_update.
        result = workflow.apply_update(
            cls,
            events,
            arguments,
            update_id,
            workflow_id=task.get("workflow_id"),
            run_id=str(task.get("run_id") or ""),
            payload_codec=codec,
            converter=self.converter,
            validate=not self.validated_updates,
        )
        # The update handler ran on a fresh instance; a cached one never saw it.
        self._forget(str(task.get("run_id") or ""))
        return converted_commands([result], self.task_queue, self._writer(task, codec))

    def _writer(self, task: Mapping[str, Any], codec: str) -> DataConverter:
        """The converter for this task's commands: the run's codec and ids in its warnings."""

        def text(key: str) -> str | None:
            value = task.get(key)
            return value if isinstance(value, str) and value else None

        return self.converter.with_codec(command_codec(codec)).with_context(
            "workflow_task",
            workflow_id=text("workflow_id"),
            workflow_type=text("workflow_type"),
            run_id=text("run_id"),
            task_queue=self.task_queue,
            namespace=getattr(self.client, "namespace", None),
        )

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
        if not quiet:
            self.telemetry.failure("workflow", rejected.failure_type)
        try:
            await retry_transient(
                lambda: self.client.fail_workflow_task(
                    task_id=task_id,
                    lease_owner=lease_owner,
                    workflow_task_attempt=attempt,
                    message=str(rejected),
                    failure_type=rejected.failure_type,
                    stack_trace=rejected.stack_trace,
                )
            )
        except Exception as exc:  # the task stays failed here; its lease expires on the server
            logger.warning("could not report workflow task %s failure: %s", task_id, exc)
