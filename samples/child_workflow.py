"""Child workflows: a parent starts children and waits for their results.

A child is a workflow run of its own (own id, history, retries and timeouts)
whose result comes back to the parent like an activity's. Yielding a list of
commands runs them concurrently and resumes with the list of results.
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-child"


@activity.defn(name="pack-parcel")
def pack_parcel(order_id: str, item: str) -> str:
    return f"{order_id}/{item}"


@workflow.defn(name="ship-item")
class ShipItemWorkflow:
    def run(self, ctx: Any, order_id: str, item: str) -> Any:
        parcel = yield ctx.schedule_activity("pack-parcel", [order_id, item])
        return {"item": item, "parcel": parcel}


@workflow.defn(name="ship-order")
class ShipOrderWorkflow:
    def run(self, ctx: Any, order_id: str, items: list[str]) -> Any:
        shipments = yield [
            ctx.start_child_workflow("ship-item", [order_id, item], execution_timeout_seconds=60)
            for item in items
        ]
        return {"order": order_id, "parcels": [s["parcel"] for s in shipments]}


async def main(client: Client) -> None:
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[ShipOrderWorkflow, ShipItemWorkflow],
        activities=[pack_parcel],
    )
    handle = await client.start_workflow(
        workflow_type="ship-order",
        task_queue=TASK_QUEUE,
        workflow_id=unique("order"),
        input=["A-17", ["book", "lamp"]],
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    print(await handle.result())


if __name__ == "__main__":
    run(main)
