"""start_workflow checks that some worker of the queue registered the type: once, best effort."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from durable_workflow import Client

STARTED = {"workflow_id": "wf", "run_id": "r1"}


class Server:
    def __init__(self, workers: Any) -> None:
        self.workers = workers
        self.reads = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/workers":
            self.reads += 1
            assert request.url.params["task_queue"] == "q"
            if isinstance(self.workers, int):
                return httpx.Response(self.workers, json={"reason": "nope"})
            return httpx.Response(200, json={"workers": self.workers})
        return httpx.Response(201, json=STARTED)


def worker(types: list[str], status: str = "active") -> dict[str, Any]:
    return {"worker_id": "w", "task_queue": "q", "status": status,
            "supported_workflow_types": types}  # fmt: skip


async def start(server: Server, times: int = 1, workflow_type: str = "greeter") -> None:
    async with Client("http://dw.test", transport=httpx.MockTransport(server)) as client:
        for _ in range(times):
            await client.start_workflow(
                workflow_type=workflow_type, task_queue="q", workflow_id="wf"
            )


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "durable_workflow.client"]


async def test_a_type_no_active_worker_registered_is_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server([worker(["greeter", "billing"]), worker(["greeterr"], status="stale")])
    with caplog.at_level(logging.WARNING, logger="durable_workflow.client"):
        await start(server, times=3, workflow_type="greeterr")
    assert warnings(caplog) == [
        "no worker polling task queue 'q' registers workflow type 'greeterr' (registered "
        "there: 'billing', 'greeter'); the workflow waits until one does. Check "
        "workflow_type= against @workflow.defn(name=...) and the worker's task_queue="
    ]
    assert server.reads == 1  # the answer is reused for a burst of starts


@pytest.mark.parametrize(
    "workers",
    [
        [worker(["greeter"])],  # registered
        [],  # no worker yet: starting before the worker is normal
        [worker([])],  # registered no list: it may take any type
        500,  # the diagnosis fails: the start must not
    ],
)
async def test_no_warning_when_registered_unknown_or_unanswerable(
    workers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="durable_workflow.client"):
        await start(Server(workers))
    assert warnings(caplog) == []


async def test_a_registered_type_is_not_asked_about_again() -> None:
    server = Server([worker(["greeter"])])
    await start(server, times=4)
    assert server.reads == 1
