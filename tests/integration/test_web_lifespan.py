"""contrib.web.WorkerLifespan inside a Starlette app served by uvicorn over real HTTP.

The lifespan opens the client, starts the worker and waits until the server knows
it; routes get the client from ``durable.client()`` or the request state; on shutdown
the worker stops and the client the lifespan opened is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.contrib.web import WorkerLifespan
from durable_workflow.testing import DevServerHandle, dev_server

QUEUE = "it-web-lifespan"


@activity.defn(name="wl-double")
def double(n: int) -> int:
    return n * 2


@workflow.defn(name="wl-doubler")
class Doubler:
    def run(self, ctx: Any, n: int) -> Any:
        return (yield ctx.schedule_activity("wl-double", [n]))


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` on a free port (lifespan on), with an HTTP client for it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the app did not start")
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="module")
def server() -> Iterator[DevServerHandle]:
    with dev_server(poll_timeout=2.0) as handle:
        yield handle


async def test_lifespan_runs_the_worker_and_serves_the_client(server: DevServerHandle) -> None:
    made: list[Client] = []

    def make_client() -> Client:
        made.append(Client(server.url, token=server.token))
        return made[-1]

    durable = WorkerLifespan(
        make_client,
        workers=[
            lambda c: Worker(
                c,
                task_queue=QUEUE,
                workflows=[Doubler],
                activities=[double],
                poll_timeout=2.0,
                shutdown_timeout=5.0,
            )
        ],
    )

    async def start(request: Request) -> JSONResponse:
        handle = await durable.client().start_workflow(
            workflow_type="wl-doubler",
            task_queue=QUEUE,
            workflow_id=f"wl-{uuid.uuid4().hex[:8]}",
            input=[int(request.query_params["n"])],
        )
        return JSONResponse({"workflow_id": handle.workflow_id})

    async def result(request: Request) -> JSONResponse:
        client: Client = request.state.durable_workflow_client
        handle = client.get_workflow_handle(request.path_params["workflow_id"])
        return JSONResponse({"result": await handle.result(timeout=20)})

    app = Starlette(
        routes=[Route("/start", start, methods=["POST"]), Route("/result/{workflow_id}", result)],
        lifespan=durable,
    )
    async with serving(app) as http:
        (worker,) = durable.workers
        assert worker._running
        workflow_id = (await http.post("/start?n=21")).json()["workflow_id"]
        assert (await http.get(f"/result/{workflow_id}")).json() == {"result": 42}
    assert not worker._running
    assert made and made[0]._http.is_closed
    with pytest.raises(RuntimeError, match="before the app started"):
        durable.client()


async def test_a_client_passed_in_stays_open_and_a_failing_worker_fails_start_up(
    server: DevServerHandle,
) -> None:
    client = Client(server.url, token=server.token)

    def broken(c: Client) -> Worker:
        raise ValueError("worker misconfigured")

    with pytest.raises(ValueError, match="worker misconfigured"):
        async with WorkerLifespan(client, workers=[broken])(None):
            pass
    durable = WorkerLifespan(client)
    async with serving(Starlette(lifespan=durable)):
        assert durable.client() is client
    assert not client._http.is_closed
    await client.aclose()
