"""Queries: read a running workflow's state without changing it.

A ``@workflow.query`` method answers from the workflow's current state, which
the worker rebuilds by replaying history. Queries are not recorded, so they
must not change state or yield commands.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _support import run, serving, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-query"


@activity.defn(name="download-chunk")
def download_chunk(number: int) -> int:
    return 1024 * number


@workflow.defn(name="download")
class DownloadWorkflow:
    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self.bytes = 0
        self.go = False

    def run(self, ctx: Any, chunks: int) -> Any:
        self.total = chunks
        for number in range(1, chunks + 1):
            self.bytes += yield ctx.schedule_activity("download-chunk", [number])
            self.done = number
        # Stay open until told to finish, so the sample can query the final state.
        yield ctx.wait_condition(lambda: self.go)
        return self.bytes

    @workflow.query("progress")
    def progress(self, unit: str = "bytes") -> dict[str, Any]:
        size = self.bytes if unit == "bytes" else self.bytes // 1024
        return {"chunks": f"{self.done}/{self.total}", unit: size}

    @workflow.signal("finish")
    def finish(self) -> None:
        self.go = True


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[DownloadWorkflow], activities=[download_chunk]
    )
    handle = await client.start_workflow(
        workflow_type="download", task_queue=TASK_QUEUE, workflow_id=unique("download"), input=[3]
    )
    async with serving(worker):
        answer = await handle.query("progress", ["KiB"])
        while answer["result"]["chunks"] != "3/3":
            await asyncio.sleep(0.1)
            answer = await handle.query("progress", ["KiB"])
        print("progress:", answer["result"])
        await handle.signal("finish")
        print("downloaded bytes:", await handle.result(timeout=30))


if __name__ == "__main__":
    run(main)
