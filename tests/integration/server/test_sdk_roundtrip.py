"""The project's own Client and Worker against the dev server over loopback HTTP.

Covers the commands a real worker sends: side effect, version marker, search
attributes, timer, a retried activity and continue-as-new.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow._generated import manifest
from durable_workflow.testing import async_dev_server

_calls: dict[str, int] = {"flaky": 0}


@activity.defn(name="dev-server-flaky")
def flaky(value: int) -> int:
    _calls["flaky"] += 1
    if _calls["flaky"] < 3:
        raise ValueError("not yet")
    return value * 2


@workflow.defn(name="dev-server-scenario")
class Scenario:
    def run(self, ctx: Any, value: int, rounds: int) -> Any:
        picked = yield ctx.side_effect(lambda: 5)
        version = yield ctx.get_version("change-1", 1, 2)
        yield ctx.upsert_search_attributes({"Stage": "one"})
        yield ctx.sleep(1)
        doubled = yield ctx.schedule_activity(
            "dev-server-flaky",
            [value],
            retry_policy={"max_attempts": 3, "backoff_seconds": [1, 1]},
        )
        if rounds > 0:
            return (yield ctx.continue_as_new(doubled, rounds - 1))
        return [doubled, picked, version]


async def test_sdk_worker_runs_a_multi_command_workflow_on_the_dev_server() -> None:
    _calls["flaky"] = 0
    async with async_dev_server(poll_timeout=5.0) as server, Client(server.url) as client:
        worker = Worker(client, task_queue="q", workflows=[Scenario], activities=[flaky])
        handle = await client.start_workflow(
            workflow_type="dev-server-scenario",
            workflow_id=f"scenario-{uuid.uuid4().hex[:8]}",
            task_queue="q",
            input=[3, 1],
        )
        await worker.run_until(workflow_id=handle.workflow_id, timeout=60.0)
        assert await client.get_result(handle) == [12, 5, 2]
        async with httpx.AsyncClient(base_url=server.url) as http:
            runs = await http.get(
                f"/api/workflows/{handle.workflow_id}/runs",
                headers={manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION},
            )
    assert _calls["flaky"] == 4  # two failures, then one success in each of the two runs
    assert [r["status"] for r in runs.json()["runs"]] == ["completed", "completed"]


@workflow.defn(name="dev-server-signalled")
class Signalled:
    def __init__(self) -> None:
        self.items: list[str] = []

    @workflow.signal("add")
    def add(self, item: str) -> None:
        self.items.append(item)

    def run(self, ctx: Any) -> Any:
        while len(self.items) < 2:
            yield ctx.sleep(1)
        return self.items


async def test_sdk_workflow_receives_signals_with_arguments() -> None:
    async with async_dev_server(poll_timeout=5.0) as server, Client(server.url) as client:
        worker = Worker(client, task_queue="q", workflows=[Signalled])
        handle = await client.start_workflow(
            workflow_type="dev-server-signalled",
            workflow_id="signalled-1",
            task_queue="q",
            input=[],
        )

        async def send() -> None:
            async with httpx.AsyncClient(base_url=server.url) as http:
                for item in ("a", "b"):
                    response = await http.post(
                        "/api/workflows/signalled-1/signal/add",
                        json={"input": [item]},
                        headers={manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION},
                    )
                    assert response.status_code == 202

        sender = asyncio.create_task(send())
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30.0)
        await sender
        assert await client.get_result(handle) == ["a", "b"]


@workflow.defn(name="dev-server-waiting")
class Waiting:
    def __init__(self) -> None:
        self.items: list[str] = []

    @workflow.signal("add")
    def add(self, item: str) -> None:
        self.items.append(item)

    def run(self, ctx: Any) -> Any:
        satisfied = yield ctx.wait_condition(lambda: len(self.items) >= 2, timeout=30)
        timed_out = yield ctx.wait_condition(lambda: len(self.items) >= 5, timeout=1)
        return [satisfied, timed_out, self.items]


async def test_sdk_wait_condition_with_signals_and_timeout() -> None:
    async with async_dev_server(poll_timeout=5.0) as server, Client(server.url) as client:
        worker = Worker(client, task_queue="q", workflows=[Waiting])
        handle = await client.start_workflow(
            workflow_type="dev-server-waiting", workflow_id="waiting-1", task_queue="q", input=[]
        )

        async def send() -> None:
            async with httpx.AsyncClient(base_url=server.url) as http:
                for item in ("a", "b"):
                    await asyncio.sleep(0.3)
                    await http.post(
                        "/api/workflows/waiting-1/signal/add",
                        json={"input": [item]},
                        headers={manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION},
                    )

        sender = asyncio.create_task(send())
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30.0)
        await sender
        assert await client.get_result(handle) == [True, False, ["a", "b"]]
