"""Schedules: the server starts a workflow on a timetable (cron or interval).

A schedule holds a spec (when) and an action (which workflow, on which queue,
with what input). Here it fires every second for two runs; ``trigger()``
starts one more run right now, whatever the spec says.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _support import run, serving, unique

from durable_workflow import (
    Client,
    ScheduleAction,
    ScheduleNotFound,
    ScheduleSpec,
    Worker,
    workflow,
)

TASK_QUEUE = "samples-schedule"


@workflow.defn(name="cleanup-report")
class CleanupReportWorkflow:
    def run(self, ctx: Any, bucket: str) -> Any:
        return f"cleaned {bucket}"


async def main(client: Client) -> None:
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[CleanupReportWorkflow])
    schedule = await client.create_schedule(
        schedule_id=unique("cleanup"),
        spec=ScheduleSpec(intervals=[{"every": "PT1S"}]),
        action=ScheduleAction("cleanup-report", task_queue=TASK_QUEUE, input=["tmp-files"]),
        max_runs=3,  # after three starts the server deletes the schedule
    )
    async with serving(worker):
        triggered = await schedule.trigger()  # one start right now, outside the spec
        now = client.get_workflow_handle(triggered.workflow_id, run_id=triggered.run_id)
        print("triggered run:", await now.result(timeout=30))
        while True:
            try:
                await schedule.describe()
            except ScheduleNotFound:
                break
            await asyncio.sleep(0.2)
        page = await schedule.history()
        started = [
            e.workflow_instance_id for e in page.events if e.event_type == "ScheduleTriggered"
        ]
        results = [await client.get_workflow_handle(w).result(timeout=30) for w in started]
    print(f"the schedule started {len(started)} runs, then was deleted: {results}")


if __name__ == "__main__":
    run(main)
