"""Typed workflows and rich types: dataclasses, pydantic models, datetimes, Decimals.

The workflow class, the activity function and the handler methods are passed
instead of their names, so the type checker knows what each call returns
(``WorkflowHandle[Invoice]``, ``execute_query`` -> ``Quote``). Arguments and
results annotated with rich types travel as plain JSON and arrive as the
annotated types again, on the worker and on the client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections.abc import Generator
from decimal import Decimal
from typing import Any

import pydantic
from _support import run, serving, unique

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.workflow import WorkflowContext

TASK_QUEUE = "samples-typed"


@dataclasses.dataclass
class Order:
    order_id: uuid.UUID
    placed_at: dt.datetime
    items: dict[str, Decimal]  # sku -> unit price


class Quote(pydantic.BaseModel):
    subtotal: Decimal
    discount: Decimal = Decimal("0")


@dataclasses.dataclass
class Invoice:
    order_id: uuid.UUID
    due: dt.date
    total: Decimal


@activity.defn(name="price-order")
def price_order(order: Order) -> Quote:
    return Quote(subtotal=sum(order.items.values(), Decimal("0")))


@workflow.defn(name="invoice-order")
class InvoiceWorkflow:
    def __init__(self) -> None:
        self.quote: Quote | None = None
        self.confirmed = False

    def run(self, ctx: WorkflowContext, order: Order) -> Generator[Any, Any, Invoice]:
        self.quote = yield ctx.schedule_activity(price_order, [order])
        yield ctx.wait_condition(lambda: self.confirmed)
        assert self.quote is not None
        due = (order.placed_at + dt.timedelta(days=30)).date()
        return Invoice(order.order_id, due, self.quote.subtotal - self.quote.discount)

    @workflow.query("quote")
    def current_quote(self) -> Quote | None:
        return self.quote

    @workflow.update("discount")
    def apply_discount(self, amount: Decimal) -> Quote:
        assert self.quote is not None
        self.quote = self.quote.model_copy(update={"discount": amount})
        return self.quote

    @apply_discount.validator
    def check_discount(self, amount: Decimal) -> None:
        if self.quote is not None and amount > self.quote.subtotal:
            raise ValueError("discount exceeds the subtotal")

    @workflow.signal("confirm")
    def confirm(self) -> None:
        self.confirmed = True


async def main(client: Client) -> None:
    order = Order(
        order_id=uuid.UUID("0b7e4f52-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        placed_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc),
        items={"kettle": Decimal("39.90"), "mug": Decimal("7.45")},
    )
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[InvoiceWorkflow], activities=[price_order]
    )
    async with serving(worker):
        handle = await client.start_workflow(  # WorkflowHandle[Invoice]
            workflow_type=InvoiceWorkflow,
            task_queue=TASK_QUEUE,
            workflow_id=unique("invoice"),
            input=[order],
        )
        quote = await handle.execute_query(InvoiceWorkflow.current_quote)  # Quote | None
        while quote is None:  # the activity prices the order first
            await asyncio.sleep(0.05)
            quote = await handle.execute_query(InvoiceWorkflow.current_quote)
        print("quote:", repr(quote))
        print(
            "discounted:",
            repr(await handle.execute_update(InvoiceWorkflow.apply_discount, Decimal("5.00"))),
        )
        await handle.signal(InvoiceWorkflow.confirm)
        print("invoice:", repr(await handle.result(timeout=30)))


if __name__ == "__main__":
    run(main)
