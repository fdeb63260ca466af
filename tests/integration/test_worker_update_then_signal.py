"""An update, then right after it a signal, to a workflow parked on a condition wait.

Issue 14 item 8, with our client and worker against the real dev server: the
workflow completes with the update's value, and the history is the one the
real server records (no second ConditionWaitOpened after the update).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from generations import SpecCheck

from durable_workflow import workflow
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

QUEUE = "it-update-then-signal"
ROUNDS = 3  # the race is between the server's follow-up task and the signal


@workflow.defn(name="it-update-then-signal")
class UpdateThenSignal:
    def __init__(self) -> None:
        self.value: int | None = None
        self.done = False

    @workflow.update("set")
    def set_value(self, value: int) -> int:
        self.value = value
        return value

    @workflow.signal("finish")
    def finish(self) -> None:
        self.done = True

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.done, key="finished", timeout=60)
        return self.value


@pytest.fixture
async def client(gen_server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    """A client of each generation's dev server (generations.py); 2.x requests spec-checked."""
    async with spec.attach(Client(gen_server.url, token=gen_server.token)) as c:
        yield c


async def _parked(client: Client, workflow_id: str, run_id: str) -> None:
    for _ in range(200):
        history = await client.get_history(workflow_id, run_id)
        if "ConditionWaitOpened" in [e.get("event_type") for e in history.get("events", [])]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never opened its wait")


async def test_update_then_signal_completes_with_the_real_servers_history(
    client: Client,
) -> None:
    worker = Worker(
        client, task_queue=QUEUE, workflows=[UpdateThenSignal], poll_timeout=5.0,
        shutdown_timeout=5.0,
    )  # fmt: skip
    running = asyncio.create_task(worker.run())
    try:
        for value in range(1, ROUNDS + 1):
            handle = await client.start_workflow(
                workflow_type="it-update-then-signal",
                task_queue=QUEUE,
                workflow_id=f"uts-{uuid.uuid4().hex[:10]}",
            )
            await _parked(client, handle.workflow_id, handle.run_id)
            answer = await client.update_workflow(
                handle.workflow_id, "set", args=[value], wait_for="completed"
            )
            assert answer["result"] == value
            await client.signal_workflow(handle.workflow_id, "finish")
            assert await client.get_result(handle, timeout=30) == value
            history = await client.get_history(handle.workflow_id, handle.run_id)
            types = [e["event_type"] for e in history["events"]]
            assert types[types.index("ConditionWaitOpened") :] == [
                "ConditionWaitOpened",
                "TimerScheduled",
                "UpdateAccepted",
                "UpdateApplied",
                "UpdateCompleted",
                "SignalReceived",
                "ConditionWaitSatisfied",
                "TimerCancelled",
                "WorkflowCompleted",
            ]
    finally:
        await worker.stop()
        await running
