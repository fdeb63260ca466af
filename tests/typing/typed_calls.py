"""Typed workflow authoring and calling, checked by ``mypy --strict`` (must pass).

``assert_type`` pins what the checker infers: the handle's result type from
``run``'s annotation (a generator ``run`` gives ``T`` of ``Generator[Any, Any, T]``),
query/update values from the handler's annotation, ``Literal`` enumerations
taking their strings, and ``@update.validator`` needing no ``type: ignore``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Generator
from typing import Any

from typing_extensions import assert_type

from durable_workflow import activity, sync, workflow
from durable_workflow.client import Client, WorkflowHandle
from durable_workflow.workflow import WorkflowContext


@dataclasses.dataclass
class Order:
    sku: str
    placed_at: dt.datetime


@activity.defn(name="typed-price")
def price(order: Order) -> int:
    return len(order.sku)


@workflow.defn(name="typed-order")
class OrderWorkflow:
    def __init__(self) -> None:
        self.note = ""

    def run(self, ctx: WorkflowContext, order: Order) -> Generator[Any, Any, Order]:
        cents = yield ctx.schedule_activity(price, [order])
        child = yield ctx.start_child_workflow(Receipt, [cents])
        assert_type(child, Any)  # a yield's value is the engine's to send
        return order

    @workflow.query("note")
    def get_note(self) -> str:
        return self.note

    @workflow.update("set-note")
    def set_note(self, note: str) -> int:
        self.note = note
        return len(note)

    @set_note.validator
    def check_note(self, note: str) -> None:
        if not note:
            raise ValueError("note must not be empty")

    @workflow.signal("clear")
    def clear(self) -> None:
        self.note = ""

    def helper(self) -> None:
        # A decorated update is still an ordinary method on the instance.
        assert_type(self.set_note("x"), int)


@workflow.defn(name="typed-receipt")
class Receipt:
    def run(self, ctx: WorkflowContext, cents: int) -> dict[str, int]:
        return {"cents": cents}


async def typed_client(client: Client, order: Order) -> None:
    handle = await client.start_workflow(
        workflow_type=OrderWorkflow,
        task_queue="q",
        workflow_id="wf",
        input=[order],
        duplicate_policy="use-existing",
    )
    assert_type(handle, WorkflowHandle[Order])
    assert_type(await handle.result(), Order)
    assert_type(await handle.execute_query(OrderWorkflow.get_note), str)
    assert_type(await handle.execute_update(OrderWorkflow.set_note, "hello"), int)
    assert_type(await handle.execute_query("note"), Any)
    await handle.signal(OrderWorkflow.clear)
    # upstream's whole-answer methods keep their shape
    assert_type(await handle.query("note"), dict[str, Any])
    assert_type(await handle.update("set-note", ["x"], wait_for="completed"), dict[str, Any])

    plain = await client.start_workflow(workflow_type=Receipt, task_queue="q", workflow_id="r")
    assert_type(plain, WorkflowHandle[dict[str, int]])
    by_name = await client.start_workflow(
        workflow_type="typed-order", task_queue="q", workflow_id="n"
    )
    assert_type(by_name, WorkflowHandle[Any])

    assert_type(
        await client.execute_workflow(
            workflow_type=OrderWorkflow, task_queue="q", workflow_id="e", input=[order]
        ),
        Order,
    )
    assert_type(
        await client.execute_workflow(workflow_type="typed-order", task_queue="q", workflow_id="e"),
        Any,
    )
    existing = client.get_workflow_handle("wf", workflow_type=OrderWorkflow)
    assert_type(existing, WorkflowHandle[Order])
    await client.list_workflows(status="completed")
    await client.update_workflow("wf", "set-note", args=["x"], wait_for="accepted")


def typed_blocking(client: sync.Client, order: Order) -> None:
    handle = client.start_workflow(
        workflow_type=OrderWorkflow, task_queue="q", workflow_id="wf", input=[order]
    )
    assert_type(handle, sync.SyncWorkflowHandle[Order])
    assert_type(handle.result(), Order)
    assert_type(handle.execute_query(OrderWorkflow.get_note), str)
    assert_type(handle.execute_update(OrderWorkflow.set_note, "x"), int)
    assert_type(
        client.execute_workflow(workflow_type=Receipt, task_queue="q", workflow_id="r"),
        dict[str, int],
    )
