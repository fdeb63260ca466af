"""``Client._http`` is the ``httpx.AsyncClient`` every request goes through (upstream's seam)."""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

import httpx

from durable_workflow.client import Client


async def test_a_mock_on_client_http_sees_the_request() -> None:
    async with Client("http://dw.test", namespace="ns") as client:
        assert isinstance(client._http, httpx.AsyncClient)
        answer = httpx.Response(
            200,
            json={"workflow_id": "wf-1", "run_id": "r1", "status": "running"},
            request=httpx.Request("GET", "http://dw.test/api/workflows/wf-1"),
        )
        with patch.object(client._http, "request", new_callable=AsyncMock) as request:
            request.return_value = answer
            described = await client.describe_workflow("wf-1")
    assert described.run_id == "r1"
    method, path = request.call_args.args
    assert (method, path) == ("GET", "/api/workflows/wf-1")
    assert request.call_args.kwargs["headers"]["X-Namespace"] == "ns"
