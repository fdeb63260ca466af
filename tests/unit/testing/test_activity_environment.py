"""ActivityEnvironment: info populated, heartbeats captured, cancellation delivered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from durable_workflow import activity
from durable_workflow.errors import ActivityCancelled
from durable_workflow.testing import ActivityEnvironment


@activity.defn(name="ae-copy")
async def copy_files(count: int) -> dict[str, Any]:
    ctx = activity.context()
    for index in range(count):
        await ctx.heartbeat({"copied": index + 1})
    return {"info": ctx.info, "copied": count}


@activity.defn(name="ae-sync")
def sync_copy(count: int) -> int:
    ctx = activity.context()
    for index in range(count):
        ctx.heartbeat_sync({"copied": index + 1})
    return count


async def test_info_is_populated_and_heartbeats_are_captured() -> None:
    env = ActivityEnvironment(attempt_number=3, workflow_id="wf-1", run_id="run-1")
    result = await env.run(copy_files, 3)
    assert result["copied"] == 3
    info = result["info"]
    assert info is env.info
    assert (info.activity_type, info.attempt_number, info.workflow_id, info.run_id) == (
        "ae-copy",
        3,
        "wf-1",
        "run-1",
    )
    assert info.activity_id == "test-activity" and info.task_id and info.activity_attempt_id
    assert env.heartbeats == [{"copied": 1}, {"copied": 2}, {"copied": 3}]


def test_sync_activities_heartbeat_from_their_thread() -> None:
    env = ActivityEnvironment()
    assert env.run_sync(sync_copy, 2) == 2
    assert env.heartbeats == [{"copied": 1}, {"copied": 2}]


async def test_cancellation_reaches_the_activity_at_its_next_heartbeat() -> None:
    env = ActivityEnvironment()
    env.on_heartbeat = lambda details: env.cancel() if details == {"copied": 2} else None
    with pytest.raises(ActivityCancelled, match="ae-copy was cancelled"):
        await env.run(copy_files, 10)
    assert env.heartbeats == [{"copied": 1}, {"copied": 2}]


async def test_cancel_from_another_task_while_the_activity_waits() -> None:
    env = ActivityEnvironment()
    seen: list[bool] = []

    @activity.defn(name="ae-wait")
    async def wait_until_cancelled() -> str:
        ctx = activity.context()
        try:
            while True:
                await ctx.heartbeat()
                await asyncio.sleep(0.01)
        except ActivityCancelled:
            seen.append(ctx.is_cancelled)
            return "cleaned up"

    running = asyncio.create_task(env.run(wait_until_cancelled))
    await asyncio.sleep(0.05)
    env.cancel()
    assert await running == "cleaned up"
    assert seen == [True]
    assert len(env.heartbeats) >= 2
