"""Cancellation: stop a running workflow; its activity learns of it on its next heartbeat.

``handle.cancel()`` closes the run on the server at once (open activities and
timers are cancelled with it). A running activity attempt finds out when it
next heartbeats: ``heartbeat()`` raises ``ActivityCancelled``, so it can clean
up. The caller's ``result()`` raises ``WorkflowCancelled``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _support import run, serving, unique

from durable_workflow import (
    ActivityCancelled,
    Client,
    Worker,
    WorkflowCancelled,
    activity,
    workflow,
)

TASK_QUEUE = "samples-cancel"
progress: list[str] = []


@activity.defn(name="transcode-video")
async def transcode_video(video: str) -> str:
    ctx = activity.context()
    try:
        for segment in range(1, 1000):
            progress.append(f"segment {segment}")
            await ctx.heartbeat({"segment": segment})
            await asyncio.sleep(0.1)
    except ActivityCancelled:
        progress.append("cancelled: removed partial output")
        raise
    return f"{video}.mp4"


@workflow.defn(name="transcode")
class TranscodeWorkflow:
    def run(self, ctx: Any, video: str) -> Any:
        return (yield ctx.schedule_activity("transcode-video", [video], heartbeat_timeout=10))


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[TranscodeWorkflow], activities=[transcode_video]
    )
    handle = await client.start_workflow(
        workflow_type="transcode",
        task_queue=TASK_QUEUE,
        workflow_id=unique("transcode"),
        input=["holiday"],
    )
    async with serving(worker):
        while len(progress) < 3:  # let it work a little
            await asyncio.sleep(0.05)
        await handle.cancel(reason="user pressed stop")
        try:
            await handle.result(timeout=30)
        except WorkflowCancelled as cancelled:
            print("result:", type(cancelled).__name__, cancelled)
        while progress[-1].startswith("segment"):  # the activity's next heartbeat
            await asyncio.sleep(0.05)
    print("activity:", progress[-1])
    print("status:", (await handle.describe()).status)


if __name__ == "__main__":
    run(main)
