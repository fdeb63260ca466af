"""The control-plane method families of ``Client`` beyond the parity fixtures.

Paging iterators, handles, schedule/standalone-activity helpers, the bridge's
returned rejections, and the typed errors each family raises.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from durable_workflow import errors, serializer
from durable_workflow.client import (
    BridgeAdapterOutcome,
    Client,
    ScheduleAction,
    ScheduleHandle,
    ScheduleSpec,
    StandaloneActivityExecution,
    WorkflowCommandResult,
)
from durable_workflow.retry_policy import TransportRetryPolicy

Handler = Callable[[httpx.Request], httpx.Response]


class Routes:
    """(method, path) -> handler; records requests."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def json(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.handlers[(method, path)] = lambda _r: httpx.Response(status, json=body)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"reason": "not_found", "message": "no route"})
        return handler(request)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@pytest.fixture
def routes() -> Routes:
    return Routes()


@pytest.fixture
async def client(routes: Routes) -> AsyncIterator[Client]:
    policy = TransportRetryPolicy(max_attempts=1)
    async with Client(
        "http://dw.test", retry_policy=policy, transport=httpx.MockTransport(routes)
    ) as c:
        yield c


def _paged(pages: dict[str | None, dict[str, Any]], token_param: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get(token_param)])

    return handler


async def test_iter_workflows_follows_next_page_token(client: Client, routes: Routes) -> None:
    routes.handlers[("GET", "/api/workflows")] = _paged(
        {
            None: {"workflows": [{"workflow_id": "a"}], "next_page_token": "t2"},
            "t2": {"workflows": [{"workflow_id": "b"}], "next_page_token": None},
        },
        "next_page_token",
    )
    ids = [w.workflow_id async for w in client.iter_workflows(status="running", page_size=1)]
    assert ids == ["a", "b"]
    assert [dict(r.url.params) for r in routes.requests] == [
        {"status": "running", "page_size": "1"},
        {"status": "running", "page_size": "1", "next_page_token": "t2"},
    ]


async def test_iter_history_events_reads_every_page(client: Client, routes: Routes) -> None:
    path = "/api/workflows/wf/runs/r1/history"
    routes.handlers[("GET", path)] = _paged(
        {
            None: {"events": [{"sequence": 1}], "next_page_token": "p2"},
            "p2": {"events": [{"sequence": 2}], "next_page_token": None},
        },
        "next_page_token",
    )
    events = [e["sequence"] async for e in client.iter_history_events("wf", "r1")]
    assert events == [1, 2]
    # get_history stays upstream's single raw first page
    assert (await client.get_history("wf", "r1"))["events"] == [{"sequence": 1}]


async def test_iter_schedule_history_uses_the_cursor(client: Client, routes: Routes) -> None:
    routes.handlers[("GET", "/api/schedules/s1/history")] = _paged(
        {
            None: {"events": [{"sequence": 1}], "has_more": True, "next_cursor": 1},
            "1": {"events": [{"sequence": 2}], "has_more": False, "next_cursor": None},
        },
        "after_sequence",
    )
    handle = client.get_schedule_handle("s1")
    assert [e.sequence async for e in handle.iter_history()] == [1, 2]


async def test_schedule_history_bounds_are_checked_locally(client: Client) -> None:
    with pytest.raises(ValueError, match="limit"):
        await client.get_schedule_history("s1", limit=0)
    with pytest.raises(ValueError, match="after_sequence"):
        await client.get_schedule_history("s1", after_sequence=-1)


async def test_create_schedule_with_dataclasses(client: Client, routes: Routes) -> None:
    routes.json("POST", "/api/schedules", {"schedule_id": "server-id", "outcome": "created"})
    handle = await client.create_schedule(
        spec=ScheduleSpec(intervals=[{"every": "PT30M"}]),
        action=ScheduleAction("t", task_queue="q", input=[1, "x"]),
    )
    assert isinstance(handle, ScheduleHandle) and handle.schedule_id == "server-id"
    body = routes.body()
    assert body["spec"] == {"intervals": [{"every": "PT30M"}]}
    assert serializer.decode_envelope(body["action"].pop("input")) == [1, "x"]
    assert body["action"] == {"workflow_type": "t", "task_queue": "q"}
    assert "paused" not in body and "schedule_id" not in body


async def test_schedule_errors_name_the_schedule(client: Client, routes: Routes) -> None:
    routes.json("GET", "/api/schedules/s9", {"reason": "schedule_not_found"}, status=404)
    with pytest.raises(errors.ScheduleNotFound) as caught:
        await client.describe_schedule("s9")
    assert caught.value.schedule_id == "s9"


