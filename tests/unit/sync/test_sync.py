"""``durable_workflow.sync.Client``: blocking calls, inside or outside a running loop."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading

import httpx
import pytest

from durable_workflow import sync
from durable_workflow.client import Client as AsyncClient
from durable_workflow.client import ScheduleDescription, WorkflowExecution


def _transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("GET", "/api/workers"):
            # The client's read of the queue's workers after a start (a diagnostic).
            return httpx.Response(200, json={"workers": []})
        seen.append(request)
        path = request.url.path
        if path == "/api/workflows/wf-1":
            return httpx.Response(
                200, json={"workflow_id": "wf-1", "run_id": "r1", "status": "running"}
            )
        if path == "/api/workflows" and request.method == "POST":
            return httpx.Response(201, json={"workflow_id": "wf-1", "run_id": "r1"})
        if path == "/api/schedules":
            token = request.url.params.get("next_page_token")
            if token is None:
                return httpx.Response(
                    200, json={"schedules": [{"schedule_id": "a"}], "next_page_token": "p2"}
                )
            return httpx.Response(200, json={"schedules": [{"schedule_id": "b"}]})
        return httpx.Response(404, json={"reason": "not_found", "message": path})

    return httpx.MockTransport(handler)


def test_blocking_calls_return_the_async_result_types() -> None:
    seen: list[httpx.Request] = []
    with sync.Client("http://dw.test", namespace="ns", transport=_transport(seen)) as client:
        handle = client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf-1")
        assert isinstance(handle, sync.SyncWorkflowHandle)
        assert (handle.workflow_id, handle.run_id) == ("wf-1", "r1")
        described = handle.describe()
        assert isinstance(described, WorkflowExecution) and described.status == "running"
    assert [r.method for r in seen] == ["POST", "GET"]
    assert seen[0].headers["X-Namespace"] == "ns"


async def test_works_inside_a_running_event_loop() -> None:
    """Upstream's asyncio.run() raised RuntimeError here (Jupyter, async web apps)."""
    asyncio.get_running_loop()
    seen: list[httpx.Request] = []
    client = sync.Client("http://dw.test", transport=_transport(seen))
    try:
        assert client.describe_workflow("wf-1").run_id == "r1"
    finally:
        client.close()


def test_iterators_follow_page_tokens() -> None:
    seen: list[httpx.Request] = []
    with sync.Client("http://dw.test", transport=_transport(seen)) as client:
        schedules = list(client.iter_schedules())
    assert [s.schedule_id for s in schedules] == ["a", "b"]
    assert all(isinstance(s, ScheduleDescription) for s in schedules)
    assert [r.url.params.get("next_page_token") for r in seen] == [None, "p2"]


def test_errors_cross_the_loop_thread_unchanged() -> None:
    from durable_workflow import errors

    client = sync.Client("http://dw.test", transport=_transport([]))
    with client, pytest.raises(errors.WorkflowNotFound) as caught:
        client.describe_workflow("workflow-missing")
    assert caught.value.workflow_id == "workflow-missing"


def test_close_stops_the_loop_thread_and_later_calls_fail() -> None:
    before = threading.active_count()
    client = sync.Client("http://dw.test", transport=_transport([]))
    assert threading.active_count() == before + 1
    client.close()
    client.close()
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="closed"):
        client.describe_workflow("wf-1")


def test_every_public_async_control_method_has_a_blocking_twin_with_the_same_parameters() -> None:
    worker_plane = {
        name
        for name in dir(AsyncClient)
        if name.startswith(("poll_", "complete_", "fail_", "heartbeat_", "register_"))
        or name in ("workflow_task_history", "send_operation", "operations", "aclose")
    }
    missing = []
    for name, member in inspect.getmembers(AsyncClient):
        if name.startswith("_") or name in worker_plane or not callable(member):
            continue
        twin = getattr(sync.Client, name, None)
        if twin is None:
            missing.append(name)
            continue
        async_params = list(inspect.signature(member).parameters.values())
        sync_params = list(inspect.signature(twin).parameters.values())
        assert [(p.name, p.kind, p.default) for p in sync_params] == [
            (p.name, p.kind, p.default) for p in async_params
        ], name
    assert missing == []


def test_wire_requests_are_identical_to_the_async_client() -> None:
    seen: list[httpx.Request] = []
    with sync.Client("http://dw.test", transport=_transport(seen)) as client:
        client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf-1", input=[1])

    async def via_async() -> None:
        async with AsyncClient("http://dw.test", transport=_transport(seen)) as client:
            await client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="wf-1", input=[1]
            )

    asyncio.run(via_async())
    assert json.loads(seen[0].content) == json.loads(seen[1].content)
