"""Metric recorders, route templating and the transport's client-request hook."""

from __future__ import annotations

import httpx
import pytest

from durable_workflow import errors
from durable_workflow._transport import HttpTransport
from durable_workflow.metrics import (
    CLIENT_REQUEST_DURATION_SECONDS,
    CLIENT_REQUESTS,
    NOOP_METRICS,
    InMemoryMetrics,
    MetricsRecorder,
    NoopMetrics,
    PrometheusMetrics,
    request_route,
)
from durable_workflow.retry_policy import TransportRetryPolicy


def test_in_memory_counters_and_observations_by_tag_subset() -> None:
    metrics = InMemoryMetrics()
    metrics.increment("c", tags={"a": "1", "b": "x"})
    metrics.increment("c", 2.0, tags={"b": "x", "a": "2"})
    metrics.record("h", 0.5, tags={"a": "1"})
    metrics.record("h", 1.5, tags={"a": "2"})
    assert metrics.counter_value("c") == 3.0
    assert metrics.counter_value("c", {"a": "2"}) == 2.0
    assert metrics.counter_value("c", {"a": "3"}) == 0.0
    assert metrics.counters[("c", (("a", "1"), ("b", "x")))] == 1.0
    assert sorted(metrics.observations("h")) == [0.5, 1.5]
    assert metrics.observations("h", {"a": "1"}) == [0.5]


def test_noop_and_protocol() -> None:
    assert isinstance(NOOP_METRICS, NoopMetrics)
    NOOP_METRICS.increment("x", tags={"a": "b"})
    NOOP_METRICS.record("x", 1.0)
    assert isinstance(InMemoryMetrics(), MetricsRecorder)
    assert isinstance(NOOP_METRICS, MetricsRecorder)


def test_prometheus_creates_metrics_lazily_and_refuses_changed_labels() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    metrics = PrometheusMetrics(registry=registry)
    metrics.increment("dw_test_total", tags={"outcome": "ok"})
    metrics.increment("dw_test_total", 2, tags={"outcome": "ok"})
    metrics.record("dw_test_seconds", 0.25, tags={"outcome": "ok"})
    assert registry.get_sample_value("dw_test_total", {"outcome": "ok"}) == 3.0
    assert registry.get_sample_value("dw_test_seconds_count", {"outcome": "ok"}) == 1.0
    with pytest.raises(ValueError, match="dw_test_total"):
        metrics.increment("dw_test_total", tags={"other": "x"})


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/workflows", "/workflows"),
        ("/api/workflows/wf-1", "/workflows/{workflow_id}"),
        ("/api/workflows/wf-1/signal/go", "/workflows/{workflow_id}/signal/{name}"),
        ("/api/workflows/wf-1/runs/r-1/history", "/workflows/{workflow_id}/runs/{run_id}/history"),
        ("/api/schedules/s-1", "/schedules/{schedule_id}"),
        ("/api/namespaces/prod", "/namespaces/{name}"),
        ("/api/search-attributes/Color", "/search-attributes/{name}"),
        ("/api/workers/w-1", "/workers/{worker_id}"),
        ("/api/bridge-adapters/webhook/gh", "/bridge-adapters/webhook/{adapter}"),
        ("/api/worker/activity-tasks/t-9/heartbeat", "/worker/activity-tasks/{task_id}/heartbeat"),
        ("/api/worker/workflow-tasks/poll", "/worker/workflow-tasks/poll"),
        ("/api/cluster/info", "/cluster/info"),
    ],
)
def test_request_routes_are_templated(path: str, route: str) -> None:
    assert request_route(path) == route


async def test_transport_records_every_http_call() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/missing"):
            return httpx.Response(404, json={"reason": "workflow_not_found"})
        if request.url.path.endswith("/down"):
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})

    metrics = InMemoryMetrics()
    transport = HttpTransport(
        "http://dw.test",
        http_transport=httpx.MockTransport(answer),
        retry_policy=TransportRetryPolicy(max_attempts=1),
        metrics=metrics,
    )
    try:
        await transport.request("GET", "/api/workflows/wf-1", plane="control")
        with pytest.raises(errors.DurableWorkflowError):
            await transport.request("GET", "/api/workflows/wf-1/missing", plane="control")
        with pytest.raises(errors.TransportError):
            await transport.request("POST", "/api/worker/down", plane="worker")
    finally:
        await transport.aclose()
    ok = {"method": "GET", "route": "/workflows/{workflow_id}", "plane": "control"}
    assert (
        metrics.counter_value(CLIENT_REQUESTS, {**ok, "status_code": "200", "outcome": "ok"}) == 1
    )
    assert (
        metrics.counter_value(CLIENT_REQUESTS, {"status_code": "404", "outcome": "http_error"}) == 1
    )
    assert (
        metrics.counter_value(
            CLIENT_REQUESTS, {"plane": "worker", "status_code": "none", "outcome": "ConnectError"}
        )
        == 1
    )
    assert len(metrics.observations(CLIENT_REQUEST_DURATION_SECONDS)) == 3


def test_in_memory_recorder_is_seeded_and_compared_by_its_dicts() -> None:
    key = ("c", (("a", "1"),))
    seeded = InMemoryMetrics(counters={key: 2.0}, histograms={("h", ()): [0.5]})
    seeded.increment("c", tags={"a": "1"})
    seeded.record("h", 1.0)
    assert seeded.counters == {key: 3.0}
    assert seeded.histograms == {("h", ()): [0.5, 1.0]}
    assert seeded == InMemoryMetrics({key: 3.0}, {("h", ()): [0.5, 1.0]})
    assert InMemoryMetrics() != seeded
    # Each recorder starts with its own dicts.
    InMemoryMetrics().increment("x")
    assert InMemoryMetrics().counters == {}
