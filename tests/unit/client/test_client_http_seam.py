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


def _answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://dw.test/"))


async def test_requests_are_made_the_way_upstream_makes_them() -> None:
    """Method and path positionally, the query in the path, ``json=``, headers, timeout."""
    async with Client("http://dw.test", token="t", namespace="ns", timeout=7.0) as client:
        with patch.object(client._http, "request", new_callable=AsyncMock) as request:
            request.return_value = _answer(200, {"workflow_id": "wf-1", "signal_name": "go"})
            await client.signal_workflow("wf-1", "go", args=["é"])
            request.return_value = _answer(200, {"workflows": []})
            await client.list_workflows(status="running", page_size=5)
    # The replaced request() is the caller's server: nothing is sent to discover one.
    assert request.await_count == 2
    signal, listing = request.await_args_list
    assert signal.args == ("POST", "/api/workflows/wf-1/signal/go")
    assert signal.kwargs["json"]["input"]["codec"] == "avro"
    assert signal.kwargs["timeout"] == 7.0
    headers = signal.kwargs["headers"]
    assert headers["Authorization"] == "Bearer t" and headers["X-Namespace"] == "ns"
    assert (
        headers["X-Durable-Workflow-Control-Plane-Version"]
        == client._headers()["X-Durable-Workflow-Control-Plane-Version"]
    )
    method, path = listing.args
    assert method == "GET" and path.startswith("/api/workflows?")
    assert "status=running" in path and "page_size=5" in path
    assert listing.kwargs["json"] is None


async def test_json_body_bytes_are_the_ones_the_size_check_measured() -> None:
    """httpx writes ``json=`` exactly as ``encode_body`` does (compact, raw UTF-8)."""
    from durable_workflow._payload_limits import encode_body

    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"ok": True})

    body = {"text": "naïve ☃", "n": [1, 2.5, None, True]}
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await http.request("POST", "http://dw.test/x", json=body)
    assert seen == [encode_body(body)]


def test_headers_and_query_helpers_match_upstream() -> None:
    from durable_workflow._transport._http import with_query

    client = Client("http://dw.test", control_token="op", worker_token="wk")
    assert client._headers()["Authorization"] == "Bearer op"
    assert client._headers(worker=True)["Authorization"] == "Bearer wk"
    assert "X-Durable-Workflow-Control-Plane-Version" not in client._headers(worker=True)
    assert (
        with_query("/api/x", {"a": True, "b": [1, 2], "c": "d e"}) == "/api/x?a=true&b=1&b=2&c=d+e"
    )
    assert with_query("/api/x", {}) == "/api/x"


async def test_a_poll_that_times_out_client_side_is_resent_once_with_its_id() -> None:
    async with Client("http://dw.test") as client:
        with patch.object(client._http, "request", new_callable=AsyncMock) as request:
            request.side_effect = [
                httpx.ReadTimeout("slow"),
                _answer(200, {"task": {"query_task_id": "q1"}}),
            ]
            task = await client.poll_query_task(worker_id="w", task_queue="q", timeout=1.0)
    assert task == {"query_task_id": "q1"}
    first, second = request.await_args_list
    assert first.kwargs["json"]["poll_request_id"] == second.kwargs["json"]["poll_request_id"]
