"""The held closed-runs request ends on a close only, on disconnect and at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from durable_workflow._dev_operations import CLOSED_RUNS
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import closing, run_views, runs, signals
from durable_workflow.server.http import closed_runs_routes
from durable_workflow.server.http.app import Call, DevServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    dev = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite", poll_timeout=10.0))
    yield dev
    dev.store.close()


def _start(server: DevServer, workflow_id: str) -> str:
    body = {"workflow_id": workflow_id, "workflow_type": "t", "task_queue": "q"}
    _status, started = server.engine.tx(
        runs.start_workflow, "default", body, max_memo_bytes=server.config.max_memo_bytes
    )
    run_id = started["run_id"]
    assert isinstance(run_id, str)
    return run_id


def _call(server: DevServer, runs_: dict[str, str], receive: Any = None) -> Call:
    body = {"runs": [{"workflow_id": w, "run_id": r} for r, w in runs_.items()], "wait": True}
    return Call(CLOSED_RUNS, {}, {}, body, "default", server, receive)


def _counting_probes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    probes: list[int] = []
    read = run_views.closed_runs

    def counted(*args: Any) -> dict[str, Any]:
        probes.append(1)
        return read(*args)

    monkeypatch.setattr(run_views, "closed_runs", counted)
    return probes


async def test_only_a_terminal_event_wakes_the_held_request(
    server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _start(server, "a")
    probes = _counting_probes(monkeypatch)
    held = asyncio.ensure_future(closed_runs_routes.closed_runs(_call(server, {run_id: "a"})))
    await asyncio.sleep(0.05)
    server.engine.tx(signals.signal, "default", "a", "ping", {}, run_id)  # an event, not a close
    await asyncio.sleep(0.05)
    assert not held.done() and len(probes) == 1
    server.engine.tx(closing.close_run, "default", "a", "terminate", {}, run_id)
    status, body = await asyncio.wait_for(held, 5)
    assert status == 200 and [c["run_id"] for c in body["closed"]] == [run_id]
    assert len(probes) == 2
    assert server.notifier._waiters == {}


async def test_a_held_request_ends_when_its_client_disconnects(server: DevServer) -> None:
    run_id = _start(server, "a")
    gone = asyncio.Event()

    async def receive() -> MutableMapping[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    held = asyncio.ensure_future(
        closed_runs_routes.closed_runs(_call(server, {run_id: "a"}, receive))
    )
    await asyncio.sleep(0.05)
    assert not held.done() and server.notifier._waiters
    gone.set()
    assert await asyncio.wait_for(held, 5) == (200, {"closed": [], "unknown": []})
    assert server.notifier._waiters == {}


async def test_a_held_request_ends_at_server_shutdown(server: DevServer) -> None:
    runs_ = {_start(server, "a"): "a", _start(server, "b"): "b"}
    held = asyncio.ensure_future(closed_runs_routes.closed_runs(_call(server, runs_)))
    await asyncio.sleep(0.05)
    assert not held.done()
    server.notifier.close()
    assert await asyncio.wait_for(held, 5) == (200, {"closed": [], "unknown": []})
