"""Client methods on httpx.MockTransport: request bodies, result shapes, get_result rules."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import errors, serializer
from durable_workflow._generated import manifest
from durable_workflow.client import (
    CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
    CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
    CONTROL_PLANE_VERSION,
    DEFAULT_SDK_VERSION,
    PROTOCOL_VERSION,
    Client,
    WorkflowExecution,
    WorkflowHandle,
    WorkflowRun,
)
from durable_workflow.retry_policy import TransportRetryPolicy

UPSTREAM = Path(__file__).resolve().parents[4] / "shared" / "upstream" / "control-plane"

Route = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Routes (method, path) to canned handlers and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route | list[Route]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Any, status: int = 200) -> None:
        handlers: list[Route] = []
        for answer in answers:
            if callable(answer):
                handlers.append(answer)
            else:
                handlers.append(lambda _r, a=answer: httpx.Response(status, json=a))
        self.routes[(method, path)] = handlers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handlers = self.routes.get((request.method, request.url.path))
        if not handlers:
            return httpx.Response(404, json={"reason": "not_found", "message": request.url.path})
        assert isinstance(handlers, list)
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return handler(request)

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path and r.content]


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def client(server: FakeServer) -> Any:
    policy = TransportRetryPolicy(initial_backoff_seconds=0, jitter=False)
    async with Client(
        "http://dw.test", token="tok", retry_policy=policy, transport=httpx.MockTransport(server)
    ) as c:
        yield c


def test_wire_constants_come_from_the_manifest() -> None:
    assert PROTOCOL_VERSION == manifest.WORKER_PROTOCOL_VERSION == "1.1"
    assert CONTROL_PLANE_VERSION == manifest.CONTROL_PLANE_VERSION == "2"
    assert CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA == (
        "durable-workflow.v2.control-plane-request.contract"
    )
    assert CONTROL_PLANE_REQUEST_CONTRACT_VERSION == 1
    assert DEFAULT_SDK_VERSION.startswith("durable-workflow-python/")


def test_constructor_options_are_kept() -> None:
    c = Client("http://dw.test/", namespace="orders", timeout=5.0, payload_size_warnings=False)
    assert c.base_url == "http://dw.test"
    assert (c.namespace, c.timeout, c.payload_size_warnings) == ("orders", 5.0, False)
    assert isinstance(c.retry_policy, TransportRetryPolicy)


def test_external_storage_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="external_storage_threshold_bytes"):
        Client("http://dw.test", external_storage_threshold_bytes=0)


async def test_start_workflow_body_and_handle(client: Client, server: FakeServer) -> None:
    server.on(
        "POST",
        "/api/workflows",
        {
            "workflow_id": "wf-1",
            "run_id": "run-1",
            "workflow_type": "greeter",
            "outcome": "started_new",
        },
        status=201,
    )
    handle = await client.start_workflow(
        workflow_type="greeter", task_queue="q", workflow_id="wf-1", input=["Ada", 3]
    )
    assert (handle.workflow_id, handle.run_id, handle.workflow_type) == ("wf-1", "run-1", "greeter")
    (body,) = server.bodies("/api/workflows")
    assert body["input"]["codec"] == "avro"
    assert serializer.decode_envelope(body.pop("input")) == ["Ada", 3]
    assert body == {
        "workflow_id": "wf-1",
        "workflow_type": "greeter",
        "task_queue": "q",
        "execution_timeout_seconds": 3600,
        "run_timeout_seconds": 600,
    }


async def test_start_workflow_without_input_sends_an_empty_list(
    client: Client, server: FakeServer
) -> None:
    server.on("POST", "/api/workflows", {"workflow_id": "wf-2", "run_id": "r"}, status=201)
    await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf-2")
    (body,) = server.bodies("/api/workflows")
    assert serializer.decode_envelope(body["input"]) == []


async def test_duplicate_start_is_workflow_already_started(
    client: Client, server: FakeServer
) -> None:
    server.on(
        "POST",
        "/api/workflows",
        {"reason": "duplicate_not_allowed", "outcome": "rejected_duplicate"},
        status=409,
    )
    with pytest.raises(errors.WorkflowAlreadyStarted) as caught:
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="wf-3")
    assert caught.value.workflow_id == "wf-3"
    assert len(server.requests) == 1


def _fixture(name: str) -> dict[str, Any]:
    path = UPSTREAM / f"{name}-parity.json"
    if not path.exists():
        pytest.skip(f"{path} is absent (shared upstream fixtures not available)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def test_start_workflow_matches_the_upstream_parity_fixture(
    client: Client, server: FakeServer
) -> None:
    fixture = _fixture("workflow-start")
    sdk = fixture["sdk_python"]
    server.on("POST", "/api/workflows", {"workflow_id": "wf-polyglot-231", "run_id": "r"})
    await client.start_workflow(**sdk["kwargs"])
    (body,) = server.bodies("/api/workflows")
    envelope = body.pop("input")
    assert envelope["codec"] == sdk["payload_envelope"]["codec"]
    assert serializer.decode_envelope(envelope) == sdk["payload_envelope"]["decoded"]
    assert body == sdk["expected_body"]


@pytest.mark.parametrize(
    "name", ["worker-register", "activity-fail", "workflow-task-complete", "workflow-task-fail"]
)
async def test_worker_calls_match_the_upstream_parity_fixtures(
    name: str, client: Client, server: FakeServer
) -> None:
    fixture = _fixture(name)
    request = fixture["request"]
    path = "/api" + request["path"]
    server.on(request["method"], path, fixture.get("response_body") or {})
    method = getattr(client, fixture["sdk_python"]["method"])
    await method(**fixture["sdk_python"]["kwargs"])
    (body,) = server.bodies(path)
    expected = dict(request["body"])
    if name == "worker-register":
        # The SDK also reports its live process facts; the fixture omits them.
        body.pop("process_metrics", None)
    if name == "activity-fail":
        assert body["failure"].pop("non_retryable") is expected["failure"].pop("non_retryable")
    assert body == expected


async def test_activity_complete_sends_a_result_envelope(
    client: Client, server: FakeServer
) -> None:
    fixture = _fixture("activity-complete")
    sdk = fixture["sdk_python"]
    path = "/api" + fixture["request"]["path"]
    server.on("POST", path, fixture["response_body"])
    await client.complete_activity_task(**sdk["kwargs"])
    (body,) = server.bodies(path)
    result = body.pop("result")
    assert result["codec"] == sdk["payload_envelope"]["codec"]
    assert serializer.decode_envelope(result) == sdk["payload_envelope"]["decoded"]
    assert body == sdk["expected_body"]


async def test_query_task_complete_sends_raw_result_and_envelope(
    client: Client, server: FakeServer
) -> None:
    fixture = _fixture("query-task-complete")
    path = "/api" + fixture["request"]["path"]
    server.on("POST", path, fixture["response_body"])
    await client.complete_query_task(**fixture["sdk_python"]["kwargs"])
    (body,) = server.bodies(path)
    expected = fixture["request"]["body"]
    assert body["result"] == expected["result"]
    assert body["result_envelope"]["codec"] == expected["result_envelope"]["codec"]
    assert serializer.decode_envelope(body["result_envelope"]) == expected["result"]
    assert (body["lease_owner"], body["query_task_attempt"]) == ("polyglot-worker-231", 1)


async def test_register_worker_validates_concurrency(client: Client) -> None:
    with pytest.raises(ValueError, match="max_concurrent_activity_tasks"):
        await client.register_worker(worker_id="w", task_queue="q", max_concurrent_activity_tasks=0)


async def test_poll_workflow_task_sends_a_fresh_poll_request_id(
    client: Client, server: FakeServer
) -> None:
    server.on("POST", "/api/worker/workflow-tasks/poll", {"task": None}, {"task": {"task_id": "t"}})
    assert await client.poll_workflow_task(worker_id="w", task_queue="q") is None
    assert await client.poll_workflow_task(worker_id="w", task_queue="q") == {"task_id": "t"}
    first, second = server.bodies("/api/worker/workflow-tasks/poll")
    assert first["poll_request_id"].startswith("wf-poll-")
    assert first["poll_request_id"] != second["poll_request_id"]
    assert {k: first[k] for k in ("worker_id", "task_queue")} == {
        "worker_id": "w",
        "task_queue": "q",
    }


async def test_poll_timeout_means_no_task(client: Client, server: FakeServer) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    server.on("POST", "/api/worker/activity-tasks/poll", slow)
    assert await client.poll_activity_task(worker_id="w", task_queue="q", timeout=0.1) is None


async def test_workflow_task_history_token_alias(client: Client, server: FakeServer) -> None:
    path = "/api/worker/workflow-tasks/t1/history"
    server.on("POST", path, {"history_events": [], "next_history_page_token": None})
    await client.workflow_task_history(
        task_id="t1", page_token="NTAw", lease_owner="w", workflow_task_attempt=2
    )
    assert server.bodies(path) == [
        {"lease_owner": "w", "workflow_task_attempt": 2, "next_history_page_token": "NTAw"}
    ]
    with pytest.raises(ValueError):
        await client.workflow_task_history(
            task_id="t1",
            next_history_page_token="a",
            page_token="b",
            lease_owner="w",
            workflow_task_attempt=1,
        )


async def test_fail_activity_task_failure_shape(client: Client, server: FakeServer) -> None:
    path = "/api/worker/activity-tasks/t1/fail"
    server.on("POST", path, {"outcome": "failed"})
    await client.fail_activity_task(
        task_id="t1",
        activity_attempt_id="a1",
        lease_owner="w",
        message="boom",
        failure_type="ValueError",
        stack_trace="Traceback...",
        details={"k": 1},
        codec="json",
    )
    (body,) = server.bodies(path)
    assert body == {
        "activity_attempt_id": "a1",
        "lease_owner": "w",
        "failure": {
            "message": "boom",
            "type": "ValueError",
            "stack_trace": "Traceback...",
            "non_retryable": False,
            "details": {"codec": "json", "blob": '{"k":1}'},
        },
    }


async def test_heartbeat_activity_task_returns_the_server_dict(
    client: Client, server: FakeServer
) -> None:
    path = "/api/worker/activity-tasks/t1/heartbeat"
    server.on("POST", path, {"cancel_requested": True, "can_continue": False})
    answer = await client.heartbeat_activity_task(
        task_id="t1", activity_attempt_id="a1", lease_owner="w", details={"step": 2}
    )
    assert answer["cancel_requested"] is True
    assert server.bodies(path) == [
        {"activity_attempt_id": "a1", "lease_owner": "w", "details": {"step": 2}}
    ]


async def test_describe_workflow_decodes_envelopes(client: Client, server: FakeServer) -> None:
    server.on(
        "GET",
        "/api/workflows/wf-1",
        {
            "workflow_id": "wf-1",
            "run_id": "r2",
            "workflow_type": "greeter",
            "status": "completed",
            "namespace": "default",
            "task_queue": "q",
            "payload_codec": "avro",
            "input": ["server-decoded"],
            "output": "server-decoded",
            "input_envelope": serializer.envelope(["Ada"]),
            "output_envelope": serializer.envelope("hello Ada"),
        },
    )
    execution = await client.describe_workflow("wf-1")
    assert execution == WorkflowExecution(
        workflow_id="wf-1",
        run_id="r2",
        workflow_type="greeter",
        status="completed",
        namespace="default",
        task_queue="q",
        input=["Ada"],
        output="hello Ada",
        payload_codec="avro",
    )


async def test_runs_and_run_description(client: Client, server: FakeServer) -> None:
    server.on(
        "GET",
        "/api/workflows/wf-1/runs",
        {
            "workflow_id": "wf-1",
            "run_count": 2,
            "runs": [
                {"run_id": "r1", "run_number": 1, "status": "completed"},
                {"run_id": "r2", "run_number": 2, "status": "waiting"},
            ],
        },
    )
    server.on(
        "GET",
        "/api/workflows/wf-1/runs/r2",
        {
            "workflow_id": "wf-1",
            "run_id": "r2",
            "run_number": 2,
            "memo": [],
            "actions": {"can_signal": True},
        },
    )
    runs = await client.list_workflow_runs("wf-1")
    assert runs.run_count == 2
    assert [(r.workflow_id, r.run_id, r.run_number) for r in runs.runs] == [
        ("wf-1", "r1", 1),
        ("wf-1", "r2", 2),
    ]
    run = await client.get_workflow_handle("wf-1", run_id="r2").describe_run()
    assert isinstance(run, WorkflowRun)
    assert (run.run_number, run.memo, run.actions) == (2, None, {"can_signal": True})


async def test_handle_without_run_id_refuses_history() -> None:
    handle = WorkflowHandle(Client("http://dw.test"), "wf-1")
    with pytest.raises(ValueError):
        await handle.get_history()
    await handle.client.aclose()


async def test_get_history_is_the_raw_first_page(client: Client, server: FakeServer) -> None:
    page = {"workflow_id": "wf", "run_id": "r", "events": [{"sequence": 1}], "next_page_token": "x"}
    server.on("GET", "/api/workflows/wf/runs/r/history", page)
    assert await client.get_history("wf", "r") == page


async def test_cluster_info_must_be_an_object(client: Client, server: FakeServer) -> None:
    server.on("GET", "/api/cluster/info", ["not", "an", "object"])
    with pytest.raises(errors.ServerError) as caught:
        await client.get_cluster_info()
    assert caught.value.reason() == "invalid_cluster_info"


# -- get_result ----------------------------------------------------------------------


def history_route(pages: dict[str | None, dict[str, Any]]) -> Route:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("next_page_token")])

    return answer


def event(sequence: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {"sequence": sequence, "event_type": event_type, "payload": payload}


def run_view(run_id: str, status: str) -> dict[str, Any]:
    return {"workflow_id": "wf", "run_id": run_id, "status": status, "payload_codec": "avro"}


async def test_get_result_follows_every_history_page(client: Client, server: FakeServer) -> None:
    server.on("GET", "/api/workflows/wf", run_view("r1", "running"), run_view("r1", "completed"))
    filler = [event(i, "ActivityCompleted") for i in range(2, 102)]
    server.on(
        "GET",
        "/api/workflows/wf/runs/r1/history",
        history_route(
            {
                None: {"events": [event(1, "WorkflowStarted"), *filler], "next_page_token": "MTAx"},
                "MTAx": {
                    "events": [event(102, "WorkflowCompleted", output=serializer.encode("done"))],
                    "next_page_token": None,
                },
            }
        ),
    )
    result = await client.get_result(client.get_workflow_handle("wf"), poll_interval=0.01)
    assert result == "done"
    tokens = [
        r.url.params.get("next_page_token") for r in server.requests if "history" in r.url.path
    ]
    assert tokens == [None, "MTAx"]


async def test_get_result_follows_continue_as_new(client: Client, server: FakeServer) -> None:
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "completed"))
    server.on(
        "GET", "/api/workflows/wf/runs/r2", run_view("r2", "waiting"), run_view("r2", "completed")
    )
    server.on(
        "GET",
        "/api/workflows/wf/runs/r1/history",
        {"events": [event(5, "WorkflowContinuedAsNew", continued_to_run_id="r2")]},
    )
    server.on(
        "GET",
        "/api/workflows/wf/runs/r2/history",
        {
            "events": [
                event(
                    3,
                    "WorkflowCompleted",
                    output=serializer.encode({"n": 2}, "json"),
                    payload_codec="json",
                )
            ]
        },
    )
    handle = client.get_workflow_handle("wf", run_id="r1")
    assert await handle.result(poll_interval=0.01) == {"n": 2}


async def test_get_result_reads_an_offloaded_output_through_the_clients_driver(
    server: FakeServer, tmp_path: Path
) -> None:
    from durable_workflow.external_storage import (
        LocalFilesystemExternalStorage,
        external_storage_envelope,
    )

    store = LocalFilesystemExternalStorage(tmp_path)
    output = external_storage_envelope("big" * 100, external_storage=store, threshold_bytes=1)
    server.on("GET", "/api/workflows/wf", run_view("r1", "completed"))
    server.on(
        "GET",
        "/api/workflows/wf/runs/r1/history",
        {"events": [event(3, "WorkflowCompleted", output=output)]},
    )
    async with Client(
        "http://dw.test", transport=httpx.MockTransport(server), external_storage=store
    ) as client:
        assert await client.get_result(client.get_workflow_handle("wf")) == "big" * 100
    async with Client("http://dw.test", transport=httpx.MockTransport(server)) as bare:
        with pytest.raises(ValueError, match="stored externally at file:"):
            await bare.get_result(bare.get_workflow_handle("wf"))


@pytest.mark.parametrize(
    ("event_type", "payload", "expected", "text"),
    [
        (
            "WorkflowFailed",
            {"message": "kaput", "exception_class": "ValueError"},
            errors.WorkflowFailed,
            "kaput",
        ),
        (
            "WorkflowTerminated",
            {"message": "Workflow terminated: ops", "reason": "ops"},
            errors.WorkflowTerminated,
            "ops",
        ),
        (
            "WorkflowCancelled",
            {"message": "Workflow cancelled.", "reason": None},
            errors.WorkflowCancelled,
            "cancelled",
        ),
    ],
)
async def test_get_result_raises_for_unsuccessful_runs(
    client: Client,
    server: FakeServer,
    event_type: str,
    payload: dict[str, Any],
    expected: type[BaseException],
    text: str,
) -> None:
    server.on("GET", "/api/workflows/wf", run_view("r1", "failed"))
    server.on(
        "GET", "/api/workflows/wf/runs/r1/history", {"events": [event(4, event_type, **payload)]}
    )
    with pytest.raises(expected, match=text) as caught:
        await client.get_result(client.get_workflow_handle("wf"))
    if isinstance(caught.value, errors.WorkflowFailed):
        assert caught.value.exception_class == "ValueError"


async def test_get_result_times_out(client: Client, server: FakeServer) -> None:
    server.on("GET", "/api/workflows/wf", run_view("r1", "waiting"))
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "waiting"))
    server.on("GET", "/api/workflows/wf/runs/r1/history", {"events": [event(1, "WorkflowStarted")]})
    with pytest.raises(TimeoutError, match="waiting"):
        await client.get_result(client.get_workflow_handle("wf"), poll_interval=0.01, timeout=0.05)


def history_after(events: list[dict[str, Any]]) -> Route:
    """A history endpoint over ``events`` honouring the sequence page token (no holding)."""

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        after = int(base64.b64decode(token)) if token else 0
        return httpx.Response(200, json={"events": [e for e in events if e["sequence"] > after]})

    return answer


async def test_get_result_long_polls_from_the_last_event_seen(
    client: Client, server: FakeServer
) -> None:
    """After the history so far, the client asks the server to hold until a new event."""
    events = [event(1, "WorkflowStarted")]
    later = [
        event(2, "WorkflowTaskScheduled"),
        event(3, "WorkflowCompleted", output=serializer.encode("done")),
    ]
    read = history_after(events)

    def grow(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("wait_new_event") == "1":
            events.extend(later[: 1 if len(events) == 1 else 2])
        return read(request)

    server.on("GET", "/api/workflows/wf/runs/r1/history", grow)
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "completed"))
    handle = client.get_workflow_handle("wf", run_id="r1")
    assert await handle.result(poll_interval=3600, timeout=5) == "done"
    history = [r.url.params for r in server.requests if r.url.path.endswith("/history")]
    assert [(p.get("wait_new_event"), p.get("next_page_token")) for p in history] == [
        (None, None),
        ("1", base64.b64encode(b"1").decode()),
        ("1", base64.b64encode(b"2").decode()),
    ]
    # The run's codec (for the bare output blob) was asked for while the run was open.
    paths = [r.url.path for r in server.requests]
    assert paths.count("/api/workflows/wf/runs/r1") == 1
    assert paths.index("/api/workflows/wf/runs/r1") < len(paths) - 1


async def test_get_result_paces_a_server_that_does_not_hold_the_long_poll(
    client: Client, server: FakeServer
) -> None:
    """An empty answer that comes at once is followed by poll_interval of quiet."""
    events = [event(1, "WorkflowStarted")]
    read = history_after(events)
    times: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_running_loop().time())
        if len(times) == 4:
            events.append(event(2, "WorkflowCompleted", output=serializer.encode("late")))
        return read(request)

    server.on("GET", "/api/workflows/wf/runs/r1/history", answer)
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "running"))
    handle = client.get_workflow_handle("wf", run_id="r1")
    assert await handle.result(poll_interval=0.05, timeout=5) == "late"
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]
    assert len(gaps) == 2 and all(gap >= 0.04 for gap in gaps), gaps


async def test_get_result_falls_back_when_the_server_refuses_wait_new_event(
    client: Client, server: FakeServer
) -> None:
    events = [event(1, "WorkflowStarted")]
    read = history_after(events)
    refused: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("wait_new_event"):
            body = {"message": "invalid", "errors": {"wait_new_event": ["unknown field"]}}
            refused.append(request)
            return httpx.Response(422, json=body)
        if refused:
            events.append(event(2, "WorkflowCompleted", output=serializer.encode("plain")))
        return read(request)

    server.on("GET", "/api/workflows/wf/runs/r1/history", answer)
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "running"))
    handle = client.get_workflow_handle("wf", run_id="r1")
    assert await handle.result(poll_interval=0.01, timeout=5) == "plain"
    waits = [r.url.params.get("wait_new_event") for r in server.requests if "history" in str(r.url)]
    assert waits == [None, "1", None]


async def test_get_result_of_a_run_closed_without_a_terminal_event(
    client: Client, server: FakeServer
) -> None:
    """A run whose status is closed but whose history has no closing event (pruned)."""
    server.on("GET", "/api/workflows/wf/runs/r1/history", {"events": []})
    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "failed"))
    handle = client.get_workflow_handle("wf", run_id="r1")
    with pytest.raises(errors.WorkflowFailed, match="closed with status failed"):
        await handle.result(poll_interval=0.01, timeout=5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workflow_id": "has spaces"}, "workflow_id"),
        ({"workflow_id": "ok", "duplicate_policy": "use_existing"}, "duplicate_policy"),
        ({"workflow_id": "ok", "run_timeout_seconds": 0}, "run_timeout_seconds"),
    ],
)
async def test_invalid_arguments_are_rejected_locally_naming_the_field(
    client: Client, server: FakeServer, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.InvalidArgument, match=field) as caught:
        await client.start_workflow(workflow_type="t", task_queue="q", **kwargs)
    assert caught.value.errors is not None and field in caught.value.errors
    assert server.requests == []


async def test_result_waiters_past_the_held_long_poll_limit_read_without_holding(
    client: Client, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every long-poll slot held, another waiter reads once per poll interval while
    it queues for a slot, instead of queueing for a pooled connection behind held polls."""
    from durable_workflow.client import _result_wait

    monkeypatch.setattr(_result_wait, "HELD_LONG_POLLS", 1)
    held = asyncio.Event()
    release = asyncio.Event()
    waits: dict[str, list[str | None]] = {"r1": [], "r2": []}

    def history(run_id: str, output: str) -> Route:
        events = [event(1, "WorkflowStarted")]
        read = history_after(events)

        async def answer(request: httpx.Request) -> httpx.Response:
            waits[run_id].append(request.url.params.get("wait_new_event"))
            if run_id == "r1" and request.url.params.get("wait_new_event"):
                held.set()
                await release.wait()
                events.append(event(2, "WorkflowCompleted", output=serializer.encode(output)))
            if run_id == "r2" and len(waits["r2"]) == 3:
                events.append(event(2, "WorkflowCompleted", output=serializer.encode(output)))
            return read(request)

        return answer  # type: ignore[return-value]

    server.on("GET", "/api/workflows/wf1/runs/r1/history", history("r1", "one"))
    server.on("GET", "/api/workflows/wf2/runs/r2/history", history("r2", "two"))
    server.on("GET", "/api/workflows/wf1/runs/r1", run_view("r1", "completed"))
    server.on("GET", "/api/workflows/wf2/runs/r2", run_view("r2", "running"))
    first = asyncio.create_task(
        client.get_workflow_handle("wf1", run_id="r1").result(poll_interval=0.01, timeout=5)
    )
    await held.wait()
    second = client.get_workflow_handle("wf2", run_id="r2")
    assert await second.result(poll_interval=0.01, timeout=5) == "two"
    assert waits["r2"] == [None, None, None]
    release.set()
    assert await first == "one"


