"""OpenTelemetry spans across a real dev server (contrib.opentelemetry).

The client, the workflow worker and the activity worker each have their own
``Client`` and their own ``TracingInterceptor`` (nothing shared but the
exporter), as they would in three processes: the activity and workflow-task
spans find the start span's context only through the server. The workflow
worker runs without a sticky cache, so every task replays the whole history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
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
from durable_workflow.testing.pytest_plugin import running_worker

REPO = Path(__file__).resolve().parents[2]
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

    @workflow.query("names")
    def listed(self) -> list[str]:
        return list(self.names)


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
    workflow_id = f"otel-{uuid.uuid4().hex[:10]}"
    handle = await caller.start_workflow(
        workflow_type="otel-greetings",
        task_queue=WORKFLOW_QUEUE,
        workflow_id=workflow_id,
        memo={"owner": "it"},
    )
    async with (
        running_worker(
            workflow_side,
            task_queue=WORKFLOW_QUEUE,
            workflows=[Greetings],
            interceptors=list(workflow_side.interceptors),
            max_cached_workflows=0,
        ) as workflow_worker,
        running_worker(
            activity_side,
            task_queue=ACTIVITY_QUEUE,
            activities=[greet],
            interceptors=list(activity_side.interceptors),
        ),
    ):
        await handle.signal("name", ["Ada"])
        assert (await handle.query("names"))["result"] == ["Ada"]
        await handle.signal("name", ["Grace"])
        assert await handle.result(timeout=30) == ["Hello, Ada", "Hello, Grace"]
        query_tasks = workflow_worker._query_tasks

    spans = list(exporter.get_finished_spans())
    print(span_tree(spans))
    named = {name: [s for s in spans if s.name == name] for name in {s.name for s in spans}}
    (start,) = named["StartWorkflow:otel-greetings"]
    assert start.kind is SpanKind.CLIENT and start.parent is None
    assert len(named["SignalWorkflow:name"]) == 2
    assert len(named["QueryWorkflow:names"]) == 1
    if query_tasks:  # the server hands queries to workers as tasks
        (query_task,) = named["HandleQuery:names"]
        assert query_task.parent is not None
        assert query_task.parent.span_id == start.context.span_id

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


ACTIVITY_PROCESS = """
import asyncio, json, sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from durable_workflow import Client, Worker, activity
from durable_workflow.contrib.opentelemetry import TracingInterceptor

url, queue, out = sys.argv[1:4]
done = asyncio.Event()


class Lines(SpanExporter):
    def export(self, spans):
        with open(out, "a") as file:
            for s in spans:
                parent = s.parent.span_id if s.parent is not None else None
                file.write(json.dumps([s.name, s.context.trace_id, parent]) + "\\n")
                if s.name.startswith("RunActivity:"):
                    loop.call_soon_threadsafe(done.set)
        return SpanExportResult.SUCCESS


@activity.defn(name="otel-remote")
def remote(name):
    return "remote " + name


async def main():
    global loop
    loop = asyncio.get_running_loop()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Lines()))
    tracing = TracingInterceptor(provider.get_tracer("remote"))
    async with Client(url) as client:
        worker = Worker(client, task_queue=queue, activities=[remote], interceptors=[tracing],
                        poll_timeout=5.0, shutdown_timeout=5.0)
        running = asyncio.create_task(worker.run())
        await asyncio.wait_for(done.wait(), 60)
        await worker.stop()
        await running


asyncio.run(main())
"""


@workflow.defn(name="otel-remote-call")
class RemoteCall:
    def run(self, ctx: Any, name: str) -> Any:
        return (
            yield ctx.schedule_activity("otel-remote", [name], queue=ACTIVITY_QUEUE + "-remote")
        )


async def test_an_activity_span_in_another_process_joins_the_start_span(
    gen_server: DevServerHandle, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = TracingInterceptor(provider.get_tracer("it-otel"))
    out = tmp_path / "remote-spans.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ACTIVITY_PROCESS,
        gen_server.url,
        ACTIVITY_QUEUE + "-remote",
        str(out),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with Client(gen_server.url, interceptors=[tracing]) as client:
            handle = await client.start_workflow(
                workflow_type="otel-remote-call",
                task_queue=WORKFLOW_QUEUE + "-remote",
                workflow_id=f"otel-remote-{uuid.uuid4().hex[:8]}",
                input=["Ada"],
            )
            async with running_worker(
                client,
                task_queue=WORKFLOW_QUEUE + "-remote",
                workflows=[RemoteCall],
                interceptors=[tracing],
            ):
                assert await handle.result(timeout=60) == "remote Ada"
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, stderr.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    (start,) = [s for s in exporter.get_finished_spans() if s.name.startswith("StartWorkflow:")]
    remote = [json.loads(line) for line in out.read_text().splitlines()]
    assert remote == [["RunActivity:otel-remote", start.context.trace_id, start.context.span_id]]
