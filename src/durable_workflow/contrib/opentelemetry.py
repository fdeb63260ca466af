"""OpenTelemetry tracing for clients and workers (extra ``otel``).

One :class:`TracingInterceptor` goes to both ``Client(interceptors=[...])`` and
``Worker(interceptors=[...])``. The client opens a span per start, signal,
query, update, cancel and terminate; the worker one per workflow task,
activity attempt and query task, plus a short span per new command a workflow
task sends (``StartActivity:<type>``, ``StartChildWorkflow:<type>``, ...).

Propagation: the worker protocol carries no headers from a start to the tasks
of its run, so the start span's W3C context (``traceparent``/``tracestate``)
travels in the run's memo under :data:`MEMO_KEY`. The server stores the memo,
repeats it in the run's ``WorkflowStarted`` event and copies it on
continue-as-new, so a worker in any process finds it: from task ``headers``
when a server sends them, else the history the task carries, else (once per
run, cached) ``describe_workflow_run``. Every task span of a run is therefore a
child of the span that started it. Command spans come only from the commands a
task *sends*, never from replayed ones, so a replay adds no spans.

:class:`TraceContextFilter` puts the trace and span ids and the workflow, run
and activity ids of the running task on every log record.
"""

from __future__ import annotations

import contextvars
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from durable_workflow.interceptors import (
    ActivityHandler,
    ActivityInterceptorContext,
    ClientCall,
    ClientCallHandler,
    QueryTaskHandler,
    QueryTaskInterceptorContext,
    WorkflowTaskHandler,
    WorkflowTaskInterceptorContext,
)

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.propagate import extract, inject
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "durable_workflow.contrib.opentelemetry needs opentelemetry-api: "
        "pip install 'durable-workflow[otel]'"
    ) from exc

__all__ = ["MEMO_KEY", "TraceContextFilter", "TracingInterceptor", "task_log_ids"]

#: The memo entry holding the start span's W3C trace context (``traceparent``, ``tracestate``).
MEMO_KEY = "_dw_trace_context"

_CLIENT_SPAN = {
    "start_workflow": "StartWorkflow",
    "signal_workflow": "SignalWorkflow",
    "query_workflow": "QueryWorkflow",
    "update_workflow": "UpdateWorkflow",
    "cancel_workflow": "CancelWorkflow",
    "terminate_workflow": "TerminateWorkflow",
}

# Command type -> (span name prefix, command field naming it).
_COMMAND_SPAN = {
    "schedule_activity": ("StartActivity", "activity_type"),
    "start_child_workflow": ("StartChildWorkflow", "workflow_type"),
    "continue_as_new": ("ContinueAsNew", "workflow_type"),
    "complete_workflow": ("CompleteWorkflow", None),
    "fail_workflow": ("FailWorkflow", None),
    "complete_update": ("CompleteUpdate", "update_name"),
    "fail_update": ("FailUpdate", "update_name"),
}

_task_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "durable_workflow_otel_task_ids", default=None
)


def task_log_ids() -> dict[str, str]:
    """The ids of the task running in this context (workflow_id, run_id, activity ids)."""
    return dict(_task_ids.get() or {})


@contextmanager
def _task_scope(ids: Mapping[str, Any]) -> Any:
    token = _task_ids.set({k: str(v) for k, v in ids.items() if v not in (None, "")})
    try:
        yield
    finally:
        _task_ids.reset(token)


class TraceContextFilter(logging.Filter):
    """Adds ``otel_trace_id``, ``otel_span_id``, ``workflow_id``, ``run_id``,
    ``activity_id`` and ``activity_type`` to each record (empty strings outside a task).

    Attach it to a handler (``handler.addFilter(TraceContextFilter())``) so records
    from every logger get the fields, then use them in the format string.
    """

    _FIELDS = ("workflow_id", "run_id", "workflow_type", "activity_id", "activity_type")

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        valid = span_context.is_valid
        record.otel_trace_id = trace.format_trace_id(span_context.trace_id) if valid else ""
        record.otel_span_id = trace.format_span_id(span_context.span_id) if valid else ""
        ids = _task_ids.get() or {}
        for name in self._FIELDS:
            if not hasattr(record, name):
                setattr(record, name, ids.get(name, ""))
        return True


