"""A 2.x server with no room for another long poll: typed refusal, and the worker waits it out.

``start-dev --generation 2 --long-poll-capacity N`` holds at most N polls per wait pool
and answers the next one ``429 long_poll_capacity_exhausted`` with ``retry_after_seconds``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from generations import SpecCheck

from durable_workflow import activity, errors, workflow
from durable_workflow.client import Client
from durable_workflow.metrics import WORKER_POLLS
from durable_workflow.testing import dev_server
from durable_workflow.worker import Worker

QUEUE = "it-capacity"


@activity.defn(name="cap-greet")
def greet(name: str) -> str:
    return f"hello, {name}"


@workflow.defn(name="cap-greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("cap-greet", [name]))


async def test_the_second_held_poll_is_refused_with_the_wait_to_honour() -> None:
    spec = SpecCheck(2)
    with dev_server(generation=2, poll_timeout=2.0, long_poll_capacity=1) as server:
        async with spec.attach(Client(server.url)) as client:
            for worker_id in ("a", "b"):
                await client.register_worker(worker_id=worker_id, task_queue=QUEUE)
            results = await asyncio.gather(
                client.poll_activity_task(worker_id="a", task_queue=QUEUE, timeout=2),
                client.poll_activity_task(worker_id="b", task_queue=QUEUE, timeout=2),
                return_exceptions=True,
            )
    refused = [r for r in results if isinstance(r, errors.LongPollCapacityExhausted)]
    assert len(refused) == 1, results
    assert refused[0].retry_after_seconds >= 1
    assert refused[0].task_kind == "activity_task"
    assert None in results  # the held poll ended empty
    spec.verify()


class PollOutcomes:
    """A metrics recorder that counts the worker's failed polls."""

    def __init__(self) -> None:
        self.refused = 0

    def increment(self, name: str, value: float = 1.0, tags: Any = None) -> None:
        if name == WORKER_POLLS and (tags or {}).get("outcome") == "error":
            self.refused += 1

    def record(self, name: str, value: float, tags: Any = None) -> None:
        pass


@pytest.mark.timeout(120)
async def test_a_worker_competing_for_one_poll_slot_still_finishes_its_workflow() -> None:
    spec = SpecCheck(2)
    polls = PollOutcomes()
    with dev_server(generation=2, poll_timeout=1.0, long_poll_capacity=1) as server:
        async with spec.attach(Client(server.url)) as client:
            worker = Worker(
                client,
                task_queue=QUEUE,
                workflows=[Greeter],
                activities=[greet],
                poll_timeout=1,
                metrics=polls,
            )
            handle = await client.start_workflow(
                workflow_type="cap-greeter", task_queue=QUEUE, workflow_id="cap-1", input=["Ada"]
            )
            execution = await worker.run_until(workflow_id="cap-1", timeout=90)
            assert execution.status == "completed"
            assert await client.get_result(handle) == "hello, Ada"
    spec.verify()
    # Its workflow and activity polls competed for the one slot: some were refused.
    assert polls.refused > 0
