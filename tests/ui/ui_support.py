"""What the UI tests share: a dev server with any tokens, a worker in a thread, the workflows.

The server is the real one (uvicorn on a free loopback port, SQLite file),
started with a :class:`ServerConfig` so a test can give it the UI's viewer
token, which ``testing.dev_server`` does not take.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from durable_workflow import activity, workflow
from durable_workflow._generated import manifest
from durable_workflow.client import Client
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.runner import bind_socket, build_server
from durable_workflow.worker import Worker

QUEUE = "ui-orders"
CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}


@dataclass
class Server:
    url: str
    # The token the test's own API calls and workers use (None: no auth).
    token: str | None

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(CONTROL)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.request(
            method, self.url + "/api" + path, headers=headers, timeout=30, **kwargs
        )

    def describe(self, workflow_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/workflows/{workflow_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def start(self, workflow_type: str, workflow_id: str, **body: Any) -> dict[str, Any]:
        payload = {"workflow_type": workflow_type, "workflow_id": workflow_id, "task_queue": QUEUE}
        response = self.api("POST", "/workflows", json={**payload, **body})
        assert response.status_code in (200, 201), response.text
        started: dict[str, Any] = response.json()
        return started

    def history_types(self, workflow_id: str, run_id: str) -> list[str]:
        response = self.api("GET", f"/workflows/{workflow_id}/runs/{run_id}/history")
        return [e["event_type"] for e in response.json()["events"]]

    def wait_for(self, workflow_id: str, run_id: str, event_type: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if event_type in self.history_types(workflow_id, run_id):
                return
            time.sleep(0.05)
        raise AssertionError(f"{event_type} not in the history of {workflow_id} in {timeout}s")

    def wait_status(self, workflow_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.describe(workflow_id)
            if found["status"] == status:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{workflow_id} is {found['status']}, not {status}")


@contextlib.contextmanager
def running_server(**config: Any) -> Iterator[str]:
    """A dev server with ``config`` (ServerConfig fields) on a free port; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="dw-ui-") as directory:
        settings = ServerConfig(db_path=Path(directory) / "ui.sqlite", poll_timeout=1.0, **config)
        sock = bind_socket("127.0.0.1", 0)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = build_server(settings, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(url + "/api/health").status_code == 200:
                        break
                time.sleep(0.02)
            yield url
        finally:
            server.request_exit()
            thread.join(timeout=10)
            sock.close()


# -- the workflows the tests run -----------------------------------------------------------

_charges: dict[str, int] = {}


@activity.defn(name="charge")
def charge(order_id: str, amount: int) -> dict[str, Any]:
    """Fails its first attempt per order (so the timeline shows a retry), then succeeds."""
    _charges[order_id] = _charges.get(order_id, 0) + 1
    if _charges[order_id] == 1:
        raise RuntimeError(f"card declined for {order_id}")
    return {"order": order_id, "charged": amount}


@workflow.defn(name="ui-order")
class OrderWorkflow:
    """Charges, then waits for the ``approve`` signal; ``notes`` can be added by update."""

    def __init__(self) -> None:
        self.approved_by: str | None = None
        self.notes: list[str] = []

    def run(self, ctx: Any, order_id: str, amount: int) -> Any:
        receipt = yield ctx.schedule_activity(
            "charge", [order_id, amount], retry_policy={"max_attempts": 3, "backoff_seconds": [1]}
        )
        yield ctx.wait_condition(lambda: self.approved_by is not None)
        return {"receipt": receipt, "approved_by": self.approved_by, "notes": self.notes}

    @workflow.signal("approve")
    def approve(self, who: str) -> None:
        self.approved_by = who

    @workflow.query("state")
    def state(self) -> dict[str, Any]:
        return {"approved_by": self.approved_by, "notes": self.notes}

    @workflow.update("add_note")
    def add_note(self, note: str) -> int:
        self.notes.append(note)
        return len(self.notes)


@workflow.defn(name="ui-ship")
class ShipWorkflow:
    def run(self, ctx: Any, order_id: str) -> str:
        return f"shipped {order_id}"


@workflow.defn(name="ui-batch")
class BatchWorkflow:
    """Starts a shipping child, then continues as new once (``round`` 0 -> 1)."""

    def run(self, ctx: Any, round_number: int) -> Any:
        shipped = yield ctx.start_child_workflow("ui-ship", [f"batch-{round_number}"])
        if round_number == 0:
            return ctx.continue_as_new(1)
        return shipped


class BackgroundWorker:
    """An SDK worker on its own event loop in a thread, for synchronous browser tests."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url, self.token = url, token
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: Worker | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        async with Client(self.url, token=self.token) as client:
            self._loop = asyncio.get_running_loop()
            self._worker = Worker(
                client,
                task_queue=QUEUE,
                workflows=[OrderWorkflow, ShipWorkflow, BatchWorkflow],
                activities=[charge],
                poll_timeout=1.0,
                shutdown_timeout=5.0,
            )
            self._ready.set()
            await self._worker.run()

    def __enter__(self) -> BackgroundWorker:
        self._thread.start()
        assert self._ready.wait(15), "worker did not start"
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None and self._worker is not None
        asyncio.run_coroutine_threadsafe(self._worker.stop(), self._loop).result(timeout=20)
        self._thread.join(timeout=20)
