"""OpenTelemetry: one trace from the start of a workflow through its tasks and activities.

``TracingInterceptor`` goes to the client (start/signal/query/update/cancel/
terminate spans) and to the worker (workflow-task, activity and query-task
spans). The start span's trace context travels with the run (in its memo), so
a worker in another process continues the same trace. ``TraceContextFilter``
puts the trace and span ids and the workflow/activity ids on log records.
Needs the ``otel`` extra (``pip install 'durable-workflow[otel]'``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from _support import run, serving, unique
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.contrib.opentelemetry import TraceContextFilter, TracingInterceptor

TASK_QUEUE = "samples-otel"
log = logging.getLogger("samples.otel")


@activity.defn(name="reserve-seat")
def reserve_seat(flight: str) -> str:
    log.info("reserving a seat on %s", flight)
    return f"{flight}/12A"


@activity.defn(name="send-ticket")
def send_ticket(seat: str) -> str:
    return f"ticket for {seat}"


@workflow.defn(name="book-flight")
class BookFlight:
    def run(self, ctx: Any, flight: str) -> Any:
        seat = yield ctx.schedule_activity("reserve-seat", [flight])
        return (yield ctx.schedule_activity("send-ticket", [seat]))


def print_tree(spans: list[ReadableSpan]) -> None:
    """Each span under its parent, in start order: name and kind."""
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent, []).append(span)

    def walk(parent: int | None, depth: int) -> None:
        for span in children.get(parent, []):
            print(f"{'  ' * depth}{span.name} ({span.kind.name.lower()})")
            walk(span.context.span_id, depth + 1)

    walk(None, 0)


async def main(client: Client) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # the interceptor's default tracer comes from here
    tracing = TracingInterceptor()

    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(
        logging.Formatter("log: %(message)s [trace %(otel_trace_id).8s… workflow %(workflow_id)s]")
    )
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    traced = Client(client.base_url, token=client.token, interceptors=[tracing])
    worker = Worker(
        traced,
        task_queue=TASK_QUEUE,
        workflows=[BookFlight],
        activities=[reserve_seat, send_ticket],
        interceptors=[tracing],
    )
    async with traced, serving(worker):
        handle = await traced.start_workflow(
            workflow_type="book-flight",
            task_queue=TASK_QUEUE,
            workflow_id=unique("booking"),
            input=["DW123"],
        )
        print("result:", await handle.result(timeout=30))
    print_tree(list(exporter.get_finished_spans()))


if __name__ == "__main__":
    run(main)
