"""TracingInterceptor's client side: one span per operation, trace context injected on start."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id

from durable_workflow.contrib.opentelemetry import MEMO_KEY, TracingInterceptor
from durable_workflow.interceptors import ClientCall


@pytest.fixture
def traced() -> tuple[TracingInterceptor, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracingInterceptor(provider.get_tracer("unit")), exporter


@pytest.mark.parametrize(
    ("operation", "name", "span_name"),
    [
        ("signal_workflow", "approve", "SignalWorkflow:approve"),
        ("query_workflow", "status", "QueryWorkflow:status"),
        ("update_workflow", "add", "UpdateWorkflow:add"),
        ("cancel_workflow", None, "CancelWorkflow"),
        ("terminate_workflow", None, "TerminateWorkflow"),
    ],
)
async def test_each_operation_gets_a_client_span_and_passes_the_call_unchanged(
    traced: tuple[TracingInterceptor, InMemorySpanExporter],
    operation: str,
    name: str | None,
    span_name: str,
) -> None:
    tracing, exporter = traced
    call = ClientCall(operation, "wf-1", {"workflow_id": "wf-1"}, name=name, run_id="run-1")
    seen: list[ClientCall] = []

    async def next(passed: ClientCall) -> str:
        seen.append(passed)
        return "answer"

    assert await tracing.execute_client_call(call, next) == "answer"
    assert seen == [call]
    (span,) = exporter.get_finished_spans()
    assert (span.name, span.kind) == (span_name, SpanKind.CLIENT)
    assert span.attributes == {
        "durable_workflow.workflow_id": "wf-1",
        "durable_workflow.run_id": "run-1",
    }


async def test_start_injects_its_span_context_into_the_memo_beside_the_callers_entries(
    traced: tuple[TracingInterceptor, InMemorySpanExporter],
) -> None:
    tracing, exporter = traced
    arguments = {"workflow_id": "wf-2", "workflow_type": "t", "memo": {"owner": "me"}}
    call = ClientCall("start_workflow", "wf-2", arguments, name="t")
    sent: list[dict[str, Any]] = []

    async def next(passed: ClientCall) -> Any:
        sent.append(passed.arguments)
        return type("Handle", (), {"run_id": "run-2"})()

    await tracing.execute_client_call(call, next)
    (span,) = exporter.get_finished_spans()
    assert span.name == "StartWorkflow:t"
    assert span.attributes is not None and span.attributes["durable_workflow.run_id"] == "run-2"
    memo = sent[0]["memo"]
    assert memo["owner"] == "me"
    assert memo[MEMO_KEY]["traceparent"].split("-")[2] == format_span_id(span.context.span_id)
    assert arguments["memo"] == {"owner": "me"}  # the caller's mapping is not changed


async def test_a_failing_call_marks_its_span_and_raises(
    traced: tuple[TracingInterceptor, InMemorySpanExporter],
) -> None:
    tracing, exporter = traced

    async def next(passed: ClientCall) -> Any:
        raise LookupError("no such workflow")

    with pytest.raises(LookupError):
        await tracing.execute_client_call(ClientCall("cancel_workflow", "wf-3", {}), next)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].name == "exception"
