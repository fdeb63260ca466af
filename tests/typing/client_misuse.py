"""Misuse the type checker must reject; each ignore is proven live by ``warn_unused_ignores``.

If a line stopped being an error (say, ``workflow_id`` became optional), mypy
--strict would report the now-unused ignore and the typing test would fail.
"""

from __future__ import annotations

from durable_workflow import sync
from durable_workflow.client import Client


async def misuse(client: Client) -> None:
    # upstream: workflow_id and task_queue are required keyword arguments
    await client.start_workflow(workflow_type="t", task_queue="q")  # type: ignore[call-overload]
    await client.start_workflow("t", "q", "wf")  # type: ignore[call-overload]
    result = await client.describe_workflow("wf")
    result.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    await client.operations.workflow_describe("wf")  # type: ignore[call-arg]


def blocking_misuse(client: sync.Client) -> None:
    client.get_schedule_handle(1)  # type: ignore[arg-type]
