"""Newcomer mistakes against the real dev server: each one fails fast and its message names the fix.

A type no polling worker registered, a forgotten ``yield``, an activity the
worker does not have, and the same seen through the CLI's ``workflow start``
and ``workflow describe``.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from durable_workflow import Client, Worker, activity, errors, workflow
from durable_workflow.testing import DevServerHandle, async_dev_server

QUEUE = "it-diagnostics"
WORKER_ID = "diag-worker"


@activity.defn(name="diag-shout")
def shout(text: str) -> str:
    return text.upper()


@workflow.defn(name="diag-greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        result = yield ctx.schedule_activity("diag-greet", [name])
        return result


@workflow.defn(name="diag-patient-greeter")
class PatientGreeter:
    def run(self, ctx: Any, name: str) -> Any:
        retry = {"max_attempts": 5, "backoff_seconds": [120]}
        result = yield ctx.schedule_activity("diag-greet", [name], retry_policy=retry)
        return result


@workflow.defn(name="diag-no-yield")
class NoYield:
    def run(self, ctx: Any, name: str) -> Any:
        result = ctx.schedule_activity("diag-greet", [name])
        return result


@pytest.fixture
async def server() -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0) as handle:
        yield handle


@pytest.fixture
async def client(server: DevServerHandle) -> AsyncIterator[Client]:
    async with Client(server.url) as c:
        yield c


@pytest.fixture
async def running_worker(client: Client) -> AsyncIterator[Worker]:
    """A worker of QUEUE with three workflow types and one activity, polling in the background."""
    worker = Worker(
        client,
        task_queue=QUEUE,
        worker_id=WORKER_ID,
        workflows=[Greeter, PatientGreeter, NoYield],
        activities=[shout],
        poll_timeout=2.0,
        shutdown_timeout=2.0,
    )
    task = asyncio.create_task(worker.run())
    deadline = asyncio.get_running_loop().time() + 10
    while not (await client.list_workers(task_queue=QUEUE)).workers:
        assert asyncio.get_running_loop().time() < deadline, "worker never registered"
        await asyncio.sleep(0.05)
    yield worker
    await worker.stop()
    await task


def new_id() -> str:
    return f"diag-{uuid.uuid4().hex[:10]}"


REGISTERED = "'diag-greeter', 'diag-no-yield', 'diag-patient-greeter'"


async def test_starting_a_type_no_worker_registered_warns_and_the_timeout_says_why(
    client: Client, running_worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    workflow_id = new_id()
    with caplog.at_level(logging.WARNING, logger="durable_workflow.client"):
        handle = await client.start_workflow(
            workflow_type="diag-greeterr", task_queue=QUEUE, workflow_id=workflow_id, input=["x"]
        )
    assert [r.getMessage() for r in caplog.records if r.name == "durable_workflow.client"] == [
        f"no worker polling task queue {QUEUE!r} registers workflow type 'diag-greeterr' "
        f"(registered there: {REGISTERED}); the workflow waits until one does. Check "
        "workflow_type= against @workflow.defn(name=...) and the worker's task_queue="
    ]
    with pytest.raises(TimeoutError) as raised:
        await client.get_result(handle, timeout=1.0)
    assert str(raised.value) == (
        f"workflow {workflow_id} did not finish within 1s (last status: pending). Findings:\n"
        f"  - No worker polling task queue [{QUEUE}] registers workflow type [diag-greeterr] "
        "(registered there: diag-greeter, diag-no-yield, diag-patient-greeter)."
    )


async def test_a_registered_type_is_not_warned_about(
    client: Client, running_worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="durable_workflow.client"):
        await client.start_workflow(
            workflow_type="diag-no-yield", task_queue=QUEUE, workflow_id=new_id(), input=["x"]
        )
    assert [r for r in caplog.records if r.name == "durable_workflow.client"] == []


async def test_a_forgotten_yield_fails_the_run_with_the_hint(
    client: Client, running_worker: Worker
) -> None:
    handle = await client.start_workflow(
        workflow_type="diag-no-yield", task_queue=QUEUE, workflow_id=new_id(), input=["x"]
    )
    with pytest.raises(errors.WorkflowFailed) as raised:
        await client.get_result(handle, timeout=20)
    assert str(raised.value) == (
        "workflow returned schedule_activity('diag-greet') instead of yielding it: did you "
        "forget `yield`? Write `result = yield ctx.schedule_activity(...)` and return the result."
    )


UNKNOWN_ACTIVITY = (
    f"no activity registered for 'diag-greet'; worker {WORKER_ID}-bare on task queue "
    f"'{QUEUE}-bare' registers: none. Pass the function in Worker(activities=[...]) and check "
    "that @activity.defn(name=...) matches the name the workflow schedules."
)


@pytest.fixture
async def bare_worker(client: Client) -> AsyncIterator[Worker]:
    """A worker that registers no activities: it leases any activity task of its queue."""
    worker = Worker(
        client,
        task_queue=f"{QUEUE}-bare",
        worker_id=f"{WORKER_ID}-bare",
        workflows=[Greeter, PatientGreeter],
        poll_timeout=2.0,
        shutdown_timeout=2.0,
    )
    task = asyncio.create_task(worker.run())
    yield worker
    await worker.stop()
    await task


async def test_an_activity_no_polling_worker_registered_is_a_finding_of_the_timeout(
    client: Client, running_worker: Worker
) -> None:
    workflow_id = new_id()
    handle = await client.start_workflow(
        workflow_type="diag-greeter", task_queue=QUEUE, workflow_id=workflow_id, input=["x"]
    )
    deadline = asyncio.get_running_loop().time() + 20
    while (await client.describe_workflow(workflow_id)).status != "waiting":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    with pytest.raises(TimeoutError) as raised:
        await client.get_result(handle, timeout=0.5)
    assert str(raised.value) == (
        f"workflow {workflow_id} did not finish within 0.5s (last status: waiting). Findings:\n"
        f"  - No worker polling task queue [{QUEUE}] registers activity type [diag-greet] "
        "(registered there: diag-shout)."
    )


async def test_an_unknown_activity_fails_naming_the_type_and_the_registered_ones(
    client: Client, bare_worker: Worker
) -> None:
    handle = await client.start_workflow(
        workflow_type="diag-greeter", task_queue=f"{QUEUE}-bare", workflow_id=new_id(), input=["x"]
    )
    with pytest.raises(errors.WorkflowFailed) as raised:
        await client.get_result(handle, timeout=20)
    assert str(raised.value) == UNKNOWN_ACTIVITY


async def test_a_retrying_unknown_activity_is_a_finding_of_the_timeout(
    client: Client, bare_worker: Worker
) -> None:
    workflow_id = new_id()
    handle = await client.start_workflow(
        workflow_type="diag-patient-greeter",
        task_queue=f"{QUEUE}-bare",
        workflow_id=workflow_id,
        input=["x"],
    )
    deadline = asyncio.get_running_loop().time() + 20
    while True:  # until the first attempt failed and the retry waits
        view = await client.debug_workflow(workflow_id)
        if any(f["code"] == "activity_retrying" for f in view["findings"]):
            break
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.1)
    with pytest.raises(TimeoutError) as raised:
        await client.get_result(handle, timeout=0.5)
    assert str(raised.value) == (
        f"workflow {workflow_id} did not finish within 0.5s (last status: waiting). Findings:\n"
        "  - Activity [diag-greet] failed 1 attempt(s); last failure: " + UNKNOWN_ACTIVITY
    )


def _cli(server: DevServerHandle, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "durable_workflow.cli", *argv, "--server", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_cli_warns_at_start_and_describe_says_why_a_run_is_stuck(
    server: DevServerHandle, running_worker: Worker
) -> None:
    workflow_id = new_id()
    started = await asyncio.to_thread(
        _cli, server, "workflow", "start", "--type", "diag-greeterr", "--task-queue", QUEUE,
        "--workflow-id", workflow_id, "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert started.stderr == (
        f"warning: no worker polling task queue {QUEUE!r} registers workflow type "
        f"'diag-greeterr' (registered there: {REGISTERED}); the workflow waits until one does. "
        "Check workflow_type= against @workflow.defn(name=...) and the worker's task_queue=\n"
    )
    described = await asyncio.to_thread(_cli, server, "workflow", "describe", workflow_id)
    assert described.returncode == 0, described.stderr
    assert described.stderr == (
        f"warning: No worker polling task queue [{QUEUE}] registers workflow type "
        "[diag-greeterr] (registered there: diag-greeter, diag-no-yield, diag-patient-greeter).\n"
    )


async def test_describe_of_a_failed_run_prints_its_failure(
    client: Client, server: DevServerHandle, running_worker: Worker
) -> None:
    handle = await client.start_workflow(
        workflow_type="diag-no-yield", task_queue=QUEUE, workflow_id=new_id(), input=["x"]
    )
    with pytest.raises(errors.WorkflowFailed):
        await client.get_result(handle, timeout=20)
    described = await asyncio.to_thread(_cli, server, "workflow", "describe", handle.workflow_id)
    assert described.returncode == 0, described.stderr
    assert described.stderr == (
        "note: the run failed with WorkflowFailed: workflow returned "
        "schedule_activity('diag-greet') instead of yielding it: did you forget `yield`? Write "
        "`result = yield ctx.schedule_activity(...)` and return the result.\n"
    )


STUCK_WORKER = """
import asyncio, sys, time
from pathlib import Path
from durable_workflow import Client, Worker, activity, workflow

