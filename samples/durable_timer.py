"""Durable timers: the workflow sleeps on the server, not in the worker.

``yield ctx.sleep(seconds)`` records a timer; the worker is free meanwhile (it
could even restart) and the run resumes when the server fires it. ``ctx.now()``
is workflow time from history: the start, then each resolved step's time.
"""

from __future__ import annotations

import time
from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-timer"


@activity.defn(name="send-reminder")
def send_reminder(text: str) -> str:
    return f"reminder sent: {text}"


@workflow.defn(name="reminder")
class ReminderWorkflow:
    def run(self, ctx: Any, text: str, delay_seconds: int) -> Any:
        started = ctx.now()
        yield ctx.sleep(delay_seconds)
        sent = yield ctx.schedule_activity("send-reminder", [text])
        return {"result": sent, "started_at": started.isoformat()}


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[ReminderWorkflow], activities=[send_reminder]
    )
    handle = await client.start_workflow(
        workflow_type="reminder",
        task_queue=TASK_QUEUE,
        workflow_id=unique("reminder"),
        input=["stand up and stretch", 2],
    )
    began = time.monotonic()
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    result = await handle.result()
    print(result["result"])
    print(f"waited at least 2s: {time.monotonic() - began >= 2}")


if __name__ == "__main__":
    run(main)
