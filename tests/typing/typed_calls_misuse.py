"""Typed-call misuse the checker must reject (must fail).

Each line carries the ``type: ignore[code]`` it must raise: ``--warn-unused-ignores``
fails if one stops being an error, and tests/unit/client/test_typed_calls_typing.py
strips the ignores and checks mypy reports exactly these lines and codes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from durable_workflow import sync, workflow
from durable_workflow.client import Client
from durable_workflow.workflow import WorkflowContext


@workflow.defn(name="misuse-counter")
class Counter:
    def run(self, ctx: WorkflowContext) -> Generator[Any, Any, int]:
        yield ctx.sleep(1)
        return 1

    @workflow.query("count")
    def count(self) -> int:
        return 1

    @workflow.update("bump")
    def bump(self, by: int) -> str:
        return str(by)


class NotAWorkflow:
    pass


async def misuse(client: Client) -> None:
    handle = await client.start_workflow(workflow_type=Counter, task_queue="q", workflow_id="w")
    text: str = await handle.result()  # type: ignore[assignment]
    await client.start_workflow(workflow_type=NotAWorkflow, task_queue="q", workflow_id="w")  # type: ignore[arg-type]
    start = client.start_workflow
    await start(workflow_type="t", task_queue="q", workflow_id="w", duplicate_policy="x")  # type: ignore[call-overload]
    await handle.update("bump", [1], wait_for="done")  # type: ignore[arg-type]
    await client.list_workflows(status="cancelled")  # type: ignore[arg-type]
    label: str = await handle.execute_query(Counter.count)  # type: ignore[arg-type]
    number: int = await handle.execute_update(Counter.bump, 2)  # type: ignore[arg-type]
    await client.execute_workflow(workflow_type=Counter, task_queue="q")  # type: ignore[call-overload]
    del text, label, number


def blocking_misuse(client: sync.Client) -> None:
    handle = client.start_workflow(workflow_type=Counter, task_queue="q", workflow_id="w")
    text: str = handle.result()  # type: ignore[assignment]
    del text
