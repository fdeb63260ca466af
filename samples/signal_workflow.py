"""Signals: deliver data to a running workflow; it waits for them durably.

A ``@workflow.signal`` handler changes workflow state; ``ctx.wait_condition``
blocks the run until a predicate over that state holds. Signals are recorded
in history, so a replay applies them again in the same order.
"""

from __future__ import annotations

from typing import Any

from _support import run, serving, unique

from durable_workflow import Client, Worker, workflow

TASK_QUEUE = "samples-signal"


@workflow.defn(name="guest-list")
class GuestListWorkflow:
    def __init__(self) -> None:
        self.guests: list[str] = []
        self.closed = False

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.closed)
        return sorted(self.guests)

    @workflow.signal("add-guest")
    def add_guest(self, name: str) -> None:
        self.guests.append(name)

    @workflow.signal("close")
    def close(self) -> None:
        self.closed = True


async def main(client: Client) -> None:
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[GuestListWorkflow])
    handle = await client.start_workflow(
        workflow_type="guest-list", task_queue=TASK_QUEUE, workflow_id=unique("party")
    )
    async with serving(worker):
        for name in ("Grace", "Ada", "Linus"):
            await handle.signal("add-guest", [name])
        await handle.signal("close")
        print(await handle.result(timeout=30))


if __name__ == "__main__":
    run(main)