def _events(task: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    events = task.get("history_events")
    return [e for e in events if isinstance(e, Mapping)] if isinstance(events, list) else []


def _carrier(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("traceparent"), str):
        return None
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


class TracingInterceptor:
    """Client and worker interceptor emitting OpenTelemetry spans (module docstring).

    ``tracer`` defaults to the global provider's tracer named
    ``durable_workflow``. ``lookup_runs`` bounds the per-run cache of trace
    contexts a worker keeps (one ``describe_workflow_run`` per run not seen before).
    """

    def __init__(self, tracer: trace.Tracer | None = None, *, lookup_runs: int = 1024) -> None:
        self.tracer = tracer if tracer is not None else trace.get_tracer("durable_workflow")
        self._runs: OrderedDict[str, dict[str, str] | None] = OrderedDict()
        self._lookup_runs = lookup_runs

    # -- client ------------------------------------------------------------------

    async def execute_client_call(self, call: ClientCall, next: ClientCallHandler) -> Any:
        prefix = _CLIENT_SPAN.get(call.operation, call.operation)
        name = f"{prefix}:{call.name}" if call.name else prefix
        attributes = {"durable_workflow.workflow_id": call.workflow_id}
        if call.run_id:
            attributes["durable_workflow.run_id"] = call.run_id
        with self.tracer.start_as_current_span(
            name, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            if call.operation == "start_workflow":
                carrier: dict[str, str] = {}
                inject(carrier)
                memo = dict(call.arguments.get("memo") or {})
                memo[MEMO_KEY] = carrier
                call = replace(call, arguments={**call.arguments, "memo": memo})
            result = await next(call)
            run_id = getattr(result, "run_id", None)
            if isinstance(run_id, str) and run_id:
                span.set_attribute("durable_workflow.run_id", run_id)
            return result

    # -- worker ------------------------------------------------------------------

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskHandler
    ) -> list[dict[str, Any]] | None:
        task = context.task
        workflow_type = str(task.get("workflow_type") or "")
        parent = await self._parent(task, context.client)
        ids = {
            "workflow_id": task.get("workflow_id"),
            "run_id": task.get("run_id"),
            "workflow_type": workflow_type,
        }
        with self._task_span(
            f"RunWorkflow:{workflow_type}", ids, parent, task_queue=context.task_queue
        ) as span:
            commands = await next(context)
            # None: nothing was sent (nothing new to decide, or the task failed: the
            # worker logs a failure as a warning, which carries this span's ids).
            span.set_attribute("durable_workflow.commands_sent", len(commands or ()))
            if commands is None:
                return None
            for command in commands:
                self._command_span(command)
            return commands

    async def execute_activity(
        self, context: ActivityInterceptorContext, next: ActivityHandler
    ) -> Any:
        task = context.task
        parent = await self._parent(task, context.client)
        ids = {
            "workflow_id": task.get("workflow_id"),
            "run_id": task.get("run_id"),
            "activity_id": task.get("activity_execution_id"),
            "activity_type": context.activity_type,
        }
        with self._task_span(
            f"RunActivity:{context.activity_type}",
            ids,
            parent,
            task_queue=context.task_queue,
            attempt=task.get("attempt_number"),
        ):
            return await next(context)

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskHandler
    ) -> str:
        task = context.task
        parent = await self._parent(task, context.client)
        ids = {"workflow_id": task.get("workflow_id"), "run_id": task.get("run_id")}
        with self._task_span(
            f"HandleQuery:{task.get('query_name') or ''}",
            ids,
            parent,
            task_queue=context.task_queue,
        ) as span:
            outcome = await next(context)
            span.set_attribute("durable_workflow.outcome", outcome)
            return outcome

    @contextmanager
    def _task_span(
        self, name: str, ids: Mapping[str, Any], parent: Any, **extra: Any
    ) -> Iterator[Any]:
        """A worker task's server span under ``parent``, its ids on log records meanwhile."""
        with (
            _task_scope(ids),
            self.tracer.start_as_current_span(
                name, context=parent, kind=SpanKind.SERVER, attributes=_attributes(ids, **extra)
            ) as span,
        ):
            yield span

    def _command_span(self, command: Mapping[str, Any]) -> None:
        kind = command.get("type")
        known = _COMMAND_SPAN.get(kind) if isinstance(kind, str) else None
        if known is None:
            return
        prefix, field = known
        label = command.get(field) if field else None
        name = f"{prefix}:{label}" if isinstance(label, str) and label else prefix
        with self.tracer.start_as_current_span(name, kind=SpanKind.INTERNAL) as span:
            if kind == "fail_workflow":
                span.set_status(Status(StatusCode.ERROR, str(command.get("message") or "")))

    # -- finding the run's trace context -------------------------------------------

    async def _parent(self, task: Mapping[str, Any], client: Any) -> otel_context.Context | None:
        carrier = _carrier(task.get("headers"))
        if carrier is None:
            carrier = await self._run_carrier(task, client)
        return extract(carrier) if carrier is not None else None

    async def _run_carrier(self, task: Mapping[str, Any], client: Any) -> dict[str, str] | None:
        run_id = task.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            return None
        if run_id in self._runs:
            self._runs.move_to_end(run_id)
            return self._runs[run_id]
        found = False
        carrier: dict[str, str] | None = None
        for event in _events(task):
            if event.get("event_type") != "WorkflowStarted":
                continue
            payload = event.get("payload")
            if isinstance(payload, Mapping):
                found = True
                memo = payload.get("memo")
                carrier = _carrier(memo.get(MEMO_KEY)) if isinstance(memo, Mapping) else None
                parent_run = payload.get("parent_workflow_run_id")
                if carrier is None and isinstance(parent_run, str) and parent_run in self._runs:
                    carrier = self._runs[parent_run]  # a child run: its parent's trace
            break
        if not found and client is not None and isinstance(task.get("workflow_id"), str):
            try:
                run = await client.describe_workflow_run(task["workflow_id"], run_id)
            except Exception:  # tracing must never fail a task
                return None
            memo = getattr(run, "memo", None)
            carrier = _carrier(memo.get(MEMO_KEY)) if isinstance(memo, Mapping) else None
        self._runs[run_id] = carrier
        while len(self._runs) > self._lookup_runs:
            self._runs.popitem(last=False)
        return carrier


def _attributes(ids: Mapping[str, Any], **extra: Any) -> dict[str, str | int]:
    values = {**ids, **extra}
    return {
        f"durable_workflow.{key}": value if isinstance(value, int) else str(value)
        for key, value in values.items()
        if value not in (None, "")
    }
