"""Eager workflow tasks in the worker: free workflow slots lent to completions only where
the server advertises ``eager_workflow_tasks``; returned tasks run as polled ones."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from test_worker import FakeServer, Greeter, act_task, eventually, greet, make_client, wf_task

from durable_workflow.worker import Worker
from durable_workflow.worker._eager import EagerWorkflowTasks, lending_workflow_slots
from durable_workflow.worker._history import FIRST_PAGE_SIZE

EXTENSION = "eager_workflow_tasks"


def _lender(slots: asyncio.Semaphore, started: list[dict[str, Any]]) -> EagerWorkflowTasks:
    return EagerWorkflowTasks(slots, started.append, lambda: True, 20)


async def test_a_free_slot_is_lent_and_a_returned_task_takes_it() -> None:
    slots, started = asyncio.Semaphore(2), []
    lender = _lender(slots, started)
    sent: list[dict[str, Any]] = []

    async def request(asking: dict[str, Any]) -> dict[str, Any]:
        sent.append(asking)
        return {"workflow_tasks": [{"task_id": "t-1"}, {"task_id": "t-2"}]}

    await lending_workflow_slots(lender, request)
    assert sent == [{"workflow_task_slots": 1, "history_page_size": 20}]
    # One slot lent, so only one task is started (in it); the other slot stays free.
    assert started == [{"task_id": "t-1"}] and lender.dispatched == 1
    assert slots._value == 1


async def test_nothing_is_lent_without_a_free_slot_and_nothing_waits() -> None:
    slots, started = asyncio.Semaphore(1), []
    lender = _lender(slots, started)
    await slots.acquire()
    sent: list[dict[str, Any]] = []

    async def request(asking: dict[str, Any]) -> None:
        sent.append(asking)

    await asyncio.wait_for(lending_workflow_slots(lender, request), timeout=1.0)
    assert sent == [{}] and started == []


async def test_an_unused_or_failed_loan_gives_the_slot_back() -> None:
    slots, started = asyncio.Semaphore(1), []
    lender = _lender(slots, started)

    async def empty(asking: dict[str, Any]) -> dict[str, Any]:
        return {"workflow_tasks": []}

    async def broken(asking: dict[str, Any]) -> None:
        assert asking["workflow_task_slots"] == 1
        raise RuntimeError("lost")

    await lending_workflow_slots(lender, empty)
    assert slots._value == 1
    with pytest.raises(RuntimeError):
        await lending_workflow_slots(lender, broken)
    assert slots._value == 1 and started == []


async def test_no_loan_while_the_worker_stops() -> None:
    slots = asyncio.Semaphore(1)
    lender = EagerWorkflowTasks(slots, lambda task: None, lambda: False, None)
    sent: list[dict[str, Any]] = []

    async def request(asking: dict[str, Any]) -> None:
        sent.append(asking)

    await lending_workflow_slots(lender, request)
    assert sent == [{}] and slots._value == 1


def _server(advertised: bool) -> FakeServer:
    server = FakeServer()
    if advertised:
        server.cluster_info["capabilities"] = {"extensions": [EXTENSION]}
    server.workflow_tasks = [wf_task()]
    server.activity_tasks = [act_task("unit-greet", ["Ada"])]
    handed = {"/workflow-tasks/wt-1/complete": "wt-2", "/activity-tasks/at-1/complete": "wt-3"}
    for suffix, next_id in handed.items():

        def answer(body: Any, next_id: str = next_id) -> httpx.Response:
            eager = [wf_task(task_id=next_id)] if body.get("workflow_task_slots") else None
            fields = {"recorded": True} if eager is None else {"workflow_tasks": eager}
            return httpx.Response(200, json={"outcome": "ok", **fields})

        server.answers[suffix] = answer
    return server


async def _serve(server: FakeServer, done: Any) -> Worker:
    async with make_client(server) as client:
        worker = Worker(
            client, task_queue="q", workflows=[Greeter], activities=[greet], poll_timeout=1.0
        )
        running = asyncio.create_task(worker.run())
        try:
            await eventually(lambda: done(server))
        finally:
            await worker.stop()
            await running
    return worker


async def test_returned_tasks_run_like_polled_ones_where_advertised() -> None:
    server = _server(advertised=True)

    def done(server: FakeServer) -> bool:
        return all(server.calls(f"/workflow-tasks/{t}/complete") for t in ("wt-2", "wt-3"))

    worker = await _serve(server, done)
    (first,) = server.calls("/workflow-tasks/wt-1/complete")
    (activity,) = server.calls("/activity-tasks/at-1/complete")
    for body in (first, activity):
        assert body["workflow_task_slots"] == 1 and body["history_page_size"] == FIRST_PAGE_SIZE
    assert worker.eager_workflow_tasks is not None and worker.eager_workflow_tasks.dispatched == 2
    # wt-2 and wt-3 exist only in those answers (the polls hand out wt-1 alone).


async def test_the_wire_is_unchanged_without_the_advertisement() -> None:
    server = _server(advertised=False)

    def done(server: FakeServer) -> bool:
        return bool(server.calls("/activity-tasks/at-1/complete")) and bool(
            server.calls("/workflow-tasks/wt-1/complete")
        )

    worker = await _serve(server, done)
    assert worker.eager_workflow_tasks is None
    (first,) = server.calls("/workflow-tasks/wt-1/complete")
    assert set(first) == {"lease_owner", "workflow_task_attempt", "commands"}
    (activity,) = server.calls("/activity-tasks/at-1/complete")
    assert not {"workflow_task_slots", "history_page_size"} & set(activity), activity
    assert not server.calls("/workflow-tasks/wt-2/complete")
