"""Eager activity dispatch (the dev server's ``eager_activity_dispatch`` extension).

A workflow-task completion that asks for it receives the activity tasks it just
scheduled on the worker's queue, leased to that worker, so no activity poll is
needed. Generation 1 advertises it; generation 2 and any server without the
advertisement see the protocol's plain completion.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from dev_proxy import forward

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

QUEUE = "it-eager"
EXTENSION = "eager_activity_dispatch"


@activity.defn(name="eager-greet")
def eager_greet(name: str) -> str:
    return f"hello, {name}"


@workflow.defn(name="eager-greeter")
class EagerGreeter:
    def run(self, ctx: Any, name: str) -> Any:
        result = yield ctx.schedule_activity("eager-greet", [name])
        return result


class Exchanges:
    """What went over the wire through the proxy: completion bodies/answers, activity polls."""

    def __init__(self) -> None:
        self.completions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.activity_polls: list[dict[str, Any]] = []


def proxy_transport(
    upstream: httpx.AsyncClient,
    seen: Exchanges,
    edit_info: Callable[[dict[str, Any]], None] | None = None,
) -> httpx.MockTransport:
    async def proxy(request: httpx.Request) -> httpx.Response:
        answer = await forward(upstream, request)
        path = request.url.path
        decoded = ("content-encoding", "content-length")
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in decoded}
        if path.startswith("/api/worker/workflow-tasks/") and path.endswith("/complete"):
            seen.completions.append((json.loads(request.content), answer.json()))
        elif path == "/api/worker/activity-tasks/poll":
            seen.activity_polls.append(answer.json())
        elif path == "/api/cluster/info" and edit_info is not None:
            info = answer.json()
            edit_info(info)
            return httpx.Response(answer.status_code, json=info)
        return httpx.Response(answer.status_code, content=answer.content, headers=headers)

    return httpx.MockTransport(proxy)


async def run_one(client: Client, name: str) -> tuple[Any, Worker]:
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[EagerGreeter],
        activities=[eager_greet],
        poll_timeout=2.0,
    )
    handle = await client.start_workflow(
        workflow_type="eager-greeter",
        task_queue=QUEUE,
        workflow_id=f"eager-{uuid.uuid4().hex[:10]}",
        input=[name],
    )
    execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "completed"
    return await handle.result(timeout=10), worker


async def test_the_activity_comes_with_the_completion_where_advertised(
    gen_server: DevServerHandle,
) -> None:
    seen = Exchanges()
    async with httpx.AsyncClient(base_url=gen_server.url) as upstream:
        transport = proxy_transport(upstream, seen)
        async with Client("http://proxied", token=gen_server.token, transport=transport) as client:
            info = await client.get_cluster_info()
            result, worker = await run_one(client, "Ada")
    assert result == "hello, Ada"
    asked = [body.get("eager_activity_slots") for body, _ in seen.completions]
    delivered = [t for p in seen.activity_polls if (t := p.get("task")) is not None]
    if gen_server.generation == 1:
        assert EXTENSION in info["capabilities"]["extensions"]
        # The first completion schedules the activity and asks for one task; the
        # final one schedules nothing and asks for nothing.
        assert asked == [1, None], seen.completions
        eager = seen.completions[0][1]["eager_activity_tasks"]
        assert len(eager) == 1 and eager[0]["activity_type"] == "eager-greet"
        assert eager[0]["lease_owner"] == worker.worker_id
        assert "eager_activity_tasks" not in seen.completions[1][1]
        assert delivered == [] and worker.eager_activities is not None
        assert worker.eager_activities.dispatched == 1
    else:
        assert EXTENSION not in info["capabilities"].get("extensions", [])
        assert asked == [None, None] and worker.eager_activities is None
        assert not any("eager_activity_tasks" in answer for _, answer in seen.completions)
        assert len(delivered) == 1


async def test_nothing_changes_on_the_wire_without_the_advertisement(
    gen_server: DevServerHandle,
) -> None:
    """The same dev server behind a proxy that drops the eager extensions from cluster info."""

    def drop_extension(info: dict[str, Any]) -> None:
        extensions = info["capabilities"].get("extensions", [])
        eager = (EXTENSION, "eager_workflow_tasks")
        info["capabilities"]["extensions"] = [e for e in extensions if e not in eager]

    seen = Exchanges()
    async with httpx.AsyncClient(base_url=gen_server.url) as upstream:
        transport = proxy_transport(upstream, seen, drop_extension)
        async with Client("http://proxied", token=gen_server.token, transport=transport) as client:
            result, worker = await run_one(client, "Lin")
    assert result == "hello, Lin"
    assert worker.eager_activities is None
    assert seen.completions and all(
        set(body) == {"lease_owner", "workflow_task_attempt", "commands"}
        and "eager_activity_tasks" not in answer
        for body, answer in seen.completions
    ), seen.completions
    assert sum(1 for p in seen.activity_polls if p.get("task") is not None) == 1


async def history_types(client: Client, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    page = await client.get_history_page(workflow_id, run_id, page_size=1000)
    return [e for e in page.get("events", []) if isinstance(e, dict)]


async def test_an_eager_task_held_by_a_dead_worker_times_out_and_is_retried(
    gen_server: DevServerHandle,
) -> None:
    """A worker that received an eager task and died: the start-to-close timeout ends
    that attempt and the retry goes to whoever polls, as for a polled task."""
    async with Client(gen_server.url, token=gen_server.token) as client:
        handle = await client.start_workflow(
            workflow_type="eager-manual",
            task_queue=QUEUE,
            workflow_id=f"eager-dead-{uuid.uuid4().hex[:10]}",
            input=["Bo"],
        )
        await client.register_worker(
            worker_id="doomed", task_queue=QUEUE, supported_activity_types=["eager-greet"]
        )
        task = await client.poll_workflow_task(worker_id="doomed", task_queue=QUEUE, timeout=5)
        assert task is not None
        await client.server_profile()  # the payload framing of this server's generation
        argument = client.converter.encode(["Bo"], "activity_input")
        answer = await client.complete_workflow_task(
            task_id=task["task_id"],
            lease_owner=task["lease_owner"],
            workflow_task_attempt=task["workflow_task_attempt"],
            commands=[
                {
                    "type": "schedule_activity",
                    "activity_type": "eager-greet",
                    "queue": QUEUE,
                    "arguments": argument,
                    "start_to_close_timeout": 1,
                    "retry_policy": {"max_attempts": 2, "backoff_seconds": [0]},
                }
            ],
            eager_activity_slots=1,
        )
        if gen_server.generation == 2:
            # The generation-1 extension is ignored: the activity waits for a poll.
            assert "eager_activity_tasks" not in answer
            return
        (held,) = answer["eager_activity_tasks"]
        assert held["lease_owner"] == "doomed" and held["attempt_number"] == 1
        # "doomed" never runs it. A live worker polls and gets only the retry.
        worker = Worker(client, task_queue=QUEUE, activities=[eager_greet], poll_timeout=2.0)
        running = asyncio.create_task(worker.run())
        try:
            for _ in range(100):
                events = await history_types(client, handle.workflow_id, handle.run_id)
                if any(e["event_type"] == "ActivityCompleted" for e in events):
                    break
                await asyncio.sleep(0.1)
        finally:
            await worker.stop()
            await running
    kinds = [e["event_type"] for e in events]
    assert "ActivityRetryScheduled" in kinds and "ActivityCompleted" in kinds, kinds
    started = [e for e in events if e["event_type"] == "ActivityStarted"]
    assert [e["payload"]["attempt_number"] for e in started] == [1, 2], started
