"""Worker activity behaviour against the real dev server over loopback HTTP.

Retries with a policy, non-retryable failures, heartbeats (details, timeout,
cancellation), concurrency limits, graceful stop, interceptors and metrics,
and a worker SIGKILLed mid-activity whose work another worker finishes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from generations import SpecCheck

from durable_workflow import activity, errors, workflow
from durable_workflow.client import Client
from durable_workflow.interceptors import (
    ActivityHandler,
    ActivityInterceptorContext,
    PassthroughWorkerInterceptor,
    WorkflowTaskHandler,
    WorkflowTaskInterceptorContext,
)
from durable_workflow.metrics import (
    CLIENT_REQUESTS,
    WORKER_POLLS,
    WORKER_TASKS,
    InMemoryMetrics,
)
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker
from durable_workflow.workflow import ActivityRetryPolicy

QUEUE = "it-worker-activities"

# Per-test bookkeeping shared with the activities (keyed by a token in their input).
ATTEMPTS: dict[str, list[int]] = {}
SEEN: dict[str, list[Any]] = {}
CONCURRENCY = {"now": 0, "max": 0}
CONCURRENCY_LOCK = threading.Lock()


@activity.defn(name="iw-flaky")
def flaky(token: str) -> str:
    number = activity.context().info.attempt_number
    ATTEMPTS.setdefault(token, []).append(number)
    if len(ATTEMPTS[token]) < 3:
        raise ConnectionError(f"attempt {number} failed")
    return f"ok after {len(ATTEMPTS[token])}"


@activity.defn(name="iw-fatal")
def fatal(token: str) -> str:
    ATTEMPTS.setdefault(token, []).append(activity.context().info.attempt_number)
    raise errors.NonRetryableError("bad input, do not retry")


@activity.defn(name="iw-progress")
async def progress(token: str) -> str:
    for step in range(3):
        await activity.context().heartbeat({"step": step, "token": token})
    return "done"


@activity.defn(name="iw-silent-first")
def silent_first(token: str) -> str:
    attempts = ATTEMPTS.setdefault(token, [])
    attempts.append(activity.context().info.attempt_number)
    if len(attempts) == 1:
        time.sleep(3.0)  # no heartbeat: the 1 s heartbeat timeout expires
        return "too late"
    return f"attempt {len(attempts)}"


@activity.defn(name="iw-until-cancelled")
async def until_cancelled(token: str) -> str:
    ctx = activity.context()
    SEEN.setdefault(token, []).append("started")
    try:
        for _ in range(200):
            await ctx.heartbeat({"alive": True})
            await asyncio.sleep(0.1)
    except errors.ActivityCancelled:
        SEEN[token].append(("cancelled", ctx.is_cancelled))
        raise
    return "never cancelled"


@activity.defn(name="iw-busy")
def busy(seconds: float) -> float:
    with CONCURRENCY_LOCK:
        CONCURRENCY["now"] += 1
        CONCURRENCY["max"] = max(CONCURRENCY["max"], CONCURRENCY["now"])
    try:
        time.sleep(seconds)
    finally:
        with CONCURRENCY_LOCK:
            CONCURRENCY["now"] -= 1
    return seconds


@activity.defn(name="iw-slow-mark")
def slow_mark(token: str, seconds: float) -> str:
    SEEN.setdefault(token, []).append("started")
    time.sleep(seconds)
    SEEN[token].append("finished")
    return "slow done"


@workflow.defn(name="iw-one")
class OneActivity:
    """Runs one activity (type, args, options from the input) and returns its result."""

    def run(self, ctx: Any, activity_type: str, args: list[Any], options: dict[str, Any]) -> Any:
        policy = options.pop("retry", None)
        retry = ActivityRetryPolicy(**policy) if policy else None
        result = yield ctx.schedule_activity(activity_type, args, retry_policy=retry, **options)
        return result


@workflow.defn(name="iw-fan")
class FanOut:
    def run(self, ctx: Any, count: int, seconds: float) -> Any:
        results = yield [ctx.schedule_activity("iw-busy", [seconds]) for _ in range(count)]
        return len(results)


ACTIVITIES = [flaky, fatal, progress, silent_first, until_cancelled, busy, slow_mark]


@pytest.fixture
async def server(gen_server: DevServerHandle) -> AsyncIterator[DevServerHandle]:
    """The dev server of each generation (generations.py)."""
    yield gen_server


@pytest.fixture
async def client(server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(server.url, token=server.token)) as c:
        yield c


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_worker(client: Client, **options: Any) -> Worker:
    options.setdefault("poll_timeout", 10.0)
    options.setdefault("shutdown_timeout", 5.0)
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[OneActivity, FanOut],
        activities=ACTIVITIES,
        **options,
    )


async def start_one(client: Client, activity_type: str, args: list[Any], **options: Any) -> Any:
    return await client.start_workflow(
        workflow_type="iw-one",
        task_queue=QUEUE,
        workflow_id=new_id(activity_type),
        input=[activity_type, args, options],
    )


async def event_types(client: Client, handle: Any) -> list[str]:
    history = await client.get_history(handle.workflow_id, handle.run_id)
    return [str(e.get("event_type") or e.get("type")) for e in history.get("events", [])]


async def events_of(client: Client, handle: Any, event_type: str) -> list[dict[str, Any]]:
    history = await client.get_history(handle.workflow_id, handle.run_id)
    return [
        e for e in history.get("events", []) if (e.get("event_type") or e.get("type")) == event_type
    ]


async def test_activity_retries_per_policy_and_succeeds_on_the_third_attempt(
    client: Client,
) -> None:
    token = new_id("flaky")
    handle = await start_one(
        client, "iw-flaky", [token], retry={"max_attempts": 3, "backoff_seconds": [0, 0]}
    )
    execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "completed"
    assert await client.get_result(handle) == "ok after 3"
    assert ATTEMPTS[token] == [1, 2, 3]


async def test_non_retryable_failure_is_not_retried(client: Client) -> None:
    token = new_id("fatal")
    handle = await start_one(
        client, "iw-fatal", [token], retry={"max_attempts": 5, "backoff_seconds": [0, 0, 0, 0]}
    )
    execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "failed"
    assert ATTEMPTS[token] == [1]
    with pytest.raises(errors.WorkflowFailed, match="bad input, do not retry"):
        await client.get_result(handle)


async def test_heartbeat_details_are_recorded(client: Client) -> None:
    token = new_id("progress")
    handle = await start_one(client, "iw-progress", [token], heartbeat_timeout=10)
    await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert await client.get_result(handle) == "done"
    beats = await events_of(client, handle, "ActivityHeartbeatRecorded")
    assert len(beats) == 3
    assert [b["payload"]["progress"]["details"]["step"] for b in beats] == [0, 1, 2]
    assert {b["payload"]["progress"]["details"]["token"] for b in beats} == {token}


async def test_heartbeat_timeout_leads_to_a_retry(client: Client) -> None:
    token = new_id("silent")
    handle = await start_one(
        client,
        "iw-silent-first",
        [token],
        heartbeat_timeout=1,
        start_to_close_timeout=30,
        retry={"max_attempts": 2, "backoff_seconds": [0]},
    )
    execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "completed"
    assert await client.get_result(handle) == "attempt 2"
    assert ATTEMPTS[token][:2] == [1, 2]
    assert "ActivityTimedOut" in await event_types(client, handle) or await events_of(
        client, handle, "ActivityRetryScheduled"
    )


async def test_workflow_cancel_reaches_a_heartbeating_activity(client: Client) -> None:
    token = new_id("cancel")
    handle = await start_one(client, "iw-until-cancelled", [token], heartbeat_timeout=10)
    worker = make_worker(client)
    running = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            if SEEN.get(token):
                break
            await asyncio.sleep(0.05)
        assert SEEN.get(token) == ["started"]
        await client.cancel_workflow(handle.workflow_id, reason="test")
        for _ in range(200):
            if len(SEEN[token]) > 1:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await running
    assert SEEN[token] == ["started", ("cancelled", True)]
    assert (await client.describe_workflow(handle.workflow_id)).status in {"cancelled", "canceled"}


async def test_activity_concurrency_limit_is_respected(client: Client) -> None:
    CONCURRENCY.update(now=0, max=0)
    handle = await client.start_workflow(
        workflow_type="iw-fan", task_queue=QUEUE, workflow_id=new_id("fan"), input=[6, 0.3]
    )
    worker = make_worker(client, max_concurrent_activity_tasks=2)
    execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=60)
    assert execution.status == "completed"
    assert await client.get_result(handle) == 6
    assert CONCURRENCY["max"] == 2


async def test_graceful_stop_waits_for_the_in_flight_activity(client: Client) -> None:
    token = new_id("graceful")
    handle = await start_one(client, "iw-slow-mark", [token, 1.0])
    worker = make_worker(client, shutdown_timeout=10.0)
    running = asyncio.create_task(worker.run())
    for _ in range(200):
        if SEEN.get(token):
            break
        await asyncio.sleep(0.05)
    assert SEEN.get(token) == ["started"]
    await worker.stop()
    await running
    assert SEEN[token] == ["started", "finished"]
    # The result reached the server before the worker went away.
    assert len(await events_of(client, handle, "ActivityCompleted")) == 1


class Recording(PassthroughWorkerInterceptor):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskHandler
    ) -> list[dict[str, Any]] | None:
        self.log.append(f"{self.name}>wf")
        commands = await next(context)
        self.log.append(f"{self.name}<wf")
        return commands

    async def execute_activity(
        self, context: ActivityInterceptorContext, next: ActivityHandler
    ) -> Any:
        self.log.append(f"{self.name}>act:{context.activity_type}:{list(context.args)}")
        result = await next(context)
        self.log.append(f"{self.name}<act")
        return result


async def test_interceptor_order_and_metrics(server: DevServerHandle) -> None:
    metrics = InMemoryMetrics()
    log: list[str] = []
    async with Client(server.url, token=server.token, metrics=metrics) as client:
        token = new_id("metrics")
        handle = await start_one(client, "iw-progress", [token], heartbeat_timeout=10)
        worker = make_worker(client, interceptors=[Recording("a", log), Recording("b", log)])
        execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "completed"
    # First in the list is the outermost.
    workflow_calls = [entry for entry in log if entry.endswith("wf")]
    assert workflow_calls == ["a>wf", "b>wf", "b<wf", "a<wf"] * 2
    activity_calls = [entry for entry in log if "act" in entry]
    assert activity_calls == [
        f"a>act:iw-progress:['{token}']",
        f"b>act:iw-progress:['{token}']",
        "b<act",
        "a<act",
    ]
    base = {"task_queue": QUEUE}
    assert (
        metrics.counter_value(
            WORKER_TASKS, {**base, "task_kind": "activity", "outcome": "completed"}
        )
        == 1
    )
    assert (
        metrics.counter_value(
            WORKER_TASKS, {**base, "task_kind": "workflow", "outcome": "completed"}
        )
        == 2
    )
    # The dev server's generation 1 hands the activity over in the completion response
    # (eager dispatch); generation 2 has no such extension: the activity is polled.
    eager = 1 if server.generation == 1 else 0
    assert worker.eager_activities is None or worker.eager_activities.dispatched == eager
    assert (
        metrics.counter_value(WORKER_POLLS, {**base, "task_kind": "activity", "outcome": "task"})
        == 1 - eager
    )
    assert metrics.observations(
        "durable_workflow_worker_task_duration_seconds", {"task_kind": "activity"}
    )
    assert (
        metrics.counter_value(
            CLIENT_REQUESTS, {"route": "/workflows/{workflow_id}", "method": "POST"}
        )
        >= 0
    )
    assert (
        metrics.counter_value(
            CLIENT_REQUESTS,
            {"route": "/worker/activity-tasks/{task_id}/heartbeat", "outcome": "ok"},
        )
        == 3
    )


CHILD_WORKER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from durable_workflow import activity, workflow
    from durable_workflow.client import Client
    from durable_workflow.worker import Worker

    url, token, queue, marker = sys.argv[1:5]

    @activity.defn(name="iw-kill-me")
    def stuck(value):
        Path(marker).write_text("started")
        time.sleep(600)
        return value

    @workflow.defn(name="iw-killable")
    class Killable:
        def run(self, ctx, value):
            from durable_workflow.workflow import ActivityRetryPolicy
            result = yield ctx.schedule_activity(
                "iw-kill-me", [value], start_to_close_timeout=2,
                retry_policy=ActivityRetryPolicy(max_attempts=3, backoff_seconds=[0, 0]),
            )
            return result

    async def main():
        async with Client(url, token=token or None) as client:
            await Worker(client, task_queue=queue, workflows=[Killable],
                         activities=[stuck], poll_timeout=5.0).run()

    asyncio.run(main())
    """
)


