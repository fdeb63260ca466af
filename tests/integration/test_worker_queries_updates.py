"""Query tasks and updates answered by a worker, against the real dev server.

Updates need the dev server's ``workflow.update`` endpoint; a server without
it (501 ``not_implemented``) makes that test skip naming it. The worker side
of updates is also covered in tests/unit/worker/test_worker_tasks_more.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from generations import SpecCheck

from durable_workflow import activity, errors, workflow
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

QUEUE = "it-worker-queries"


@activity.defn(name="iq-price")
def price(item: str) -> int:
    return len(item) * 10


@workflow.defn(name="iq-cart")
class CartWorkflow:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.total = 0
        self.closed = False

    def run(self, ctx: Any, first: str) -> Any:
        self.total = yield ctx.schedule_activity("iq-price", [first])
        self.items.append(first)
        yield ctx.wait_condition(lambda: self.closed)
        return {"items": self.items, "total": self.total}

    @workflow.signal("close")
    def close(self) -> None:
        self.closed = True

    @workflow.query("summary")
    def summary(self, prefix: str = "") -> dict[str, Any]:
        return {"items": [prefix + i for i in self.items], "total": self.total}

    @workflow.update("add")
    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    @add.validator
    def check_add(self, item: str) -> None:
        if not item:
            raise ValueError("item must not be empty")


@pytest.fixture
async def server(gen_server: DevServerHandle) -> AsyncIterator[DevServerHandle]:
    """The dev server of each generation (generations.py)."""
    yield gen_server


@pytest.fixture
async def client(server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(server.url, token=server.token)) as c:
        yield c


async def running_cart(client: Client) -> tuple[Any, Worker, asyncio.Task[None]]:
    """A cart workflow that has priced its first item and now waits for 'close'."""
    handle = await client.start_workflow(
        workflow_type="iq-cart",
        task_queue=QUEUE,
        workflow_id=f"cart-{uuid.uuid4().hex[:10]}",
        input=["pen"],
    )
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[CartWorkflow],
        activities=[price],
        poll_timeout=10.0,
        shutdown_timeout=5.0,
    )
    task = asyncio.create_task(worker.run())
    for _ in range(200):
        history = await client.get_history(handle.workflow_id, handle.run_id)
        types = [e.get("event_type") for e in history.get("events", [])]
        if "ActivityCompleted" in types and types[-1] != "ActivityCompleted":
            break
        await asyncio.sleep(0.05)
    return handle, worker, task


async def test_query_is_answered_from_replayed_state(client: Client) -> None:
    handle, worker, task = await running_cart(client)
    try:
        answer = await client.query_workflow(handle.workflow_id, "summary", args=["#"])
        assert answer["result"] == {"items": ["#pen"], "total": 30}
        with pytest.raises(errors.QueryFailed, match="no query named") as caught:
            await client.query_workflow(handle.workflow_id, "no-such-query")
        assert caught.value.reason == "rejected_unknown_query"
        await client.signal_workflow(handle.workflow_id, "close")
        assert await client.get_result(handle, timeout=30) == {"items": ["pen"], "total": 30}
    finally:
        await worker.stop()
        await task


async def update_or_skip(client: Client, workflow_id: str, item: str) -> dict[str, Any]:
    try:
        return await client.update_workflow(
            workflow_id, "add", args=[item], wait_for="completed", wait_timeout_seconds=20
        )
    except errors.ServerError as exc:
        if exc.status == 501:
            pytest.skip(
                "dev server does not implement workflow.update yet "
                "(POST /api/workflows/{workflowId}/update/{updateName} answers 501)"
            )
        raise


async def test_update_applied_and_validator_rejection(
    client: Client, server: DevServerHandle
) -> None:
    handle, worker, task = await running_cart(client)
    try:
        done = await update_or_skip(client, handle.workflow_id, "ink")
        assert (done["update_status"], done["result"]) == ("completed", 2)
        if server.generation == 2:
            # A 2.x server asks the worker's validator before accepting (an update-
            # validation task); the refusal reaches the caller and nothing is recorded.
            with pytest.raises(errors.UpdateRejected, match="item must not be empty"):
                await update_or_skip(client, handle.workflow_id, "")
            types = [e.get("event_type") for e in (await handle.get_history())["events"]]
            assert types.count("UpdateAccepted") == 1
        else:
            # The validator rejects: the worker sends fail_update, the server answers 422.
            with pytest.raises(errors.ServerValidationFailed) as caught:
                await update_or_skip(client, handle.workflow_id, "")
            body = caught.value.body
            assert isinstance(body, dict)
            assert (body["update_status"], body["outcome"]) == ("failed", "update_failed")
            assert body["failure_message"] == "item must not be empty"
        answer = await client.query_workflow(handle.workflow_id, "summary")
        assert answer["result"]["items"] == ["pen", "ink"]
        await client.signal_workflow(handle.workflow_id, "close")
        result = await client.get_result(handle, timeout=30)
        assert result == {"items": ["pen", "ink"], "total": 30}
    finally:
        await worker.stop()
        await task
