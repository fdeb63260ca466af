"""Workflow update tasks, query tasks, the sticky cache and interceptors on MockTransport."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, serializer, workflow
from durable_workflow.client import Client
from durable_workflow.interceptors import (
    PassthroughWorkerInterceptor,
    QueryTaskHandler,
    QueryTaskInterceptorContext,
    chain_activity,
)
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._activities import ActivityTaskRunner
from durable_workflow.worker._queries import QueryTaskRunner
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner
from durable_workflow.workflow._replay.sticky import WorkflowCache


class Recorder:
    """A worker-plane fake: records bodies by path; ``answers`` override by path suffix."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.answers: dict[str, httpx.Response] = {}

    def calls(self, suffix: str) -> list[Any]:
        return [body for path, body in self.requests if path.endswith(suffix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.url.path, body))
        for suffix, response in self.answers.items():
            if request.url.path.endswith(suffix):
                return response
        return httpx.Response(200, json={"outcome": "ok", "recorded": True})


def make_client(server: Recorder) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(server),
    )


@workflow.defn(name="unit-cart")
class Cart:
    def __init__(self) -> None:
        self.items: list[str] = []

    def run(self, ctx: Any, owner: str) -> Any:
        first = yield ctx.schedule_activity("unit-price", [owner])
        self.items.append(str(first))
        second = yield ctx.schedule_activity("unit-price", [first])
        self.items.append(str(second))
        return self.items

    @workflow.query("items")
    def list_items(self, prefix: str = "") -> list[str]:
        return [prefix + item for item in self.items]

    @workflow.update("add")
    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    @add.validator
    def check_add(self, item: str) -> None:
        if not item:
            raise ValueError("item must not be empty")