@activity.defn(name="iw-kill-me")
def recovered(value: str) -> str:
    return f"recovered {value} on attempt {activity.context().info.attempt_number}"


@workflow.defn(name="iw-killable")
class Killable:
    def run(self, ctx: Any, value: str) -> Any:
        result = yield ctx.schedule_activity(
            "iw-kill-me",
            [value],
            start_to_close_timeout=2,
            retry_policy=ActivityRetryPolicy(max_attempts=3, backoff_seconds=[0, 0]),
        )
        return result


@pytest.mark.timeout(90)
async def test_worker_killed_mid_activity_is_recovered_by_another(
    server: DevServerHandle, client: Client, tmp_path: Path
) -> None:
    queue = new_id("kill-queue")
    marker = tmp_path / "started"
    handle = await client.start_workflow(
        workflow_type="iw-killable", task_queue=queue, workflow_id=new_id("kill"), input=["x"]
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_WORKER, server.url, server.token or "", queue, str(marker)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert marker.exists(), "the child worker never started the activity"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[Killable],
        activities=[recovered],
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )
    execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=60)
    assert execution.status == "completed"
    # Attempt 1 died with the child; a poll the child had in flight may have leased
    # attempt 2 to the dead process too. Either way a later attempt finished it once.
    result = await client.get_result(handle)
    assert result in {"recovered x on attempt 2", "recovered x on attempt 3"}
    assert len(await events_of(client, handle, "ActivityScheduled")) == 1