url, queue, marker = sys.argv[1:4]

@activity.defn(name="diag-slow")
def slow(value):
    Path(marker).write_text("started")
    time.sleep(600)
    return value

@workflow.defn(name="diag-slow-flow")
class SlowFlow:
    def run(self, ctx, value):
        retry = {"max_attempts": 3, "backoff_seconds": [0, 0]}
        return (yield ctx.schedule_activity("diag-slow", [value], retry_policy=retry))

async def main():
    async with Client(url) as client:
        await Worker(client, task_queue=queue, workflows=[SlowFlow], activities=[slow],
                     poll_timeout=2.0, shutdown_timeout=30.0).run()
    print("worker returned", flush=True)

asyncio.run(main())
"""


@activity.defn(name="diag-slow")
def fast(value: str) -> str:
    return f"{value} on attempt {activity.context().info.attempt_number}"


@workflow.defn(name="diag-slow-flow")
class SlowFlow:
    def run(self, ctx: Any, value: str) -> Any:
        retry = {"max_attempts": 3, "backoff_seconds": [0, 0]}
        return (yield ctx.schedule_activity("diag-slow", [value], retry_policy=retry))


@pytest.mark.timeout(90)
async def test_a_second_ctrl_c_exits_at_once_and_hands_the_activity_back(
    server: DevServerHandle, client: Client, tmp_path: Any
) -> None:
    import os
    import signal
    import time

    queue = f"{QUEUE}-ctrl-c"
    marker = tmp_path / "started"
    handle = await client.start_workflow(
        workflow_type="diag-slow-flow", task_queue=queue, workflow_id=new_id(), input=["x"]
    )
    child = subprocess.Popen(
        [sys.executable, "-c", STUCK_WORKER, server.url, queue, str(marker)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if marker.exists() or child.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert marker.exists(), child.communicate(timeout=5)
        child.send_signal(signal.SIGINT)
        await asyncio.sleep(0.5)
        child.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = await asyncio.to_thread(child.communicate, timeout=15)
        elapsed = time.monotonic() - started
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == 0, err
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert out == "worker returned\n"
    assert elapsed < 10, elapsed  # not the 600 s sleep of the abandoned activity
    assert "SIGINT received again: stopping worker" in err
    worker = Worker(client, task_queue=queue, workflows=[SlowFlow], activities=[fast])
    # The abandoned attempt was failed as retryable: attempt 2 runs now, not after the lease.
    execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=20)
    assert execution.status == "completed"
    assert await client.get_result(handle) == "x on attempt 2"
