"""Result waits over the dev server's ``closed_runs_wait`` (client/_closed_runs.py), on a fake.

The fake answers ``/api/cluster/info`` with the dev server's own document (so the
extension is advertised exactly as the dev server does) and the closed-runs route
by a script of the test; every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import errors, serializer
from durable_workflow._dev_extensions import CLOSED_RUNS_WAIT
from durable_workflow.client import Client, _closed_runs
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.cluster_info import cluster_info

# The client reads the fake's discovery document (no forced generation).
pytestmark = pytest.mark.usefixtures("auto_generation")

PATH = "/api/dev/closed-runs"
Answer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Fake:
    """The cluster info, a closed-runs script and canned history pages."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.closed_runs: Answer | None = None
        self.histories: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/cluster/info":
            return httpx.Response(200, json=self.info)
        if path == PATH and self.closed_runs is not None:
            return httpx.Response(200, json=await self.closed_runs(json.loads(request.content)))
        if path in self.histories:
            return httpx.Response(200, json=self.histories[path])
        return httpx.Response(404, json={"reason": "not_found", "message": path})

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == PATH]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests if r.url.path != "/api/cluster/info"]


def _info(tmp_path: Path, *, extension: bool) -> dict[str, Any]:
    document = cluster_info(ServerConfig(db_path=tmp_path / "info.sqlite"), {})
    listed = document["capabilities"]["extensions"]
    assert CLOSED_RUNS_WAIT in listed
    if not extension:
        document["capabilities"]["extensions"] = [e for e in listed if e != CLOSED_RUNS_WAIT]
    return document


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    return Fake(_info(tmp_path, extension=True))


@pytest.fixture
async def client(fake: Fake) -> AsyncIterator[Client]:
    async with Client("http://dw.test", transport=httpx.MockTransport(fake)) as c:
        yield c


def completed(run_id: str, value: Any, workflow_id: str | None = None) -> dict[str, Any]:
    event = {
        "sequence": 9,
        "event_type": "WorkflowCompleted",
        "payload": {"output": serializer.encode(value)},
    }
    return {
        "workflow_id": workflow_id or f"wf-{run_id}",
        "run_id": run_id,
        "status": "completed",
        "payload_codec": "avro",
        "events": [event],
    }


def run_ids(body: dict[str, Any]) -> list[str]:
    return [run["run_id"] for run in body["runs"]]


def waiter(client: Client, run_id: str, **kwargs: Any) -> asyncio.Task[Any]:
    handle = client.get_workflow_handle(f"wf-{run_id}", run_id=run_id)
    return asyncio.ensure_future(handle.result(**{"poll_interval": 0.05, **kwargs}))


async def test_concurrent_waiters_share_one_request_and_open_runs_go_out_again(
    client: Client, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_closed_runs, "HELD_REQUESTS", 1)
    release = asyncio.Event()

    async def script(body: dict[str, Any]) -> dict[str, Any]:
        if len(fake.bodies()) == 1:
            await release.wait()
            return {"closed": [completed("r1", 1), completed("r2", 2)], "unknown": []}
        return {"closed": [completed(r, int(r[1:])) for r in run_ids(body)], "unknown": []}

    fake.closed_runs = script
    first = [waiter(client, f"r{i}", poll_interval=5) for i in range(1, 6)]
    await asyncio.sleep(0.05)
    late = waiter(client, "r6", poll_interval=5)  # registered while the only slot is held
    await asyncio.sleep(0.05)
    release.set()
    assert await asyncio.gather(*first, late) == [1, 2, 3, 4, 5, 6]
    bodies = fake.bodies()
    assert [run_ids(b) for b in bodies] == [
        ["r1", "r2", "r3", "r4", "r5"],
        ["r3", "r4", "r5", "r6"],  # the open runs first, merged with the new one
    ]
    assert all(b["wait"] is True for b in bodies)
    assert fake.paths() == [PATH, PATH]  # no history read, no describe


async def test_waiters_past_the_held_requests_are_checked_without_holding(
    client: Client, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_closed_runs, "HELD_REQUESTS", 1)
    release = asyncio.Event()
    checks: list[list[str]] = []

    async def script(body: dict[str, Any]) -> dict[str, Any]:
        if body["wait"]:
            assert run_ids(body) == ["r1"]
            await release.wait()
            return {"closed": [completed("r1", 1)], "unknown": []}
        checks.append(run_ids(body))
        closed = [completed("r2", 2)] if len(checks) == 3 else []
        return {"closed": closed, "unknown": []}

    fake.closed_runs = script
    first = waiter(client, "r1")
    await asyncio.sleep(0.02)
    assert await waiter(client, "r2") == 2  # while r1 holds the only slot
    assert checks == [["r2"], ["r2"], ["r2"]]
    release.set()
    assert await first == 1