async def test_handle_commands_delegate_with_the_handle_id(client: Client, routes: Routes) -> None:
    for command in ("cancel", "terminate", "archive", "repair"):
        routes.json("POST", f"/api/workflows/wf-7/{command}", {"outcome": command})
    handle = client.get_workflow_handle("wf-7")
    await handle.cancel(reason="r1")
    await handle.terminate()
    archived = await handle.archive(reason="old")
    repaired = await handle.repair()
    assert [routes.body(i) for i in range(4)] == [{"reason": "r1"}, {}, {"reason": "old"}, {}]
    assert isinstance(archived, WorkflowCommandResult) and archived.outcome == "archive"
    assert repaired.workflow_id == "wf-7" and repaired.raw == {"outcome": "repair"}


async def test_update_sends_wait_policy(client: Client, routes: Routes) -> None:
    routes.json("POST", "/api/workflows/wf/update/approve", {"update_status": "completed"})
    answer = await client.get_workflow_handle("wf").update(
        "approve", [True], wait_for="completed", wait_timeout_seconds=5, request_id="req-1"
    )
    assert answer == {"update_status": "completed"}
    body = routes.body()
    assert serializer.decode_envelope(body.pop("input")) == [True]
    assert body == {"wait_for": "completed", "wait_timeout_seconds": 5, "request_id": "req-1"}


async def test_invalid_wait_policy_is_rejected_before_sending(
    client: Client, routes: Routes
) -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        await client.update_workflow("wf", "u", wait_for="eventually")
    assert "wait_for" in (caught.value.errors or {})
    assert routes.requests == []


async def test_bridge_rejection_is_returned_not_raised(client: Client, routes: Routes) -> None:
    rejected = {"accepted": False, "outcome": "rejected", "reason": "unknown_target", "version": 1}
    routes.json("POST", "/api/bridge-adapters/webhook/stripe", rejected, status=422)
    outcome = await client.send_webhook_bridge_event(
        "stripe", action="start_workflow", idempotency_key="k1", target={"workflow_type": "t"}
    )
    assert isinstance(outcome, BridgeAdapterOutcome)
    assert (outcome.accepted, outcome.reason, outcome.version) == (False, "unknown_target", 1)
    assert outcome.raw == rejected


async def test_namespace_storage_alias_is_deprecated(client: Client, routes: Routes) -> None:
    routes.json("PUT", "/api/namespaces/billing/external-storage", {"name": "billing"})
    with pytest.warns(DeprecationWarning):
        result = await client.set_namespace_external_storage(namespace="billing", driver="s3")
    assert result.name == "billing"
    assert routes.body() == {"driver": "s3", "enabled": True}
    with pytest.raises(TypeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await client.set_namespace_external_storage("a", namespace="b", driver="s3")


async def test_standalone_activity_lifecycle(client: Client, routes: Routes) -> None:
    routes.json(
        "POST",
        "/api/activities",
        {"activity_id": "act-1", "workflow_run_id": "run-1", "activity_type": "charge"},
    )
    routes.json(
        "GET",
        "/api/activities/act-1",
        {"activity_id": "act-1", "status": "completed", "result": serializer.envelope(42)},
    )
    handle = await client.start_activity(activity_type="charge", task_queue="q", input=[5])
    assert (handle.activity_id, handle.workflow_run_id) == ("act-1", "run-1")
    sent = routes.body()
    assert serializer.decode_envelope(sent.pop("input")) == [5]
    assert sent == {"activity_type": "charge", "task_queue": "q"}
    described = await handle.describe()
    assert isinstance(described, StandaloneActivityExecution) and described.result == 42
    assert await handle.result(timeout=1) == 42


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("failed", errors.WorkflowFailed),
        ("terminated", errors.WorkflowTerminated),
        ("cancelled", errors.WorkflowCancelled),
    ],
)
async def test_standalone_activity_outcomes_raise(
    client: Client, routes: Routes, status: str, expected: type[BaseException]
) -> None:
    routes.json("GET", "/api/activities/a", {"activity_id": "a", "status": status})
    with pytest.raises(expected):
        await client.get_activity_result(client.get_activity_handle("a"), timeout=1)


async def test_operations_accessor_returns_generated_models(client: Client, routes: Routes) -> None:
    from durable_workflow._generated.models.namespace import NamespaceListResponse

    routes.json("GET", "/api/namespaces", {"namespaces": [{"name": "default"}]})
    typed = await client.operations.namespace_list()
    assert isinstance(typed, NamespaceListResponse)


