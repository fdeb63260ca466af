"""The rest of the 0.4.53 client API against both dev-server generations over real HTTP.

Cancel, terminate, history pages and export, search attributes, task queues, workers,
system passes and the sync client; every request to the 2.x profile is spec-checked
(generations.py). Lifecycles, workers, queries and updates have their own modules.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from generations import SpecCheck

from durable_workflow import activity, serializer, sync, workflow
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle, async_dev_server
from durable_workflow.worker import Worker
from durable_workflow.workflow import Replayer

QUEUE = "it-surface"


@activity.defn(name="surface-echo")
def echo(value: Any) -> Any:
    return value


@workflow.defn(name="surface-steps")
class Steps:
    def run(self, ctx: Any, count: int) -> Any:
        results = []
        for index in range(count):
            results.append((yield ctx.schedule_activity("surface-echo", [index])))
        return results


@workflow.defn(name="surface-waiting")
class Waiting:
    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: False)


@pytest.fixture
async def client(gen_server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(gen_server.url, token=gen_server.token)) as c:
        yield c


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_cancel_and_terminate_close_runs(client: Client) -> None:
    cancelled = await client.start_workflow(
        workflow_type="surface-waiting", task_queue="nobody", workflow_id=_id("cancel")
    )
    terminated = await client.start_workflow(
        workflow_type="surface-waiting", task_queue="nobody", workflow_id=_id("term")
    )
    await client.cancel_workflow(cancelled.workflow_id, reason="enough")
    await client.terminate_workflow(terminated.workflow_id, reason="stop")
    for handle in (cancelled, terminated):
        for _ in range(100):
            if (await client.describe_workflow(handle.workflow_id)).is_terminal:
                break
            await asyncio.sleep(0.05)
    assert (await client.describe_workflow(terminated.workflow_id)).status == "terminated"
    assert (await client.describe_workflow(cancelled.workflow_id)).is_terminal


async def test_a_run_with_many_events_pages_and_exports(client: Client) -> None:
    worker = Worker(
        client, task_queue=QUEUE, workflows=[Steps], activities=[echo], poll_timeout=5.0
    )
    handle = await client.start_workflow(
        workflow_type="surface-steps", task_queue=QUEUE, workflow_id=_id("pages"), input=[6]
    )
    execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=60)
    assert execution.status == "completed"
    assert await client.get_result(handle) == [0, 1, 2, 3, 4, 5]
    whole = await client.get_history(handle.workflow_id, handle.run_id)
    first = await client.get_history_page(handle.workflow_id, handle.run_id, page_size=4)
    assert len(first["events"]) <= 4
    paged = [e async for e in client.iter_history_events(handle.workflow_id, handle.run_id)]
    assert [e["sequence"] for e in paged] == [e["sequence"] for e in whole["events"]]
    # The history replays (its payloads are the generation's framing; both are read).
    outcome = Replayer(workflows=[Steps]).replay(whole["events"])
    assert not any("NonDeterministic" in str(command) for command in outcome.commands)
    exported = await client.export_history(handle.workflow_id, handle.run_id)
    assert exported["workflow"]["instance_id"] == handle.workflow_id
    assert len(exported["history_events"]) == len(whole["events"])
    run = await client.describe_workflow_run(handle.workflow_id, handle.run_id)
    assert run.status == "completed" and run.output == [0, 1, 2, 3, 4, 5]
    listed = await client.list_workflows(workflow_type="surface-steps")
    assert handle.workflow_id in [w.workflow_id for w in listed.executions]
    queue = await client.describe_task_queue(QUEUE)
    assert queue.name == QUEUE
    assert QUEUE in [q.name for q in (await client.list_task_queues()).task_queues]


async def test_a_running_worker_is_listed_and_gone_once_it_stopped(client: Client) -> None:
    worker = Worker(client, task_queue=QUEUE, workflows=[Waiting], poll_timeout=2.0)
    run = asyncio.create_task(worker.run())

    async def listed() -> list[str]:
        return [w.worker_id for w in (await client.list_workers()).workers]

    for _ in range(100):
        if worker.worker_id in await listed():
            break
        await asyncio.sleep(0.05)
    described = await client.describe_worker(worker.worker_id)
    assert described.task_queue == QUEUE
    await worker.stop()
    await run
    # Deregistered at shutdown (2.x: the worker plane's DELETE /worker/registrations/{id}).
    assert worker.worker_id not in await listed()


async def test_search_attributes_and_system_passes(client: Client) -> None:
    name = "Surface" + uuid.uuid4().hex[:6]
    await client.create_search_attribute(name, "keyword")
    assert name in (await client.list_search_attributes()).custom_attributes
    await client.delete_search_attribute(name)
    assert name not in (await client.list_search_attributes()).custom_attributes
    assert isinstance(await client.health(), dict)
    assert isinstance(await client.ready(), dict)
    assert isinstance(await client.repair_status(), dict)
    assert isinstance(await client.retention_status(), dict)
    assert isinstance(await client.activity_timeout_status(), dict)


def test_the_sync_client_speaks_the_generation_too(gen_server: DevServerHandle) -> None:
    with sync.Client(gen_server.url, token=gen_server.token) as client:
        handle = client.start_workflow(
            workflow_type="surface-waiting",
            task_queue="nobody",
            workflow_id=_id("sync"),
            input=["text", {"k": [1, 2.5]}],
        )
        execution = client.describe_workflow(handle.workflow_id)
        profile = client.server_profile()
    assert profile.generation == gen_server.generation
    assert execution.input == ["text", {"k": [1, 2.5]}]
    framing = serializer.VALUE_FRAMING if gen_server.generation == 2 else serializer.WRAPPER_FRAMING
    assert profile.framing == framing


async def test_bytes_travel_natively_on_generation_2() -> None:
    spec = SpecCheck(2)
    async with (
        async_dev_server(poll_timeout=2.0, generation=2) as server,
        spec.attach(Client(server.url)) as client,
    ):
        handle = await client.start_workflow(
            workflow_type="surface-waiting",
            task_queue="nobody",
            workflow_id=_id("bytes"),
            input=[b"\x00raw", {"b": b"\xff"}],
        )
        execution = await client.describe_workflow(handle.workflow_id)
    spec.verify()
    assert execution.input == [b"\x00raw", {"b": b"\xff"}]
