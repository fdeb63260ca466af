"""The soak's worker process: one workflow type with one activity, polling until killed.

``SOAK_ACTIVITY_SLEEP`` makes each activity take that many seconds.

``python tests/soak/soak_worker.py URL`` -- the soak SIGKILLs and restarts it; work it
held is retried by the server once its lease expires.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

from durable_workflow import Client, Worker, activity, workflow

QUEUE = "soak"


# SOAK_ACTIVITY_SLEEP: seconds each activity takes (a worker killed while it sleeps
# leaves its activities leased until the lease expires).
SLEEP = float(os.environ.get("SOAK_ACTIVITY_SLEEP", "0"))


@activity.defn(name="soak-square")
def square(value: int) -> int:
    if SLEEP:
        time.sleep(SLEEP)
    return value * value


@workflow.defn(name="soak-workflow")
class Squaring:
    def run(self, ctx: Any, value: int) -> Any:
        result = yield ctx.schedule_activity("soak-square", [value])
        return result + 1


async def main(url: str) -> None:
    async with Client(url) as client:
        worker = Worker(
            client, task_queue=QUEUE, workflows=[Squaring], activities=[square],
            max_concurrent_workflow_tasks=20, max_concurrent_activity_tasks=20,
        )  # fmt: skip
        await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
