"""PrometheusMetrics serves its registry: on a port (serve) and as an ASGI app (asgi_app)."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from durable_workflow.metrics import (
    PAYLOAD_SIZE_BYTES,
    WORKER_TASK_FAILURES,
    PrometheusMetrics,
    record_payload_size,
)


def recorded() -> PrometheusMetrics:
    metrics = PrometheusMetrics(registry=CollectorRegistry())
    metrics.increment(WORKER_TASK_FAILURES, 1.0, {"task_kind": "activity", "failure_type": "E"})
    record_payload_size(metrics, {"codec": "avro", "blob": "x" * 300}, direction="sent", kind="k")
    return metrics


def test_serve_answers_scrapes_on_a_free_port_until_closed() -> None:
    with recorded().serve(port=0) as server:
        assert server.port > 0 and server.url.endswith(f":{server.port}/metrics")
        text = httpx.get(server.url, timeout=5).text
    assert f'{WORKER_TASK_FAILURES}_total{{failure_type="E",task_kind="activity"}} 1.0' in text
    # Byte histograms use byte buckets: 300 bytes falls in le=1024, not in le=256.
    assert f'{PAYLOAD_SIZE_BYTES}_bucket{{direction="sent",kind="k",le="256.0"}} 0.0' in text
    assert f'{PAYLOAD_SIZE_BYTES}_bucket{{direction="sent",kind="k",le="1024.0"}} 1.0' in text
    try:
        httpx.get(server.url, timeout=1)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the metrics server still answers after close()")


async def test_asgi_app_serves_the_same_registry() -> None:
    app = recorded().asgi_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert f"{PAYLOAD_SIZE_BYTES}_count" in response.text
