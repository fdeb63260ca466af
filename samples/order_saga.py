"""Order saga: each step that succeeded is undone when a later step fails.

The workflow keeps a list of compensations as it goes. When shipping fails
(non-retryable, so it fails at once), it runs the compensations in reverse
order and then fails the run with the original reason. Every step is an
activity, so a worker crash midway resumes the saga where it stopped.
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import (
    ActivityFailed,
    ActivityRetryPolicy,
    Client,
    NonRetryableError,
    Worker,
    WorkflowFailed,
    activity,
    workflow,
)

TASK_QUEUE = "samples-saga"
ledger: list[str] = []  # what the activities did, in order (the sample prints it)


@activity.defn(name="reserve-stock")
def reserve_stock(order: dict[str, Any]) -> str:
    ledger.append(f"reserved {order['item']}")
    return f"reservation-{order['id']}"


@activity.defn(name="release-stock")
def release_stock(reservation: str) -> None:
    ledger.append(f"released {reservation}")


@activity.defn(name="charge")
def charge(order: dict[str, Any]) -> str:
    ledger.append(f"charged {order['amount']}")
    return f"payment-{order['id']}"


@activity.defn(name="refund")
def refund(payment: str) -> None:
    ledger.append(f"refunded {payment}")


@activity.defn(name="ship")
def ship(order: dict[str, Any]) -> str:
    if not order["address"]:
        raise NonRetryableError("no shipping address")
    ledger.append(f"shipped to {order['address']}")
    return f"parcel-{order['id']}"


@workflow.defn(name="order-saga")
class OrderSagaWorkflow:
    def run(self, ctx: Any, order: dict[str, Any]) -> Any:
        retry = ActivityRetryPolicy(max_attempts=3, initial_interval_seconds=0)
        compensations: list[tuple[str, Any]] = []
        try:
            reservation = yield ctx.schedule_activity("reserve-stock", [order], retry_policy=retry)
            compensations.append(("release-stock", reservation))
            payment = yield ctx.schedule_activity("charge", [order], retry_policy=retry)
            compensations.append(("refund", payment))
            parcel = yield ctx.schedule_activity("ship", [order], retry_policy=retry)
        except ActivityFailed as failure:
            for undo, argument in reversed(compensations):
                yield ctx.schedule_activity(undo, [argument], retry_policy=retry)
            raise RuntimeError(f"order {order['id']} rolled back: {failure.message}") from None
        return parcel


async def main(client: Client) -> None:
    orders = [
        {"id": "A1", "item": "kettle", "amount": 30, "address": "1 Main St"},
        {"id": "B2", "item": "toaster", "amount": 45, "address": ""},
    ]
    for order in orders:
        ledger.clear()
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[OrderSagaWorkflow],
            activities=[reserve_stock, release_stock, charge, refund, ship],
        )
        handle = await client.start_workflow(
            workflow_type="order-saga",
            task_queue=TASK_QUEUE,
            workflow_id=unique(f"order-{order['id']}"),
            input=[order],
        )
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
        try:
            outcome = f"completed: {await handle.result()}"
        except WorkflowFailed as failed:
            outcome = f"failed: {failed}"
        print(f"order {order['id']} {outcome}; steps: {', '.join(ledger)}")


if __name__ == "__main__":
    run(main)
