"""Hello activity: a workflow calls one activity and returns its result.

The workflow is a generator: ``yield ctx.schedule_activity(...)`` hands the
server a command and resumes with the activity's result once a worker has run
it. Run: ``python samples/hello_activity.py`` (prints ``Hello, Ada!``).
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-hello"


@activity.defn(name="compose-greeting")
def compose_greeting(greeting: str, name: str) -> str:
    return f"{greeting}, {name}!"


@workflow.defn(name="hello-activity")
class HelloActivityWorkflow:
    def run(self, ctx: Any, name: str) -> Any:
        greeting = yield ctx.schedule_activity(
            "compose-greeting", ["Hello", name], start_to_close_timeout=10
        )
        return greeting


async def main(client: Client) -> None:
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[HelloActivityWorkflow],
        activities=[compose_greeting],
    )
    handle = await client.start_workflow(
        workflow_type="hello-activity",
        task_queue=TASK_QUEUE,
        workflow_id=unique("hello"),
        input=["Ada"],
    )
    # Serve tasks until this workflow closes, then stop the worker.
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    print(await handle.result())


if __name__ == "__main__":
    run(main)
