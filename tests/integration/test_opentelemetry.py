"""OpenTelemetry spans across a real dev server (contrib.opentelemetry).

The client, the workflow worker and the activity worker each have their own
``Client`` and their own ``TracingInterceptor`` (nothing shared but the
exporter), as they would in three processes: the activity and workflow-task
spans find the start span's context only through the server. The workflow
worker runs without a sticky cache, so every task replays the whole history.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from generations import SpecCheck
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.contrib.opentelemetry import (
    MEMO_KEY,
    TraceContextFilter,
    TracingInterceptor,
)
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

WORKFLOW_QUEUE = "it-otel-workflows"
ACTIVITY_QUEUE = "it-otel-activities"
log = logging.getLogger("it-otel.activity")


@activity.defn(name="otel-greet")
def greet(name: str) -> str:
    log.info("greeting %s", name)
    return f"Hello, {name}"


@workflow.defn(name="otel-greetings")
class Greetings:
    def __init__(self) -> None:
        self.names: list[str] = []

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: len(self.names) == 2)
        first = yield ctx.schedule_activity("otel-greet", [self.names[0]], queue=ACTIVITY_QUEUE)
        second = yield ctx.schedule_activity("otel-greet", [self.names[1]], queue=ACTIVITY_QUEUE)
        return [first, second]

    @workflow.signal("name")
    def add(self, name: str) -> None:
        self.names.append(name)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(TraceContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield handler
    log.removeHandler(handler)


@pytest.fixture
async def clients(
    gen_server: DevServerHandle, spec: SpecCheck, exporter: InMemorySpanExporter
) -> AsyncIterator[list[Client]]:
    made = []
    for _ in range(3):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracing = TracingInterceptor(provider.get_tracer("it-otel"))
        client = Client(gen_server.url, token=gen_server.token, interceptors=[tracing])
        made.append((spec.attach(client), tracing))
    try:
        yield [c for c, _ in made]
    finally:
        for c, _ in made:
            await c.aclose()


def span_tree(spans: list[ReadableSpan]) -> str:
    """The spans as an indented tree, children in start order (printed for the report)."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans}
    for s in sorted(spans, key=lambda s: s.start_time or 0):
        parent = s.parent.span_id if s.parent is not None and s.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(s)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in by_parent.get(parent, []):
            lines.append(f"{'  ' * depth}{s.name} [{s.kind.name.lower()}]")
            walk(s.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


async def test_task_spans_are_children_of_the_start_span_across_workers(
    clients: list[Client], exporter: InMemorySpanExporter, records: Records
) -> None:
    caller, workflow_side, activity_side = clients
    workflow_worker = Worker(
        workflow_side,
        task_queue=WORKFLOW_QUEUE,
        workflows=[Greetings],
        interceptors=list(workflow_side.interceptors),
        max_cached_workflows=0,
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )
    activity_worker = Worker(
        activity_side,
        task_queue=ACTIVITY_QUEUE,
        activities=[greet],
        interceptors=list(activity_side.interceptors),
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )
    workflow_id = f"otel-{uuid.uuid4().hex[:10]}"
    handle = await caller.start_workflow(
        workflow_type="otel-greetings",
        task_queue=WORKFLOW_QUEUE,
        workflow_id=workflow_id,
        memo={"owner": "it"},
    )
    runs = [asyncio.create_task(workflow_worker.run()), asyncio.create_task(activity_worker.run())]
    try:
        await handle.signal("name", ["Ada"])
        await handle.signal("name", ["Grace"])
        assert await handle.result(timeout=30) == ["Hello, Ada", "Hello, Grace"]
    finally:
        await workflow_worker.stop()
        await activity_worker.stop()
        await asyncio.gather(*runs)

    spans = list(exporter.get_finished_spans())
    print(span_tree(spans))
    named = {name: [s for s in spans if s.name == name] for name in {s.name for s in spans}}
    (start,) = named["StartWorkflow:otel-greetings"]
    assert start.kind is SpanKind.CLIENT and start.parent is None
    assert len(named["SignalWorkflow:name"]) == 2

    # Every task span is a direct child of the start span, in its trace.
    task_spans = named["RunWorkflow:otel-greetings"] + named["RunActivity:otel-greet"]
    for span in task_spans:
        assert span.context.trace_id == start.context.trace_id, span.name
        assert span.parent is not None and span.parent.span_id == start.context.span_id
    assert len(named["RunActivity:otel-greet"]) == 2
    # Three workflow tasks replayed from scratch; each new command has exactly one span.
    assert len(named["StartActivity:otel-greet"]) == 2
    assert len(named["CompleteWorkflow"]) == 1
    run_workflow_ids = {s.context.span_id for s in named["RunWorkflow:otel-greetings"]}
    for span in named["StartActivity:otel-greet"] + named["CompleteWorkflow"]:
        assert span.parent is not None and span.parent.span_id in run_workflow_ids

    # The trace context rode in the memo, next to the caller's own entry.
    described = await caller.describe_workflow_run(workflow_id, str(handle.run_id))
    assert described.memo is not None and described.memo["owner"] == "it"
    assert described.memo[MEMO_KEY]["traceparent"].split("-")[1] == format_trace_id(
        start.context.trace_id
    )

    # Log records inside an activity carry the ids of its span and task.
    activity_span_ids = {format_span_id(s.context.span_id) for s in named["RunActivity:otel-greet"]}
    assert [r.getMessage() for r in records.records] == ["greeting Ada", "greeting Grace"]
    for record in records.records:
        assert record.otel_trace_id == format_trace_id(start.context.trace_id)  # type: ignore[attr-defined]
        assert record.otel_span_id in activity_span_ids  # type: ignore[attr-defined]
        assert record.workflow_id == workflow_id  # type: ignore[attr-defined]
        assert record.run_id == handle.run_id  # type: ignore[attr-defined]
        assert record.activity_type == "otel-greet"  # type: ignore[attr-defined]
        assert record.activity_id  # type: ignore[attr-defined]