async def test_a_cancelled_waiter_leaves_the_hub(client: Client, fake: Fake) -> None:
    answered = asyncio.Event()
    ended: list[str] = []

    async def script(body: dict[str, Any]) -> dict[str, Any]:
        try:
            await answered.wait()
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        answered.clear()
        if run_ids(body) == ["r2"]:
            return {"closed": [completed("r2", 2)], "unknown": []}
        return {"closed": [], "unknown": []}  # the server's poll timeout

    fake.closed_runs = script
    gone, kept = waiter(client, "r1"), waiter(client, "r2")
    await asyncio.sleep(0.02)
    gone.cancel()
    await asyncio.sleep(0.02)
    answered.set()
    await asyncio.sleep(0.02)
    answered.set()
    assert await kept == 2
    assert [run_ids(b) for b in fake.bodies()] == [["r1", "r2"], ["r2"]]
    # A held request whose every waiter gave up ends at once.
    alone = waiter(client, "r3")
    await asyncio.sleep(0.02)
    alone.cancel()
    await asyncio.sleep(0.02)
    assert ended == ["cancelled"]
    hub = _closed_runs.hub_of(client)
    assert hub.entries == {} and hub.held == {} and hub.pending == {}


async def test_a_timed_out_waiter_gets_the_same_timeout_error(client: Client, fake: Fake) -> None:
    async def script(body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.5 if body["wait"] else 0)
        return {"closed": [], "unknown": []}

    fake.closed_runs = script
    fake.histories["/api/workflows/wf-r1"] = {"workflow_id": "wf-r1", "status": "running"}
    with pytest.raises(TimeoutError, match=r"wf-r1 did not finish within 0\.1s"):
        await waiter(client, "r1", timeout=0.1)
    assert _closed_runs.hub_of(client).entries == {}


async def test_continue_as_new_and_failures_resolve_as_the_history_path_does(
    client: Client, fake: Fake
) -> None:
    continued = {
        "workflow_id": "wf-r1",
        "run_id": "r1",
        "status": "completed",
        "payload_codec": "avro",
        "events": [
            {
                "sequence": 5,
                "event_type": "WorkflowContinuedAsNew",
                "payload": {"continued_to_run_id": "r2"},
            }
        ],
    }
    failed = {
        "workflow_id": "wf-r3",
        "run_id": "r3",
        "status": "failed",
        "payload_codec": "avro",
        "events": [
            {
                "sequence": 4,
                "event_type": "WorkflowFailed",
                "payload": {"message": "boom", "exception_class": "ValueError"},
            }
        ],
    }

    async def script(body: dict[str, Any]) -> dict[str, Any]:
        answers = {"r1": continued, "r2": completed("r2", "last", "wf-r1"), "r3": failed}
        return {"closed": [answers[r] for r in run_ids(body)], "unknown": []}

    fake.closed_runs = script
    assert await waiter(client, "r1") == "last"
    assert [run_ids(b) for b in fake.bodies()] == [["r1"], ["r2"]]
    with pytest.raises(errors.WorkflowFailed, match="boom"):
        await waiter(client, "r3")


async def test_an_unknown_run_takes_the_history_path(client: Client, fake: Fake) -> None:
    async def script(body: dict[str, Any]) -> dict[str, Any]:
        return {"closed": [], "unknown": run_ids(body)}

    fake.closed_runs = script
    fake.histories["/api/workflows/wf-r1/runs/r1/history"] = {
        "events": [completed("r1", "from history")["events"][0]],
        "next_page_token": None,
        "payload_codec": "avro",
    }
    assert await waiter(client, "r1") == "from history"
    assert fake.paths() == [PATH, "/api/workflows/wf-r1/runs/r1/history"]


async def test_a_server_without_the_extension_sees_only_history_requests(tmp_path: Path) -> None:
    fake = Fake(_info(tmp_path, extension=False))
    fake.histories["/api/workflows/wf-r1/runs/r1/history"] = {
        "events": [completed("r1", "done")["events"][0]],
        "next_page_token": None,
        "payload_codec": "avro",
    }
    async with Client("http://dw.test", transport=httpx.MockTransport(fake)) as client:
        assert await waiter(client, "r1") == "done"
    history = [r for r in fake.requests if r.url.path.endswith("/history")]
    # The per-run wait for close (history_wait_for_close is still advertised), nothing else.
    assert fake.paths() == ["/api/workflows/wf-r1/runs/r1/history"]
    assert history[0].url.params.get("wait_for_close") == "1"


async def test_many_waiters_are_shared_out_over_the_held_requests(
    client: Client, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to RUNS_PER_REQUEST runs a request while slots last; past that an even share."""
    monkeypatch.setattr(_closed_runs, "HELD_REQUESTS", 2)
    monkeypatch.setattr(_closed_runs, "RUNS_PER_REQUEST", 4)

    async def script(body: dict[str, Any]) -> dict[str, Any]:
        return {"closed": [completed(r, int(r[1:])) for r in run_ids(body)], "unknown": []}

    fake.closed_runs = script
    assert await asyncio.gather(*(waiter(client, f"r{i}") for i in range(6))) == list(range(6))
    assert [len(run_ids(b)) for b in fake.bodies()] == [4, 2]
    fake.requests.clear()
    assert await asyncio.gather(*(waiter(client, f"r{i}") for i in range(20))) == list(range(20))
    assert [len(run_ids(b)) for b in fake.bodies()] == [10, 10]
