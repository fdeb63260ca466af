"""PollCache: duplicates replay a delivery, entries stay slim and go when the task ends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from durable_workflow._generated import manifest
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer
from durable_workflow.server.matching.poll_cache import PollCache

C = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}
W = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}

KEY = ("default", "q", "", "w1", "poll-1")
TASK = {
    "task_id": "t1",
    "lease_owner": "w1",
    "workflow_task_attempt": 1,
    "history_events": [{"event_type": "WorkflowStarted", "payload": {"big": "x" * 4096}}],
}


class Recorder:
    """A poll that returns ``result`` and a redelivery check that records what it is given."""

    def __init__(self, result: dict[str, Any] | None) -> None:
        self.result = result
        self.polls = 0
        self.redelivered: list[dict[str, Any]] = []

    async def poll(self) -> dict[str, Any] | None:
        self.polls += 1
        return self.result

    def still_valid(self, delivered: dict[str, Any]) -> dict[str, Any] | None:
        self.redelivered.append(delivered)
        return {**TASK, "refreshed": True}


async def test_a_duplicate_replays_from_the_slim_record() -> None:
    cache, recorder = PollCache(), Recorder(TASK)
    assert await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0) == TASK
    again = await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0)
    assert again is not None and again["refreshed"] is True
    assert recorder.polls == 1
    # Only what redelivery reads is kept, never the history.
    assert recorder.redelivered == [
        {"task_id": "t1", "lease_owner": "w1", "workflow_task_attempt": 1}
    ]


async def test_a_finished_task_leaves_the_cache_and_a_duplicate_polls_afresh() -> None:
    cache, recorder = PollCache(), Recorder(TASK)
    await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0)
    assert len(cache) == 1
    cache.forget_task("t1")
    assert len(cache) == 0
    await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0)
    assert recorder.polls == 2 and recorder.redelivered == []


async def test_forgetting_an_unknown_or_other_task_keeps_the_entry() -> None:
    cache, recorder = PollCache(), Recorder(TASK)
    await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0)
    cache.forget_task("other")
    assert len(cache) == 1


async def test_an_empty_result_is_replayed_as_empty() -> None:
    cache, recorder = PollCache(), Recorder(None)
    assert await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0) is None
    assert await cache.run(KEY, recorder.poll, recorder.still_valid, 1.0) is None
    assert recorder.polls == 1


async def test_an_in_flight_duplicate_waits_and_gets_the_redelivery() -> None:
    cache = PollCache()
    release = asyncio.Event()
    recorder = Recorder(TASK)

    async def slow_poll() -> dict[str, Any] | None:
        await release.wait()
        return await recorder.poll()

    first = asyncio.ensure_future(cache.run(KEY, slow_poll, recorder.still_valid, 5.0))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(cache.run(KEY, slow_poll, recorder.still_valid, 5.0))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(first, 10) == TASK
    duplicate = await asyncio.wait_for(second, 10)
    assert duplicate is not None and duplicate["refreshed"] is True
    assert recorder.polls == 1


async def test_the_worker_routes_forget_a_completed_task(tmp_path: Path) -> None:
    server = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite", poll_timeout=1.0))
    transport = httpx.ASGITransport(app=server.app)
    worker = {"worker_id": "w1", "task_queue": "q"}
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        await client.post("/api/worker/register", json={**worker, "runtime": "python"}, headers=W)
        started = {"workflow_id": "a", "workflow_type": "t", "task_queue": "q"}
        await client.post("/api/workflows", json=started, headers=C)
        poll = {**worker, "poll_request_id": "p1"}
        first = (await client.post("/api/worker/workflow-tasks/poll", json=poll, headers=W)).json()
        again = (await client.post("/api/worker/workflow-tasks/poll", json=poll, headers=W)).json()
        assert again["task"]["task_id"] == first["task"]["task_id"]
        assert len(server.poll_cache) == 1
        done = await client.post(
            f"/api/worker/workflow-tasks/{first['task']['task_id']}/complete",
            json={"lease_owner": "w1", "workflow_task_attempt": 1,
                  "commands": [{"type": "complete_workflow"}]},
            headers=W,
        )  # fmt: skip
        assert done.status_code == 200, done.text
        assert len(server.poll_cache) == 0
    server.store.close()