def event(number: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {"sequence": number, "event_type": event_type, "payload": payload}


def started() -> dict[str, Any]:
    return event(1, "WorkflowStarted", workflow_type="unit-cart")


def after_first_activity() -> list[dict[str, Any]]:
    ids = {"activity_type": "unit-price", "sequence": 2, "activity_execution_id": "ae-1"}
    return [
        started(),
        event(2, "ActivityScheduled", **ids),
        event(3, "ActivityCompleted", **ids, result=serializer.encode("ten"), payload_codec="avro"),
    ]


def wf_task(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    task = {
        "task_id": "wt-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_task_attempt": 1,
        "workflow_type": "unit-cart",
        "payload_codec": "avro",
        "arguments": serializer.envelope(["ada"]),
        "history_events": events,
        "next_history_page_token": None,
        "lease_owner": "w-1",
        "workflow_update_id": None,
    }
    task.update(overrides)
    return task


def runner(client: Client, cache: WorkflowCache | None = None, **kw: Any) -> WorkflowTaskRunner:
    return WorkflowTaskRunner(client, "q", {"unit-cart": Cart}, worker_id="w-1", cache=cache, **kw)


async def test_update_task_sends_only_complete_update() -> None:
    server = Recorder()
    events = [
        *after_first_activity(),
        event(
            5,
            "UpdateAccepted",
            update_id="u-1",
            update_name="add",
            arguments=serializer.encode(["pen"]),
        ),
    ]
    async with make_client(server) as client:
        await runner(client).handle(wf_task(events, workflow_update_id="u-1"))
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "complete_update"
    assert command["update_id"] == "u-1"
    assert serializer.decode_envelope(command["result"]) == 2  # "ten" replayed, then "pen"


async def test_update_validator_rejection_becomes_non_retryable_fail_update() -> None:
    server = Recorder()
    events = [
        started(),
        event(
            2,
            "UpdateAccepted",
            update_id="u-2",
            update_name="add",
            arguments=serializer.encode([""]),
        ),
    ]
    async with make_client(server) as client:
        await runner(client).handle(wf_task(events, workflow_update_id="u-2"))
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "fail_update"
    assert command["update_id"] == "u-2"
    assert "item must not be empty" in command["message"]
    assert command["non_retryable"] is True


async def test_sticky_cache_resumes_the_run_on_its_next_task() -> None:
    server = Recorder()
    cache = WorkflowCache(max_entries=4)
    first = [started()]
    async with make_client(server) as client:
        wf = runner(client, cache)
        await wf.handle(wf_task(first))
        assert "run-1" in cache
        await wf.handle(wf_task(after_first_activity(), workflow_task_attempt=1))
    assert (cache.stats.misses, cache.stats.hits) == (1, 1)
    completions = server.calls("/workflow-tasks/wt-1/complete")
    assert [c["commands"][0]["type"] for c in completions] == ["schedule_activity"] * 2
    # Same commands as an uncached replay would send.
    uncached = Recorder()
    async with make_client(uncached) as client:
        await runner(client).handle(wf_task(after_first_activity()))
    assert uncached.calls("/complete")[0]["commands"] == completions[1]["commands"]


async def test_rejected_completion_evicts_the_cached_instance() -> None:
    server = Recorder()
    server.answers["/complete"] = httpx.Response(409, json={"reason": "lease_expired"})
    cache = WorkflowCache(max_entries=4)
    async with make_client(server) as client:
        await runner(client, cache).handle(wf_task([started()]))
    assert "run-1" not in cache


async def test_no_cache_replays_in_full() -> None:
    server = Recorder()
    async with make_client(server) as client:
        await runner(client, None).handle(wf_task([started()]))
    assert server.calls("/complete")[0]["commands"][0]["type"] == "schedule_activity"


def query_task(query_name: str, args: list[Any] | None = None) -> dict[str, Any]:
    return {
        "query_task_id": "qt-1",
        "query_task_attempt": 1,
        "lease_owner": "w-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "unit-cart",
        "payload_codec": "avro",
        "workflow_arguments": serializer.envelope(["ada"]),
        "query_name": query_name,
        "query_arguments": serializer.envelope(args) if args is not None else None,
        "history_events": after_first_activity(),
    }


class QueryLog(PassthroughWorkerInterceptor):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskHandler
    ) -> str:
        self.log.append(f"{self.name}>{context.task['query_name']}")
        outcome = await next(context)
        self.log.append(f"{self.name}<{outcome}")
        return outcome


async def test_query_task_answered_from_replayed_state_through_interceptors() -> None:
    server = Recorder()
    log: list[str] = []
    async with make_client(server) as client:
        queries = QueryTaskRunner(
            client,
            {"unit-cart": Cart},
            worker_id="w-1",
            task_queue="q",
            interceptors=[QueryLog("a", log), QueryLog("b", log)],
        )
        await queries.handle(query_task("items", ["#"]))
    (body,) = server.calls("/query-tasks/qt-1/complete")
    assert body["result"] == ["#ten"]
    assert serializer.decode_envelope(body["result_envelope"]) == ["#ten"]
    assert log == ["a>items", "b>items", "b<completed", "a<completed"]


async def test_unknown_query_is_rejected_with_the_documented_reason() -> None:
    server = Recorder()
    async with make_client(server) as client:
        await QueryTaskRunner(client, {"unit-cart": Cart}).handle(query_task("nope"))
    (body,) = server.calls("/query-tasks/qt-1/fail")
    assert body["failure"]["reason"] == "rejected_unknown_query"


@activity.defn(name="unit-beat")
async def beat() -> str:
    await activity.context().heartbeat({"n": 1})
    return "not cancelled"


async def test_heartbeat_rejected_because_the_run_was_cancelled_cancels_the_activity() -> None:
    server = Recorder()
    server.answers["/heartbeat"] = httpx.Response(409, json={"reason": "run_cancelled"})
    task = {
        "task_id": "at-1",
        "activity_attempt_id": "aa-1",
        "lease_owner": "w-1",
        "activity_type": "unit-beat",
        "payload_codec": "avro",
        "arguments": None,
    }
    with ThreadPoolExecutor(1) as pool:
        async with make_client(server) as client:
            await ActivityTaskRunner(client, "q", "w-1", {"unit-beat": beat}, pool).handle(task)
    (body,) = server.calls("/activity-tasks/at-1/fail")
    assert body["failure"]["type"] == "ActivityCancelled"
    assert body["failure"]["non_retryable"] is True


async def test_activity_interceptors_can_rewrite_arguments() -> None:
    seen: list[tuple[Any, ...]] = []

    async def innermost(context: Any) -> Any:
        seen.append(context.args)
        return "result"

    class Upper(PassthroughWorkerInterceptor):
        async def execute_activity(self, context: Any, next: Any) -> Any:
            from dataclasses import replace

            return await next(replace(context, args=tuple(a.upper() for a in context.args)))

    from durable_workflow.interceptors import ActivityInterceptorContext

    call = chain_activity([Upper(), object()], innermost)
    result = await call(ActivityInterceptorContext("w", "q", {}, "t", ("x",)))
    assert (result, seen) == ("result", [("X",)])


def test_worker_refuses_an_object_that_is_not_an_interceptor() -> None:
    client = Client("http://dw.test", transport=httpx.MockTransport(Recorder()))
    with pytest.raises(TypeError, match="not a worker interceptor"):
        Worker(client, task_queue="q", interceptors=[object()], worker_id="w-bad-ic")
    worker = Worker(
        client, task_queue="q", interceptors=[PassthroughWorkerInterceptor()], worker_id="w-ic"
    )
    assert len(worker.interceptors) == 1
    assert worker.workflow_cache is not None
    no_cache = Worker(client, task_queue="q", max_cached_workflows=0, worker_id="w-nc")
    assert no_cache.workflow_cache is None


def test_errors_module_has_activity_cancelled() -> None:
    assert issubclass(errors.ActivityCancelled, BaseException)
