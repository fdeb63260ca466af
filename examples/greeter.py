"""Quickstart: one workflow, one activity, run end to end.

With DURABLE_WORKFLOW_SERVER_URL set, it talks to that server (token from
DURABLE_WORKFLOW_AUTH_TOKEN, namespace from DURABLE_WORKFLOW_NAMESPACE).
Without it, it starts the built-in development server (SQLite in a temporary
directory) and talks to it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import uuid

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="greet")
def greet(name: str) -> str:
    return f"hello, {name}"


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx, name):
        result = yield ctx.schedule_activity("greet", [name])
        return result


async def main(server_url: str) -> None:
    client = Client(
        server_url,
        token=os.environ.get("DURABLE_WORKFLOW_AUTH_TOKEN"),
        namespace=os.environ.get("DURABLE_WORKFLOW_NAMESPACE", "default"),
    )
    async with client:
        worker = Worker(
            client,
            task_queue="python-workers",
            workflows=[GreeterWorkflow],
            activities=[greet],
        )
        handle = await client.start_workflow(
            workflow_type="greeter",
            workflow_id=f"greet-{uuid.uuid4().hex[:12]}",
            task_queue="python-workers",
            input=["world"],
        )
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30.0)
        result = await client.get_result(handle)
        print(result)  # hello, world


if __name__ == "__main__":
    url = os.environ.get("DURABLE_WORKFLOW_SERVER_URL")
    if url:
        asyncio.run(main(url))
    else:
        from durable_workflow.testing import dev_server

        with dev_server() as server:
            asyncio.run(main(server.url))
