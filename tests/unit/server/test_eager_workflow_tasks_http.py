"""``eager_workflow_tasks`` over the ASGI app in-process: advertisement, the task shape
(history compression as the poll asked for it) and the 422 of a bad slot count."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow._generated import manifest
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer

CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}
WORKER = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}
FINISH = {"type": "complete_workflow", "result": None}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    server = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite", poll_timeout=1.0))
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        yield client
    server.store.close()


async def _start(http: httpx.AsyncClient, workflow_id: str) -> None:
    body = {"workflow_id": workflow_id, "workflow_type": "t", "task_queue": "q"}
    answer = await http.post("/api/workflows", json=body, headers=CONTROL)
    assert answer.status_code in (200, 201), answer.text


async def _first_task(http: httpx.AsyncClient) -> dict[str, Any]:
    """w1 registers (type t, queue q), wf-1 starts, w1 polls its task."""
    register = {
        "worker_id": "w1",
        "task_queue": "q",
        "runtime": "python",
        "supported_workflow_types": ["t"],
    }
    assert (await http.post("/api/worker/register", json=register, headers=WORKER)).is_success
    await _start(http, "wf-1")
    poll = {"worker_id": "w1", "task_queue": "q"}
    task = (await http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER)).json()
    assert task["task"]["workflow_id"] == "wf-1"
    return dict(task["task"])


async def _complete(http: httpx.AsyncClient, task: dict[str, Any], **extra: Any) -> httpx.Response:
    body = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [FINISH],
        **extra,
    }
    path = f"/api/worker/workflow-tasks/{task['task_id']}/complete"
    return await http.post(path, json=body, headers=WORKER)


async def test_the_task_comes_compressed_as_asked_like_a_polled_one(
    http: httpx.AsyncClient,
) -> None:
    task = await _first_task(http)
    await _start(http, "wf-2")
    for n in range(60):  # a history past the compression threshold
        signal = await http.post(f"/api/workflows/wf-2/signal/s{n}", json={}, headers=CONTROL)
        assert signal.is_success, signal.text
    answer = await _complete(
        http, task, workflow_task_slots=1, accept_history_encoding="gzip", history_page_size=1000
    )
    assert answer.status_code == 200, answer.text
    (eager,) = answer.json()["workflow_tasks"]
    assert eager["workflow_id"] == "wf-2" and eager["lease_owner"] == "w1"
    assert eager["history_events"] == [] and eager["history_events_encoding"] == "gzip"
    events = json.loads(gzip.decompress(base64.b64decode(eager["history_events_compressed"])))
    assert len(events) == eager["total_history_events"] > 60


async def test_a_bad_slot_count_is_a_422_naming_it_and_applies_nothing(
    http: httpx.AsyncClient,
) -> None:
    task = await _first_task(http)
    refused = await _complete(http, task, workflow_task_slots="1")
    assert refused.status_code == 422
    assert refused.json()["reason"] == "validation_failed"
    assert list(refused.json()["errors"]) == ["workflow_task_slots"]
    accepted = await _complete(http, task)  # the task is still open, so not completed before
    assert accepted.status_code == 200 and accepted.json()["run_status"] == "completed"
    assert "workflow_tasks" not in accepted.json()


async def test_only_generation_1_advertises_it(tmp_path: Path) -> None:
    for generation in (1, 2):
        config = ServerConfig(db_path=tmp_path / f"gen{generation}.sqlite", generation=generation)
        server = DevServer(config)
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
            info = (await client.get("/api/cluster/info")).json()
        server.store.close()
        extensions = info.get("capabilities", {}).get("extensions", [])
        assert ("eager_workflow_tasks" in extensions) == (generation == 1), extensions
