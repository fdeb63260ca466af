"""Run workers inside an ASGI app (FastAPI, Starlette) and hand its routes a client.

``WorkerLifespan`` is an ASGI lifespan: on start-up it opens the client (or
takes yours), builds and starts the workers and waits until the server knows
them; on shutdown it stops them gracefully (in-flight tasks finish) and closes
a client it opened. ``lifespan.client`` is the dependency for routes::

    durable = WorkerLifespan(lambda: Client.from_env(), workers=[make_worker])
    app = FastAPI(lifespan=durable)

    @app.post("/orders")
    async def order(client: Annotated[Client, Depends(durable.client)]) -> dict: ...

Starlette routes call ``durable.client()`` (or read ``request.state.durable_workflow_client``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from durable_workflow import errors
from durable_workflow.client import Client
from durable_workflow.worker import Worker

__all__ = ["WorkerLifespan"]

ClientSource = Client | Callable[[], Client]
WorkerSource = Worker | Callable[[Client], Worker]


class WorkerLifespan:
    """An ASGI lifespan that runs ``workers`` for the app's lifetime (module docstring).

    ``client`` is a ``Client`` (left open: you own it) or a function making one
    (closed at shutdown). ``workers`` are ``Worker`` objects or functions from the
    client to one. ``ready_timeout`` bounds the wait for their registration.
    """

    def __init__(
        self,
        client: ClientSource,
        *,
        workers: Iterable[WorkerSource] = (),
        ready_timeout: float = 30.0,
    ) -> None:
        self._client_source = client
        self._worker_sources = tuple(workers)
        self.ready_timeout = ready_timeout
        self._client: Client | None = None
        self.workers: list[Worker] = []

    def client(self) -> Client:
        """The running app's client (a FastAPI dependency); raises outside the lifespan."""
        if self._client is None:
            raise RuntimeError("WorkerLifespan.client() used before the app started")
        return self._client

    def __call__(self, app: Any) -> contextlib.AbstractAsyncContextManager[dict[str, Any]]:
        return self._lifespan()

    @contextlib.asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[dict[str, Any]]:
        source = self._client_source
        owned = not isinstance(source, Client)
        client = source if isinstance(source, Client) else source()
        self.workers = [w if isinstance(w, Worker) else w(client) for w in self._worker_sources]
        runs = [asyncio.create_task(worker.run()) for worker in self.workers]
        try:
            await asyncio.wait_for(self._registered(client, runs), self.ready_timeout)
            self._client = client
            # Starlette copies this state onto each request: request.state.durable_workflow_client
            yield {"durable_workflow_client": client}
        finally:
            self._client = None
            for worker in self.workers:
                await worker.stop()
            results = await asyncio.gather(*runs, return_exceptions=True)
            if owned:
                await client.aclose()
            for result in results:
                if isinstance(result, Exception):
                    raise result

    async def _registered(self, client: Client, runs: list[asyncio.Task[None]]) -> None:
        for worker, run in zip(self.workers, runs, strict=True):
            while True:
                if run.done():
                    run.result()  # a worker that could not start raises here
                    raise RuntimeError(f"worker {worker.worker_id} stopped during start-up")
                try:
                    await client.describe_worker(worker.worker_id)
                    break
                except errors.DurableWorkflowError:
                    await asyncio.sleep(0.05)
