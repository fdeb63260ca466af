"""Overload: past ``max_long_polls`` held polls, a poll gets the typed 429 at once
(2.x ``long_poll_capacity_exhausted`` with ``Retry-After``), a freed slot admits the next
poll, and an SDK worker that meets the refusal backs off and still finishes its work."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from hardening_server import running
from server_http_helpers import CONTROL, WORKER

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.server.config import ServerConfig


def _poll(url: str, path: str) -> httpx.Response:
    body = {"worker_id": "w1", "task_queue": "q"}
    return httpx.post(url + "/api/worker" + path, json=body, headers=WORKER, timeout=10)


def test_polls_past_the_limit_get_the_typed_capacity_response(tmp_path: Path) -> None:
    config = ServerConfig(db_path=tmp_path / "cap.sqlite", poll_timeout=1.5, max_long_polls=3)
    with running(config) as (http, dev):
        url = str(http.base_url).rstrip("/")
        reg = {"worker_id": "w1", "task_queue": "q", "runtime": "python"}
        assert http.post("/api/worker/register", json=reg, headers=WORKER).status_code == 201
        with ThreadPoolExecutor(max_workers=3) as pool:
            held = [pool.submit(_poll, url, "/workflow-tasks/poll") for _ in range(3)]
            for _ in range(100):
                if dev.poll_capacity.held == 3:
                    break
                time.sleep(0.02)
            refused = _poll(url, "/activity-tasks/poll")
            query = _poll(url, "/query-tasks/poll")
            assert [f.result().status_code for f in held] == [200, 200, 200]
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"] == "1"
        body = refused.json()
        assert body["reason"] == body["poll_status"] == "long_poll_capacity_exhausted"
        assert body["task"] is None and body["retryable"] is True
        assert body["retry_after_seconds"] == 1 and body["task_queue"] == "q"
        assert (body["task_kind"], body["wait_pool"]) == ("activity_task", "worker")
        assert query.status_code == 429 and query.json()["wait_pool"] == "query"
        assert dev.poll_capacity.held == 0
        assert _poll(url, "/activity-tasks/poll").status_code == 200  # a slot is free again
        # Control-plane requests are never counted against poll capacity.
        assert http.get("/api/workflows", headers=CONTROL).status_code == 200


@activity.defn(name="cap-double")
def double(value: int) -> int:
    return value * 2


@workflow.defn(name="cap-workflow")
class Doubling:
    def run(self, ctx: Any, value: int) -> Any:
        result = yield ctx.schedule_activity("cap-double", [value])
        return result


async def test_sdk_worker_meeting_the_limit_backs_off_and_finishes(tmp_path: Path) -> None:
    config = ServerConfig(db_path=tmp_path / "sdk.sqlite", poll_timeout=0.5, max_long_polls=1)
    with running(config) as (http, dev):
        url = str(http.base_url).rstrip("/")
        async with Client(url) as client:
            handle = await client.start_workflow(
                workflow_type="cap-workflow", workflow_id="cap-1", task_queue="cap", input=[21]
            )
            worker = Worker(client, task_queue="cap", workflows=[Doubling], activities=[double])
            execution = await worker.run_until(workflow_id="cap-1", timeout=60.0)
            assert execution.status == "completed"
            assert await client.get_result(handle) == 42
    # Two poll loops share one slot: refusals happen, but the worker backs off, not spins.
    assert 0 < dev.poll_capacity.refused < 200