async def test_result_long_poll_slots_are_handed_over_in_order() -> None:
    from durable_workflow._transport._slots import Slots

    slots = Slots(1)
    assert await slots.take(0)
    order: list[str] = []

    async def wait(name: str) -> None:
        assert await slots.take(5)
        order.append(name)

    first = asyncio.ensure_future(wait("first"))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(wait("second"))
    await asyncio.sleep(0)
    assert not await slots.take(0.01)  # a third waiter gives up when none comes free
    slots.give()
    await first
    slots.give()
    await second
    assert order == ["first", "second"]
    slots.give()
    assert slots.free == 1 and not slots.queue


async def test_result_wait_timeout_words_come_from_the_callers_hook(
    client: Client, server: FakeServer
) -> None:
    from durable_workflow.client._result_wait import wait_for_result

    server.on("GET", "/api/workflows/wf/runs/r1", run_view("r1", "waiting"))
    server.on("GET", "/api/workflows/wf/runs/r1/history", {"events": [event(1, "WorkflowStarted")]})
    seen: list[tuple[str | None, str | None]] = []

    async def message(run_id: str | None, status: str | None) -> str:
        seen.append((run_id, status))
        return "custom words"

    with pytest.raises(TimeoutError, match="custom words"):
        await wait_for_result(
            client,
            "wf",
            "r1",
            poll_interval=0.01,
            timeout=0.05,
            resolve=lambda outcome, codec: None,
            timeout_message=message,
        )
    assert seen and seen[0][0] == "r1"
