"""A workflow started before a dev-server restart completes when a worker runs after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from durable_workflow import Client, Worker, activity, serializer, workflow
from durable_workflow.testing import async_dev_server

QUEUE = "restart-queue"


@activity.defn(name="restart-greet")
def restart_greet(name: str) -> str:
    return f"hello, {name}"


@workflow.defn(name="restart-greeter")
class RestartGreeter:
    def run(self, ctx: Any, name: str) -> Any:
        first = yield ctx.schedule_activity("restart-greet", [name])
        second = yield ctx.schedule_activity("restart-greet", ["again"])
        return [first, second]


async def test_workflow_started_before_a_restart_completes_after_it(tmp_path: Path) -> None:
    db = tmp_path / "restart.sqlite"
    async with async_dev_server(db_path=db, poll_timeout=1.0) as first, Client(first.url) as client:
        handle = await client.start_workflow(
            workflow_type="restart-greeter",
            workflow_id="restart-1",
            task_queue=QUEUE,
            input=["world"],
        )

    async with (
        async_dev_server(db_path=db, poll_timeout=1.0) as second,
        Client(second.url) as client,
    ):
        worker = Worker(
            client, task_queue=QUEUE, workflows=[RestartGreeter], activities=[restart_greet]
        )
        execution = await worker.run_until(workflow_id="restart-1", timeout=30.0)
        assert execution.status == "completed"
        assert await client.get_result(handle) == ["hello, world", "hello, again"]


async def test_restart_in_the_middle_of_a_run_resumes_from_history(tmp_path: Path) -> None:
    """Server one records the first step (activity scheduled); server two runs the rest."""
    db = tmp_path / "restart-mid.sqlite"
    calls: list[str] = []

    @activity.defn(name="restart-mid-step")
    def step(name: str) -> str:
        calls.append(name)
        return name.upper()

    @workflow.defn(name="restart-mid")
    class TwoSteps:
        def run(self, ctx: Any) -> Any:
            a = yield ctx.schedule_activity("restart-mid-step", ["a"])
            b = yield ctx.schedule_activity("restart-mid-step", ["b"])
            return a + b

    async with async_dev_server(db_path=db, poll_timeout=1.0) as first, Client(first.url) as client:
        await client.start_workflow(
            workflow_type="restart-mid", workflow_id="restart-mid-1", task_queue=QUEUE
        )
        # Drive exactly one workflow task and one activity task by hand through the
        # worker-plane client methods, so the run is parked mid-way when server one stops.
        await client.register_worker(worker_id="manual", task_queue=QUEUE)
        task = await client.poll_workflow_task(worker_id="manual", task_queue=QUEUE)
        assert task is not None
        await client.complete_workflow_task(
            task_id=task["task_id"],
            lease_owner=task["lease_owner"],
            workflow_task_attempt=task["workflow_task_attempt"],
            commands=[
                {
                    "type": "schedule_activity",
                    "activity_type": "restart-mid-step",
                    "queue": QUEUE,
                    "arguments": serializer.envelope(["a"]),
                }
            ],
        )

    async with (
        async_dev_server(db_path=db, poll_timeout=1.0) as second,
        Client(second.url) as client,
    ):
        worker = Worker(client, task_queue=QUEUE, workflows=[TwoSteps], activities=[step])
        execution = await worker.run_until(workflow_id="restart-mid-1", timeout=30.0)
        assert execution.status == "completed"
        assert execution.output == "AB"
        assert calls == ["a", "b"]
