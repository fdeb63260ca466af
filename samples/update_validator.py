"""Updates with a validator: change a running workflow and get an answer back.

An update is a signal with a reply. Its validator runs first and may reject
the request (raise): a rejected update is not applied and the caller gets the
message. An accepted update's handler runs, its return value is the answer.
"""

from __future__ import annotations

from typing import Any

from _support import run, serving, unique

from durable_workflow import Client, Worker, workflow
from durable_workflow.errors import ServerValidationFailed

TASK_QUEUE = "samples-update"


@workflow.defn(name="shopping-cart")
class CartWorkflow:
    def __init__(self) -> None:
        self.items: dict[str, int] = {}
        self.checked_out = False

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.checked_out)
        return self.items

    @workflow.update("add-item")
    def add_item(self, sku: str, quantity: int) -> int:
        self.items[sku] = self.items.get(sku, 0) + quantity
        return sum(self.items.values())

    @add_item.validator
    def validate_add_item(self, sku: str, quantity: int) -> None:
        if quantity < 1:
            raise ValueError(f"quantity must be at least 1, got {quantity}")

    @workflow.signal("checkout")
    def checkout(self) -> None:
        self.checked_out = True


async def main(client: Client) -> None:
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[CartWorkflow])
    handle = await client.start_workflow(
        workflow_type="shopping-cart", task_queue=TASK_QUEUE, workflow_id=unique("cart")
    )
    async with serving(worker):
        for sku, quantity in (("pen", 2), ("ink", 1), ("pad", 0)):
            try:
                answer = await handle.update(
                    "add-item", [sku, quantity], wait_for="completed", wait_timeout_seconds=10
                )
                print(f"add {sku} x{quantity}: cart holds {answer['result']} items")
            except ServerValidationFailed as rejected:
                # The 422 body carries the validator's message (update_status "failed").
                print(f"add {sku} x{quantity}: rejected: {rejected.body['failure_message']}")
        await handle.signal("checkout")
        print("checked out:", await handle.result(timeout=30))


if __name__ == "__main__":
    run(main)
