"""Search attributes and memo: label runs so operators can find and read them.

Search attributes are key/values the server keeps per run for finding it
(set at start, changed by the workflow with ``ctx.upsert_search_attributes``).
A memo is free-form data attached at start. ``describe_run()`` shows both.
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-search"


@activity.defn(name="ship")
def ship(order_id: str) -> str:
    return f"tracking-{order_id}"


@workflow.defn(name="fulfil-order")
class FulfilOrderWorkflow:
    def run(self, ctx: Any, order_id: str) -> Any:
        yield ctx.upsert_search_attributes({"OrderStatus": "shipping"})
        tracking = yield ctx.schedule_activity("ship", [order_id])
        yield ctx.upsert_search_attributes({"OrderStatus": "shipped", "Tracking": tracking})
        return tracking


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[FulfilOrderWorkflow], activities=[ship]
    )
    handle = await client.start_workflow(
        workflow_type="fulfil-order",
        task_queue=TASK_QUEUE,
        workflow_id=unique("order"),
        input=["A-42"],
        search_attributes={"CustomerTier": "gold", "OrderStatus": "new"},
        memo={"notes": "leave at the back door"},
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    run_info = await handle.describe_run()  # the run's view carries both
    print("search attributes:", dict(sorted((run_info.search_attributes or {}).items())))
    print("memo:", run_info.memo)


if __name__ == "__main__":
    run(main)
