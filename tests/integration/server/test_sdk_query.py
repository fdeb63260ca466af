"""The project's Worker answers queries the dev server routes to it as query tasks."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from durable_workflow import Client, Worker, workflow
from durable_workflow.testing import async_dev_server


@workflow.defn(name="dev-server-queryable")
class Queryable:
    def __init__(self) -> None:
        self.stage = "new"

    def run(self, ctx: Any, name: str) -> Any:
        self.stage = f"sleeping for {name}"
        yield ctx.sleep(30)
        return "done"

    @workflow.query("stage")
    def current(self, suffix: str = "") -> str:
        return self.stage + suffix


async def test_sdk_worker_answers_a_query_through_the_dev_server() -> None:
    async with async_dev_server(poll_timeout=2.0) as server, Client(server.url) as client:
        worker = Worker(client, task_queue="q", workflows=[Queryable])
        handle = await client.start_workflow(
            workflow_type="dev-server-queryable",
            workflow_id=f"query-{uuid.uuid4().hex[:8]}",
            task_queue="q",
            input=["Ada"],
        )
        running = asyncio.create_task(worker.run())
        try:
            answer: dict[str, Any] = {}
            for _ in range(100):
                described = await client.describe_workflow(handle.workflow_id)
                if getattr(described, "status", None) == "waiting":
                    break
                await asyncio.sleep(0.05)
            answer = await client.query_workflow(handle.workflow_id, "stage", args=["!"])
            assert answer["result"] == "sleeping for Ada!"
        finally:
            await worker.stop()
            await asyncio.wait_for(running, 10)