async def test_metrics_recorder_sees_every_request(routes: Routes) -> None:
    from durable_workflow.metrics import CLIENT_REQUESTS, InMemoryMetrics, NoopMetrics

    assert isinstance(Client("http://dw.test").metrics, NoopMetrics)
    recorder = InMemoryMetrics()
    routes.json("GET", "/api/namespaces", {"namespaces": []})
    async with Client(
        "http://dw.test", metrics=recorder, transport=httpx.MockTransport(routes)
    ) as client:
        await client.list_namespaces()
        await client.list_namespaces()
    assert recorder.counter_value(CLIENT_REQUESTS, {"route": "/namespaces"}) == 2


async def test_namespace_storage_policy_is_parsed(client: Client, routes: Routes) -> None:
    from durable_workflow.external_storage import ExternalPayloadStoragePolicy

    policy = {"driver": "s3", "enabled": True, "threshold_bytes": 1024, "config": {"bucket": "b"}}
    routes.json(
        "GET", "/api/namespaces/billing", {"name": "billing", "external_payload_storage": policy}
    )
    described = await client.describe_namespace("billing")
    assert isinstance(described.external_payload_storage, ExternalPayloadStoragePolicy)
    assert described.external_payload_storage.driver == "s3"
    assert described.external_payload_storage.threshold_bytes == 1024


async def test_large_payloads_are_offloaded_and_read_back(routes: Routes, tmp_path: Any) -> None:
    from durable_workflow.external_storage import LocalFilesystemExternalStorage

    storage = LocalFilesystemExternalStorage(tmp_path)
    routes.json("POST", "/api/workflows", {"workflow_id": "wf", "run_id": "r1"})
    async with Client(
        "http://dw.test",
        external_storage=storage,
        external_storage_threshold_bytes=64,
        transport=httpx.MockTransport(routes),
    ) as client:
        await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="wf", input=["x" * 500]
        )
        # The start is followed by the client's read of the queue's workers (a diagnostic).
        start = next(i for i, r in enumerate(routes.requests) if r.method == "POST")
        sent = routes.body(start)["input"]
        assert set(sent) == {"codec", "external_storage"}
        assert sent["external_storage"]["size_bytes"] > 64
        routes.json(
            "GET",
            "/api/workflows/wf",
            {"workflow_id": "wf", "input_envelope": sent, "status": "running"},
        )
        described = await client.describe_workflow("wf")
        assert described.input == ["x" * 500]
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf", input=[1])
        assert "blob" in routes.body()["input"]  # small payloads stay inline


async def test_payload_size_warning_follows_the_client_options(
    routes: Routes, caplog: pytest.LogCaptureFixture
) -> None:
    routes.json("POST", "/api/workflows", {"workflow_id": "wf", "run_id": "r1"})
    big = ["y" * 600]  # ~815 encoded bytes: over the 50 % threshold, under the limit
    async with Client(
        "http://dw.test",
        payload_size_limit_bytes=1000,
        payload_size_warning_threshold_percent=50,
        transport=httpx.MockTransport(routes),
    ) as client:
        assert client.payload_size_warning_config is not None
        with caplog.at_level("WARNING"):
            await client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="wf", input=big
            )
        assert caplog.records, "expected a payload size warning"
    caplog.clear()
    async with Client(
        "http://dw.test", payload_size_warnings=False, transport=httpx.MockTransport(routes)
    ) as quiet:
        assert quiet.payload_size_warning_config is None
        with caplog.at_level("WARNING"):
            await quiet.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="wf", input=big
            )
        assert not caplog.records


async def test_run_targeted_commands_use_the_run_routes(client: Client, routes: Routes) -> None:
    base = "/api/workflows/wf/runs/r2"
    routes.json("POST", f"{base}/signal/go", {})
    routes.json("POST", f"{base}/query/state", {"result": 3})
    routes.json("POST", f"{base}/update/bump", {"update_status": "accepted"})
    routes.json("POST", f"{base}/cancel", {})
    routes.json("POST", f"{base}/terminate", {})
    routes.json("GET", f"{base}/debug", {"run_id": "r2"})
    routes.json("GET", "/api/workflows/wf/debug", {"run_id": "r3"})
    await client.signal_workflow_run("wf", "r2", "go", args=[1])
    assert (await client.query_workflow_run("wf", "r2", "state"))["result"] == 3
    await client.update_workflow_run("wf", "r2", "bump", wait_for="accepted")
    await client.cancel_workflow_run("wf", "r2", reason="x")
    await client.terminate_workflow_run("wf", "r2")
    assert (await client.debug_workflow("wf", run_id="r2"))["run_id"] == "r2"
    assert (await client.debug_workflow("wf", include_last_event_payload=True))["run_id"] == "r3"
    assert [r.url.path for r in routes.requests][-1] == "/api/workflows/wf/debug"
    assert routes.requests[-1].url.params["include_last_event_payload"] == "1"
    assert routes.body(3) == {"reason": "x"}
