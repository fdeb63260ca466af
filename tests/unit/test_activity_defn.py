"""Activity registry and per-attempt context binding."""

from __future__ import annotations

import asyncio
import contextvars
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from durable_workflow import activity
from durable_workflow.client import Client
from durable_workflow.errors import ActivityCancelled


def make_info(attempt: int = 1, activity_type: str = "greet") -> activity.ActivityInfo:
    return activity.ActivityInfo(
        task_id=f"task-{attempt}",
        activity_type=activity_type,
        activity_attempt_id=f"att-{attempt}",
        attempt_number=attempt,
        task_queue="q",
        worker_id="w1",
    )


def test_defn_registers_sync_and_async_callables() -> None:
    @activity.defn(name="tests.sync-greet")
    def greet(name: str) -> str:
        return f"hello {name}"

    @activity.defn(name="tests.async-greet")
    async def agreet(name: str) -> str:
        return f"hi {name}"

    reg = activity.registry()
    assert reg["tests.sync-greet"] is greet
    assert reg["tests.async-greet"] is agreet
    assert greet.__activity_name__ == "tests.sync-greet"  # type: ignore[attr-defined]
    assert greet("Ada") == "hello Ada"
    reg.clear()
    assert "tests.sync-greet" in activity.registry()


def test_defn_requires_a_name() -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        activity.defn(name=" ")


def test_context_outside_activity_raises() -> None:
    with pytest.raises(RuntimeError, match="outside of an activity"):
        activity.context()


def test_info_is_frozen() -> None:
    info = make_info()
    with pytest.raises(AttributeError):
        info.attempt_number = 2  # type: ignore[misc]


async def test_async_activities_see_their_own_context_concurrently() -> None:
    async def body() -> str:
        await asyncio.sleep(0)
        return activity.context().info.activity_attempt_id

    async def run(attempt: int) -> str:
        with activity._activity_scope(activity.ActivityContext(make_info(attempt))):
            return await body()

    assert await asyncio.gather(run(1), run(2), run(3)) == ["att-1", "att-2", "att-3"]
    with pytest.raises(RuntimeError):
        activity.context()


async def test_sync_activities_in_thread_pool_see_their_context_and_can_heartbeat() -> None:
    loop = asyncio.get_running_loop()
    sent: list[Any] = []

    async def heartbeat(details: dict[str, Any] | None) -> dict[str, Any]:
        sent.append(details)
        return {"cancel_requested": False}

    def sync_activity() -> str:
        ctx = activity.context()
        ctx.heartbeat_sync({"pct": 50})
        return ctx.info.activity_attempt_id

    def run_in_scope(ctx: activity.ActivityContext) -> str:
        with activity._activity_scope(ctx):
            return sync_activity()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            loop.run_in_executor(
                pool,
                contextvars.copy_context().run,
                run_in_scope,
                activity.ActivityContext(make_info(n), heartbeat=heartbeat, loop=loop),
            )
            for n in (1, 2)
        ]
        assert await asyncio.gather(*futures) == ["att-1", "att-2"]
    assert sent == [{"pct": 50}, {"pct": 50}]


async def test_heartbeat_raises_cancelled_when_server_requests_it() -> None:
    async def heartbeat(details: dict[str, Any] | None) -> dict[str, Any]:
        return {"cancel_requested": True}

    ctx = activity.ActivityContext(make_info(), heartbeat=heartbeat)
    assert not ctx.is_cancelled
    with pytest.raises(ActivityCancelled):
        await ctx.heartbeat()
    assert ctx.is_cancelled


async def test_heartbeat_passes_details_and_keeps_running_when_not_cancelled() -> None:
    seen: list[Any] = []

    async def heartbeat(details: dict[str, Any] | None) -> None:
        seen.append(details)

    ctx = activity.ActivityContext(make_info(), heartbeat=heartbeat)
    await ctx.heartbeat({"step": 1})
    await ctx.heartbeat()
    assert seen == [{"step": 1}, None]
    assert not ctx.is_cancelled


async def test_heartbeat_sync_on_the_loop_thread_is_refused() -> None:
    async def heartbeat(details: dict[str, Any] | None) -> None:
        return None

    ctx = activity.ActivityContext(
        make_info(), heartbeat=heartbeat, loop=asyncio.get_running_loop()
    )
    with pytest.raises(RuntimeError, match="use 'await heartbeat"):
        ctx.heartbeat_sync()


def test_heartbeat_without_channel_or_loop_is_a_clear_error() -> None:
    ctx = activity.ActivityContext(make_info())
    with pytest.raises(RuntimeError, match="no heartbeat channel"):
        asyncio.run(ctx.heartbeat())
    with pytest.raises(RuntimeError, match="event loop"):
        ctx.heartbeat_sync()


async def test_heartbeat_sync_raises_cancelled_in_the_activity_thread() -> None:
    loop = asyncio.get_running_loop()

    async def heartbeat(details: dict[str, Any] | None) -> dict[str, Any]:
        return {"cancel_requested": True}

    ctx = activity.ActivityContext(make_info(), heartbeat=heartbeat, loop=loop)

    def sync_activity() -> str:
        try:
            ctx.heartbeat_sync()
        except ActivityCancelled:
            return "cancelled"
        return "finished"

    assert await loop.run_in_executor(None, sync_activity) == "cancelled"
    assert ctx.is_cancelled


async def test_context_built_with_a_client_heartbeats_through_it() -> None:
    seen: list[dict[str, Any]] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append({"path": request.url.path, "body": json.loads(request.content)})
        return httpx.Response(200, json={"cancel_requested": len(seen) > 1})

    info = make_info()
    async with Client("http://dw.test", transport=httpx.MockTransport(server)) as client:
        ctx = activity.ActivityContext(info=info, client=client)
        await ctx.heartbeat({"step": 1})
        assert not ctx.is_cancelled
        with pytest.raises(ActivityCancelled):
            await ctx.heartbeat()
    assert ctx.is_cancelled
    assert seen[0]["path"] == f"/api/worker/activity-tasks/{info.task_id}/heartbeat"
    assert seen[0]["body"]["activity_attempt_id"] == info.activity_attempt_id
    assert seen[0]["body"]["lease_owner"] == info.worker_id
    assert seen[0]["body"]["details"] == {"step": 1}
