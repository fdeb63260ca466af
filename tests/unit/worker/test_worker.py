"""Worker on httpx.MockTransport: start-up gate, registration, task handling, loop limits."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, serializer, workflow
from durable_workflow._generated import manifest
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._activities import ActivityTaskRunner
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail the test (never hang) after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not reached in {timeout}s"
        await asyncio.sleep(0.01)


def good_cluster_info() -> dict[str, Any]:
    return {
        "control_plane": {
            "version": manifest.CONTROL_PLANE_VERSION,
            "request_contract": {
                "schema": manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
                "version": manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
            },
        },
        "worker_protocol": {"version": manifest.WORKER_PROTOCOL_VERSION},
        "auth_composition_contract": manifest.AUTH_COMPOSITION_CONTRACT,
    }


class FakeServer:
    """Just enough of the worker plane to drive a Worker; records every request."""

    def __init__(self) -> None:
        self.cluster_info = good_cluster_info()
        self.requests: list[tuple[str, Any]] = []
        self.workflow_tasks: list[dict[str, Any]] = []
        self.activity_tasks: list[dict[str, Any]] = []
        self.answers: dict[str, Callable[[Any], httpx.Response]] = {}
        self.activity_polls = 0

    def calls(self, suffix: str) -> list[Any]:
        return [body for path, body in self.requests if path.endswith(suffix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else None
        self.requests.append((path, body))
        for suffix, answer in self.answers.items():
            if path.endswith(suffix):
                return answer(body)
        if path == "/api/cluster/info":
            return httpx.Response(200, json=self.cluster_info)
        if path == "/api/worker/register":
            return httpx.Response(201, json={"worker_id": body["worker_id"], "registered": True})
        if path == "/api/worker/workflow-tasks/poll":
            task = self.workflow_tasks.pop(0) if self.workflow_tasks else None
            return httpx.Response(200, json={"task": task})
        if path == "/api/worker/activity-tasks/poll":
            self.activity_polls += 1
            task = self.activity_tasks.pop(0) if self.activity_tasks else None
            return httpx.Response(200, json={"task": task})
        return httpx.Response(200, json={"outcome": "ok", "recorded": True})


def make_client(server: FakeServer) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(initial_backoff_seconds=0, jitter=False),
        transport=httpx.MockTransport(server),
    )


@activity.defn(name="unit-greet")
def greet(name: str) -> str:
    return f"hello, {name}"


@workflow.defn(name="unit-greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        result = yield ctx.schedule_activity("unit-greet", [name])
        return result


# -- construction ------------------------------------------------------------------------


def test_defaults_and_registration_names() -> None:
    worker = Worker(
        make_client(FakeServer()), task_queue="q", workflows=[Greeter], activities=[greet]
    )
    assert re.fullmatch(r"py-worker-[0-9a-f]{8}", worker.worker_id)
    assert list(worker.workflows) == ["unit-greeter"]
    assert list(worker.activities) == ["unit-greet"]
    assert worker.workflow_definition_fingerprints["unit-greeter"].startswith("sha256:")
    assert (worker.max_concurrent_workflow_tasks, worker.max_concurrent_activity_tasks) == (10, 10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"build_id": ""},
        {"max_concurrent_workflow_tasks": 0},
        {"max_concurrent_activity_tasks": 0},
        {"heartbeat_interval": 0},
    ],
)
def test_invalid_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Worker(make_client(FakeServer()), task_queue="q", **kwargs)


def test_same_worker_id_with_a_changed_definition_is_refused() -> None:
    client = make_client(FakeServer())

    @workflow.defn(name="unit-changing")
    class First:
        def run(self, ctx: Any) -> Any:
            return 1
            yield

    @workflow.defn(name="unit-changing")
    class Second:
        def run(self, ctx: Any) -> Any:
            return 2
            yield

    Worker(client, task_queue="q", workflows=[First], worker_id="unit-fixed-id")
    Worker(client, task_queue="q", workflows=[First], worker_id="unit-fixed-id")
    with pytest.raises(RuntimeError, match="different definition"):
        Worker(client, task_queue="q", workflows=[Second], worker_id="unit-fixed-id")


# -- start-up -------------------------------------------------------------------------------


async def test_incompatible_server_is_refused_before_registering() -> None:
    server = FakeServer()
    server.cluster_info["control_plane"]["version"] = "3"
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Greeter])
        with pytest.raises(errors.IncompatibleServerError, match=r"control_plane\.version"):
            await worker.run()
        with pytest.raises(RuntimeError):
            await worker.run_until(workflow_id="wf", timeout=1)
    assert server.calls("/api/worker/register") == []
    assert not any(path.startswith("/api/worker/") for path, _ in server.requests)


async def test_registration_payload() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        worker = Worker(
            client,
            task_queue="q",
            workflows=[Greeter],
            activities=[greet],
            build_id="b-1",
            max_concurrent_workflow_tasks=2,
            max_concurrent_activity_tasks=3,
        )
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.calls("/api/worker/register"))
        await worker.stop()
        await run
    (body,) = server.calls("/api/worker/register")
    assert body["worker_id"] == worker.worker_id
    assert body["task_queue"] == "q"
    assert body["runtime"] == "python"
    assert body["sdk_version"].startswith("durable-workflow-python/")
    assert body["build_id"] == "b-1"
    assert body["supported_workflow_types"] == ["unit-greeter"]
    assert body["supported_activity_types"] == ["unit-greet"]
    assert body["workflow_definition_fingerprints"] == worker.workflow_definition_fingerprints
    assert (body["max_concurrent_workflow_tasks"], body["max_concurrent_activity_tasks"]) == (2, 3)
    assert body["task_slots"] == {"workflow_available": 2, "activity_available": 3}
    assert body["process_metrics"]["process_id"] > 0
    assert "capabilities" not in body


# -- workflow tasks ---------------------------------------------------------------------------


def wf_task(**overrides: Any) -> dict[str, Any]:
    task = {
        "task_id": "wt-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_task_attempt": 1,
        "workflow_type": "unit-greeter",
        "payload_codec": "avro",
        "arguments": serializer.envelope(["Ada"]),
        "history_events": [
            {
                "sequence": 1,
                "event_type": "WorkflowStarted",
                "payload": {"workflow_type": "unit-greeter"},
            }
        ],
        "next_history_page_token": None,
        "lease_owner": "w-1",
        "workflow_update_id": None,
    }
    task.update(overrides)
    return task


async def run_workflow_task(
    server: FakeServer, task: dict[str, Any], workflows: dict[str, type]
) -> None:
    async with make_client(server) as client:
        await WorkflowTaskRunner(client, "q", workflows).handle(task)


async def test_first_workflow_task_schedules_the_activity() -> None:
    server = FakeServer()
    await run_workflow_task(server, wf_task(), {"unit-greeter": Greeter})
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    assert (body["lease_owner"], body["workflow_task_attempt"]) == ("w-1", 1)
    (command,) = body["commands"]
    assert command["type"] == "schedule_activity"
    assert command["activity_type"] == "unit-greet"
    assert command["queue"] == "q"
    assert serializer.decode_envelope(command["arguments"]) == ["Ada"]


async def test_workflow_task_reads_every_history_page_then_completes() -> None:
    server = FakeServer()
    rest = [
        {
            "sequence": 2,
            "event_type": "ActivityScheduled",
            "payload": {
                "activity_type": "unit-greet",
                "sequence": 2,
                "activity_execution_id": "ae-1",
            },
        },
        {
            "sequence": 3,
            "event_type": "ActivityCompleted",
            "payload": {
                "activity_type": "unit-greet",
                "sequence": 2,
                "activity_execution_id": "ae-1",
                "result": serializer.encode("hello, Ada"),
                "payload_codec": "avro",
            },
        },
    ]
    server.answers["/workflow-tasks/wt-1/history"] = lambda body: httpx.Response(
        200, json={"history_events": rest, "next_history_page_token": None}
    )
    await run_workflow_task(
        server, wf_task(next_history_page_token="MQ=="), {"unit-greeter": Greeter}
    )
    assert server.calls("/workflow-tasks/wt-1/history") == [
        {
            "lease_owner": "w-1",
            "workflow_task_attempt": 1,
            "next_history_page_token": "MQ==",
            "history_page_size": 1000,
        }
    ]
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "complete_workflow"
    assert serializer.decode_envelope(command["result"]) == "hello, Ada"


@pytest.mark.parametrize(
    ("task", "failure_type", "fragment"),
    [
        (wf_task(workflow_type="nobody"), "WorkflowTypeNotRegistered", "no workflow registered"),
        (
            wf_task(payload_codec="workflow-serializer-y"),
            "ValueError",
            "not supported",
        ),
        (wf_task(arguments={"codec": "avro", "blob": "!!not-base64!!"}), None, "start arguments"),
        (
            wf_task(
                history_events=[
                    {"sequence": 1, "event_type": "WorkflowStarted", "payload": {}},
                    {
                        "sequence": 2,
                        "event_type": "TimerScheduled",
                        "payload": {"sequence": 2, "delay_seconds": 5},
                    },
                ]
            ),
            "NonDeterministicReplayError",
            "replay of workflow wf-1 failed",
        ),
    ],
)
async def test_unprocessable_workflow_tasks_fail_the_task(
    task: dict[str, Any], failure_type: str | None, fragment: str
) -> None:
    server = FakeServer()
    await run_workflow_task(server, task, {"unit-greeter": Greeter})
    assert server.calls("/complete") == []
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    assert (body["lease_owner"], body["workflow_task_attempt"]) == ("w-1", 1)
    assert fragment in body["failure"]["message"]
    if failure_type:
        assert body["failure"]["type"] == failure_type


async def test_ownership_rejection_of_a_completion_is_not_reported_back() -> None:
    server = FakeServer()
    server.answers["/workflow-tasks/wt-1/complete"] = lambda body: httpx.Response(
        409, json={"reason": "lease_expired", "recorded": False}
    )
    await run_workflow_task(server, wf_task(), {"unit-greeter": Greeter})
    assert len(server.calls("/workflow-tasks/wt-1/complete")) == 1
    assert server.calls("/fail") == []


async def test_definite_rejection_of_a_completion_fails_the_task() -> None:
    server = FakeServer()
    server.answers["/workflow-tasks/wt-1/complete"] = lambda body: httpx.Response(
        409, json={"reason": "invalid_commands", "recorded": False}
    )
    await run_workflow_task(server, wf_task(), {"unit-greeter": Greeter})
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    assert "rejected" in body["failure"]["message"]


async def test_transient_completion_errors_are_retried() -> None:
    server = FakeServer()
    answers = [httpx.Response(503), httpx.Response(200, json={"recorded": True})]
    server.answers["/workflow-tasks/wt-1/complete"] = lambda body: answers.pop(0)
    await run_workflow_task(server, wf_task(), {"unit-greeter": Greeter})
    assert len(server.calls("/workflow-tasks/wt-1/complete")) == 2
    assert server.calls("/fail") == []


# -- activity tasks -------------------------------------------------------------------------


def act_task(activity_type: str, args: list[Any], codec: str = "avro") -> dict[str, Any]:
    return {
        "task_id": "at-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "activity_execution_id": "ae-1",
        "activity_attempt_id": "AT1",
        "attempt_number": 1,
        "activity_type": activity_type,
        "payload_codec": codec,
        "arguments": serializer.envelope(args, codec),
        "task_queue": "q",
        "lease_owner": "w-1",
    }


async def run_activity_task(
    server: FakeServer, task: dict[str, Any], fns: dict[str, Callable[..., Any]]
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        async with make_client(server) as client:
            await ActivityTaskRunner(client, "q", "w-1", fns, pool).handle(task)


async def test_sync_activity_runs_off_the_loop_with_its_context() -> None:
    server = FakeServer()
    seen: dict[str, Any] = {}
    loop_thread = threading.get_ident()

    def sync_fn(a: int, b: int) -> int:
        seen["thread"] = threading.get_ident()
        seen["info"] = activity.context().info
        return a + b

    await run_activity_task(server, act_task("add", [2, 3], codec="json"), {"add": sync_fn})
    assert seen["thread"] != loop_thread
    assert (seen["info"].activity_attempt_id, seen["info"].worker_id) == ("AT1", "w-1")
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert body["result"] == {"codec": "json", "blob": "5"}
    assert (body["activity_attempt_id"], body["lease_owner"]) == ("AT1", "w-1")


async def test_async_activity_runs_on_the_loop_and_can_heartbeat() -> None:
    server = FakeServer()
    server.answers["/activity-tasks/at-1/heartbeat"] = lambda body: httpx.Response(
        200, json={"cancel_requested": False}
    )

    async def async_fn(name: str) -> str:
        await activity.context().heartbeat({"step": 1})
        return name.upper()

    await run_activity_task(server, act_task("shout", ["ada"]), {"shout": async_fn})
    assert server.calls("/activity-tasks/at-1/heartbeat") == [
        {"activity_attempt_id": "AT1", "lease_owner": "w-1", "details": {"step": 1}}
    ]
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert serializer.decode_envelope(body["result"]) == "ADA"


def _raises(exc: BaseException) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        raise exc

    return fn


@pytest.mark.parametrize(
    ("exc", "failure_type", "non_retryable"),
    [
        (ValueError("bad input"), "ValueError", False),
        (errors.NonRetryableError("give up"), "NonRetryableError", True),
        (errors.ActivityCancelled("stop"), "ActivityCancelled", True),
    ],
)
async def test_activity_failures_use_the_cross_language_shape(
    exc: BaseException, failure_type: str, non_retryable: bool
) -> None:
    server = FakeServer()
    await run_activity_task(server, act_task("boom", []), {"boom": _raises(exc)})
    assert server.calls("/complete") == []
    (body,) = server.calls("/activity-tasks/at-1/fail")
    failure = body["failure"]
    assert failure["message"] == str(exc)
    assert failure["type"] == failure_type
    assert failure["non_retryable"] is non_retryable
    assert "Traceback" in failure["stack_trace"]


async def test_unknown_activity_type_fails_the_attempt() -> None:
    server = FakeServer()
    await run_activity_task(server, act_task("missing", []), {})
    (body,) = server.calls("/activity-tasks/at-1/fail")
    assert "no activity registered" in body["failure"]["message"]


async def test_an_unencodable_result_fails_the_attempt_for_good() -> None:
    server = FakeServer()
    await run_activity_task(server, act_task("odd", []), {"odd": lambda: object()})
    assert server.calls("/complete") == []
    (body,) = server.calls("/activity-tasks/at-1/fail")
    assert body["failure"]["non_retryable"] is True
    assert "could not be encoded" in body["failure"]["message"]


# -- loops ----------------------------------------------------------------------------------


async def test_activity_concurrency_is_bounded_by_the_semaphore() -> None:
    server = FakeServer()
    server.activity_tasks = [act_task("slow", []) | {"task_id": f"at-{i}"} for i in range(3)]
    running = 0
    peak = 0
    release = asyncio.Event()

    async def slow() -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return "ok"

    async with make_client(server) as client:
        worker = Worker(
            client,
            task_queue="q",
            activities=[activity.defn(name="slow")(slow)],
            max_concurrent_activity_tasks=1,
            poll_timeout=1.0,
        )
        run = asyncio.create_task(worker.run())
        await eventually(lambda: running > 0)
        polls_while_busy = server.activity_polls
        await asyncio.sleep(0.1)
        assert server.activity_polls == polls_while_busy  # no lease without a free slot
        release.set()
        await eventually(lambda: len(server.calls("/complete")) >= 3)
        await worker.stop()
        await run
    assert peak == 1


async def test_failing_polls_back_off_instead_of_spinning() -> None:
    server = FakeServer()
    server.answers["/workflow-tasks/poll"] = lambda body: httpx.Response(500, json={})
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Greeter])
        run = asyncio.create_task(worker.run())
        await asyncio.sleep(0.6)
        await worker.stop()
        await run
    # Each failed poll costs 3 transport attempts; backoff keeps the count small.
    assert 0 < len(server.calls("/workflow-tasks/poll")) <= 3 * 6


async def test_unauthorized_polling_stops_the_worker() -> None:
    server = FakeServer()
    server.answers["/activity-tasks/poll"] = lambda body: httpx.Response(
        401, json={"message": "nope"}
    )
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", activities=[greet])
        with pytest.raises(errors.Unauthorized):
            await asyncio.wait_for(worker.run(), timeout=5)


async def test_worker_not_registered_triggers_re_registration() -> None:
    server = FakeServer()
    answers = [httpx.Response(412, json={"reason": "worker_not_registered"})]
    server.answers["/activity-tasks/poll"] = lambda body: (
        answers.pop(0) if answers else httpx.Response(200, json={"task": None})
    )
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", activities=[greet])
        run = asyncio.create_task(worker.run())
        await eventually(lambda: len(server.calls("/api/worker/register")) >= 2)
        await eventually(lambda: len(server.calls("/activity-tasks/poll")) >= 2)
        await worker.stop()
        await run
    first, again = server.calls("/api/worker/register")[:2]
    assert again["worker_id"] == first["worker_id"] == worker.worker_id
    assert again["supported_activity_types"] == ["unit-greet"]
    assert not run.cancelled() and run.exception() is None  # the worker kept polling


async def test_heartbeat_loop_reports_free_slots() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", activities=[greet], heartbeat_interval=0.05)
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.calls("/api/worker/heartbeat"))
        await worker.stop()
        await run
    body = server.calls("/api/worker/heartbeat")[0]
    assert body["worker_id"] == worker.worker_id
    assert body["task_slots"] == {"workflow_available": 10, "activity_available": 10}


async def test_run_until_drives_the_loops_and_returns_the_terminal_execution() -> None:
    server = FakeServer()
    describes = iter(["running", "running", "completed"])
    server.answers["/api/workflows/wf-1"] = lambda body: httpx.Response(
        200, json={"workflow_id": "wf-1", "run_id": "run-1", "status": next(describes, "completed")}
    )
    server.activity_tasks = [act_task("unit-greet", ["Ada"])]
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", activities=[greet])
        execution = await worker.run_until(workflow_id="wf-1", timeout=10, poll_interval=0.01)
    assert execution.status == "completed"
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert serializer.decode_envelope(body["result"]) == "hello, Ada"


async def test_run_until_times_out() -> None:
    server = FakeServer()
    server.answers["/api/workflows/wf-1"] = lambda body: httpx.Response(
        200, json={"workflow_id": "wf-1", "status": "waiting"}
    )
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", activities=[greet])
        with pytest.raises(TimeoutError, match="waiting"):
            await worker.run_until(workflow_id="wf-1", timeout=0.2, poll_interval=0.05)


# -- query tasks ----------------------------------------------------------------------------


@workflow.defn(name="unit-counter")
class Counter:
    def __init__(self) -> None:
        self.greeting = "not yet"

    def run(self, ctx: Any, name: str) -> Any:
        self.greeting = f"waiting for {name}"
        result = yield ctx.schedule_activity("unit-greet", [name])
        return result

    @workflow.query("greeting")
    def current(self, suffix: str = "") -> str:
        return self.greeting + suffix


def query_task(query_name: str, args: list[Any] | None) -> dict[str, Any]:
    return {
        "query_task_id": "QT1",
        "query_task_attempt": 1,
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "unit-counter",
        "query_name": query_name,
        "payload_codec": "avro",
        "workflow_arguments": serializer.envelope(["Ada"]),
        "query_arguments": (
            serializer.envelope(args) if args is not None else {"codec": None, "blob": None}
        ),
        "history_events": [{"sequence": 1, "event_type": "WorkflowStarted", "payload": {}}],
        "lease_owner": "w-1",
    }


async def test_query_poller_runs_only_when_advertised_and_answers_queries() -> None:
    server = FakeServer()
    server.cluster_info["worker_protocol"]["server_capabilities"] = {"query_tasks": True}
    tasks = [query_task("greeting", ["!"]), query_task("nope", None)]
    server.answers["/query-tasks/poll"] = lambda body: httpx.Response(
        200, json={"task": tasks.pop(0) if tasks else None}
    )
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Counter])
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.calls("/query-tasks/QT1/fail"))
        await worker.stop()
        await run
    assert server.calls("/api/worker/register")[0]["capabilities"] == ["query_tasks"]
    (done,) = server.calls("/query-tasks/QT1/complete")
    assert done["result"] == "waiting for Ada!"
    assert serializer.decode_envelope(done["result_envelope"]) == "waiting for Ada!"
    assert (done["lease_owner"], done["query_task_attempt"]) == ("w-1", 1)
    (failed,) = server.calls("/query-tasks/QT1/fail")
    assert failed["failure"]["reason"] == "rejected_unknown_query"


async def test_no_query_poller_without_the_capability() -> None:
    server = FakeServer()
    async with make_client(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Counter])
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.calls("/workflow-tasks/poll"))
        await asyncio.sleep(0.05)
        await worker.stop()
        await run
    assert server.calls("/query-tasks/poll") == []
    assert "capabilities" not in server.calls("/api/worker/register")[0]
